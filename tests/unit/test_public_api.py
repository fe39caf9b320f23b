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
        "rebuild_batch",
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
    "luong.testing.storage_conformance": {
        "PersistentStorageConformance",
        "StorageConformance",
        "scenario",
        "values_from",
    },
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_all_lists_exactly_the_public_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert set(module.__all__) == PUBLIC[module_name]
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.{name} is listed but missing"


def _every_module() -> list[str]:
    import pkgutil

    import luong

    names = [info.name for info in pkgutil.walk_packages(luong.__path__, "luong.")]
    return sorted(["luong", *(n for n in names if not n.endswith("__main__"))])


@pytest.mark.parametrize("module_name", _every_module())
def test_every_public_function_and_class_is_in_all(module_name: str) -> None:
    """Each module states its public surface: a function or class it defines without a
    leading underscore is in its `__all__` (or it must be made private), and what
    `__all__` lists exists."""
    import inspect

    module = importlib.import_module(module_name)
    assert hasattr(module, "__all__"), f"{module_name} has no __all__"
    defined = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__ == module_name
    }
    assert defined - set(module.__all__) == set(), f"public but not in {module_name}.__all__"
    assert [n for n in module.__all__ if not hasattr(module, n)] == []
