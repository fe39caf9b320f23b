"""The one tree of luong's errors, each mapped to its Kafka error code.

    LuongError (UNKNOWN_SERVER_ERROR, -1)
    ├── OffsetOutOfRangeError          1  OFFSET_OUT_OF_RANGE
    ├── CorruptRecordError             2  CORRUPT_MESSAGE
    ├── UnknownTopicOrPartitionError   3  UNKNOWN_TOPIC_OR_PARTITION
    ├── MessageTooLargeError          10  MESSAGE_TOO_LARGE
    ├── InvalidTopicError             17  INVALID_TOPIC_EXCEPTION
    ├── RecordListTooLargeError       18  RECORD_LIST_TOO_LARGE
    ├── InvalidRequiredAcksError      21  INVALID_REQUIRED_ACKS
    ├── InvalidTimestampError         32  INVALID_TIMESTAMP
    ├── UnsupportedVersionError       35  UNSUPPORTED_VERSION
    ├── TopicAlreadyExistsError       36  TOPIC_ALREADY_EXISTS
    ├── InvalidPartitionsError        37  INVALID_PARTITIONS
    ├── InvalidReplicationFactorError 38  INVALID_REPLICATION_FACTOR
    ├── InvalidReplicaAssignmentError 39  INVALID_REPLICA_ASSIGNMENT
    ├── InvalidConfigError            40  INVALID_CONFIG
    ├── InvalidRequestError           42  INVALID_REQUEST
    ├── PolicyViolationError          44  POLICY_VIOLATION
    ├── OutOfOrderSequenceError       45  OUT_OF_ORDER_SEQUENCE_NUMBER
    ├── InvalidProducerEpochError     47  INVALID_PRODUCER_EPOCH
    ├── InvalidTxnStateError          48  INVALID_TXN_STATE
    ├── InvalidProducerIdMappingError 49  INVALID_PRODUCER_ID_MAPPING
    ├── InvalidTransactionTimeoutError 50 INVALID_TRANSACTION_TIMEOUT
    ├── ConcurrentTransactionsError   51  CONCURRENT_TRANSACTIONS
    ├── KafkaStorageError             56  KAFKA_STORAGE_ERROR
    ├── UnknownProducerIdError        59  UNKNOWN_PRODUCER_ID
    ├── TopicDeletionDisabledError    73  TOPIC_DELETION_DISABLED
    ├── FencedLeaderEpochError        74  FENCED_LEADER_EPOCH
    ├── UnknownLeaderEpochError       75  UNKNOWN_LEADER_EPOCH
    ├── UnsupportedCompressionTypeError 76 UNSUPPORTED_COMPRESSION_TYPE
    ├── InvalidRecordError            87  INVALID_RECORD
    ├── ProducerFencedError           90  PRODUCER_FENCED
    ├── MismatchedEndpointTypeError  114  MISMATCHED_ENDPOINT_TYPE
    └── UnsupportedEndpointTypeError 115  UNSUPPORTED_ENDPOINT_TYPE

The Kafka listener answers with `error.error_code`; the HTTP gateway with a 4xx and
`str(error)`. Nothing else maps errors to codes.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ConcurrentTransactionsError",
    "CorruptRecordError",
    "FencedLeaderEpochError",
    "InvalidConfigError",
    "InvalidPartitionsError",
    "InvalidProducerEpochError",
    "InvalidProducerIdMappingError",
    "InvalidReplicationFactorError",
    "InvalidRequestError",
    "InvalidRequiredAcksError",
    "InvalidRecordError",
    "InvalidReplicaAssignmentError",
    "InvalidTimestampError",
    "InvalidTopicError",
    "InvalidTransactionTimeoutError",
    "InvalidTxnStateError",
    "KafkaStorageError",
    "LuongError",
    "MessageTooLargeError",
    "MismatchedEndpointTypeError",
    "OffsetOutOfRangeError",
    "OutOfOrderSequenceError",
    "PolicyViolationError",
    "ProducerFencedError",
    "RecordListTooLargeError",
    "TopicAlreadyExistsError",
    "TopicDeletionDisabledError",
    "UnknownLeaderEpochError",
    "UnknownProducerIdError",
    "UnknownTopicOrPartitionError",
    "UnsupportedCompressionTypeError",
    "UnsupportedEndpointTypeError",
    "UnsupportedVersionError",
]


class LuongError(Exception):
    """Base of every error luong raises on purpose; `error_code` is Kafka's code."""

    error_code: ClassVar[int] = -1


