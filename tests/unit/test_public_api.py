"""The public surface is stated with __all__; this test fails when it drifts."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "luong.errors": {
        "CorruptRecordError",
        "UnknownProducerIdError",
        "ProducerFencedError",
        "OutOfOrderSequenceError",
        "InvalidTxnStateError",
        "InvalidTransactionTimeoutError",
        "InvalidProducerIdMappingError",
        "InvalidProducerEpochError",
        "ConcurrentTransactionsError",
        "ErrorCode",
        "FencedLeaderEpochError",
        "InvalidConfigError",
        "InvalidReplicaAssignmentError",
        "MismatchedEndpointTypeError",
        "UnknownLeaderEpochError",
        "UnsupportedEndpointTypeError",
        "InvalidPartitionsError",
        "InvalidRecordError",
        "InvalidReplicationFactorError",
        "InvalidRequestError",
        "InvalidRequiredAcksError",
        "InvalidTimestampError",
        "PolicyViolationError",
        "UnsupportedVersionError",
        "InvalidTopicError",
        "KafkaStorageError",
        "LuongError",
        "MessageTooLargeError",
        "OffsetOutOfRangeError",
        "RecordListTooLargeError",
        "TopicAlreadyExistsError",
        "TopicAuthorizationFailedError",
        "TopicDeletionDisabledError",
        "UnknownTopicOrPartitionError",
        "UnsupportedCompressionTypeError",
    },
    "luong.types": {"EARLIEST_TIMESTAMP", "LATEST_TIMESTAMP", "MAX_TIMESTAMP", "TopicPartition"},
    "luong.clock": {"Clock", "ManualClock", "SystemClock"},
    "luong.config": {
        "BROKER_CONFIGS",
        "TOPIC_CONFIGS",
        "TOPIC_DEFAULT_NAMES",
        "BrokerConfig",
        "ConfigDef",
        "FlushPolicy",
        "TopicConfig",
        "parse_value",
    },
    "luong.protocol.records": {
        "BATCH_HEADER_SIZE",
        "LOG_OVERHEAD",
        "BatchHeader",
        "Compression",
        "ControlType",
        "Header",
        "Record",
        "RecordBatch",
        "TimestampType",
        "build_batch",
        "build_marker",
        "check_batch",
        "compress",
        "control_type",
        "decode_batch",
        "decode_batches",
        "decompress",
        "recompress",
        "set_base_offset",
        "split_batches",
        "stamp_header",
        "stamp_prefix",
    },
    "luong.storage": {
        "AppendListener",
        "AppendResult",
        "FileRegion",
        "MemoryRegion",
        "OffsetAndTimestamp",
        "ReadResult",
        "Region",
        "Storage",
        "TopicInfo",
        "open_storage",
    },
    "luong.storage.log": {"LogStorage"},
    "luong.storage.memory": {"MemoryStorage"},
    "luong.testing": {"ManualClock", "make_batch"},
    "luong.testing.storage_conformance": {"PersistentStorageConformance", "StorageConformance"},
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_all_lists_exactly_the_public_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert set(module.__all__) == PUBLIC[module_name]
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.{name} is listed but missing"