class OffsetOutOfRangeError(LuongError):
    error_code = 1


class CorruptRecordError(LuongError):
    """A record batch fails its length or CRC32C check, or is truncated."""

    error_code = 2


class UnknownTopicOrPartitionError(LuongError):
    error_code = 3


class MessageTooLargeError(LuongError):
    """A batch is larger than the topic's `max.message.bytes`."""

    error_code = 10


class InvalidTopicError(LuongError):
    error_code = 17


class RecordListTooLargeError(LuongError):
    error_code = 18


class InvalidRequiredAcksError(LuongError):
    error_code = 21


class InvalidTimestampError(LuongError):
    error_code = 32


class UnsupportedVersionError(LuongError):
    error_code = 35


class TopicAlreadyExistsError(LuongError):
    error_code = 36


class InvalidPartitionsError(LuongError):
    error_code = 37


class InvalidReplicationFactorError(LuongError):
    error_code = 38


class InvalidReplicaAssignmentError(LuongError):
    """Manual replica assignments that do not fit: wrong count, or a node other than this one."""

    error_code = 39


class InvalidConfigError(LuongError):
    error_code = 40


class InvalidRequestError(LuongError):
    """A request that cannot be parsed or makes no sense."""

    error_code = 42


class PolicyViolationError(LuongError):
    error_code = 44


class OutOfOrderSequenceError(LuongError):
    """A producer's batch does not follow its last sequence (or a new epoch not from 0)."""

    error_code = 45


class InvalidProducerEpochError(LuongError):
    """A produce with an epoch older than the producer's current one."""

    error_code = 47


class InvalidTxnStateError(LuongError):
    """A request that does not fit the transaction's state."""

    error_code = 48


class InvalidProducerIdMappingError(LuongError):
    """The producer id does not belong to the transactional id (or it has none)."""

    error_code = 49


class InvalidTransactionTimeoutError(LuongError):
    """transaction.timeout.ms above transaction.max.timeout.ms (or not positive)."""

    error_code = 50


class ConcurrentTransactionsError(LuongError):
    """The previous transaction of this transactional id is still being completed."""

    error_code = 51


class KafkaStorageError(LuongError):
    """The storage failed underneath (disk error, closed storage)."""

    error_code = 56


class UnknownProducerIdError(LuongError):
    """A producer id this cluster never allocated."""

    error_code = 59


class TopicDeletionDisabledError(LuongError):
    error_code = 73


class FencedLeaderEpochError(LuongError):
    """The client's current leader epoch is older than the leader's."""

    error_code = 74


class UnknownLeaderEpochError(LuongError):
    """The client's current leader epoch is newer than the leader's."""

    error_code = 75


class UnsupportedCompressionTypeError(LuongError):
    error_code = 76


class InvalidRecordError(LuongError):
    """A well-formed batch that luong refuses: magic other than 2, a keyless record on a
    compacted topic, an undecodable record."""

    error_code = 87


class ProducerFencedError(LuongError):
    """A newer instance of the transactional id has bumped the epoch."""

    error_code = 90


class MismatchedEndpointTypeError(LuongError):
    """DescribeCluster asked for controller endpoints of a broker endpoint."""

    error_code = 114


class UnsupportedEndpointTypeError(LuongError):
    """DescribeCluster asked for an endpoint type that does not exist."""

    error_code = 115
