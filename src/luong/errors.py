"""The one tree of luong's errors, each mapped to its Kafka error code.

    LuongError (UNKNOWN_SERVER_ERROR, -1)
    ├── OffsetOutOfRangeError          1  OFFSET_OUT_OF_RANGE
    ├── CorruptRecordError             2  CORRUPT_MESSAGE
    ├── UnknownTopicOrPartitionError   3  UNKNOWN_TOPIC_OR_PARTITION
    ├── MessageTooLargeError          10  MESSAGE_TOO_LARGE
    ├── InvalidTopicError             17  INVALID_TOPIC_EXCEPTION
    ├── RecordListTooLargeError       18  RECORD_LIST_TOO_LARGE
    ├── InvalidRequiredAcksError      21  INVALID_REQUIRED_ACKS
    ├── TopicAuthorizationFailedError 29  TOPIC_AUTHORIZATION_FAILED
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

Kafka's error codes themselves are `ErrorCode` members, each with its `retriable`
flag as Kafka's clients classify it. The Kafka listener answers with
`error.error_code` (or an `ErrorCode` a coordinator returns); the HTTP gateway with
a 4xx and `str(error)`, or 500 with 50002/50003 by `ErrorCode(...).retriable`.
Nothing else maps errors to codes: no bare error numbers elsewhere.
"""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar

__all__ = [
    "ConcurrentTransactionsError",
    "ErrorCode",
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
    "TopicAuthorizationFailedError",
    "TopicDeletionDisabledError",
    "UnknownLeaderEpochError",
    "UnknownProducerIdError",
    "UnknownTopicOrPartitionError",
    "UnsupportedCompressionTypeError",
    "UnsupportedEndpointTypeError",
    "UnsupportedVersionError",
]


class ErrorCode(IntEnum):
    """Kafka's error codes (the `Errors` table of Apache Kafka), those luong answers."""

    UNKNOWN_SERVER_ERROR = -1
    NONE = 0
    OFFSET_OUT_OF_RANGE = 1
    CORRUPT_MESSAGE = 2
    UNKNOWN_TOPIC_OR_PARTITION = 3
    LEADER_NOT_AVAILABLE = 5
    NOT_LEADER_OR_FOLLOWER = 6
    REQUEST_TIMED_OUT = 7
    MESSAGE_TOO_LARGE = 10
    OFFSET_METADATA_TOO_LARGE = 12
    NETWORK_EXCEPTION = 13
    COORDINATOR_LOAD_IN_PROGRESS = 14
    COORDINATOR_NOT_AVAILABLE = 15
    NOT_COORDINATOR = 16
    INVALID_TOPIC_EXCEPTION = 17
    RECORD_LIST_TOO_LARGE = 18
    NOT_ENOUGH_REPLICAS = 19
    NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20
    INVALID_REQUIRED_ACKS = 21
    ILLEGAL_GENERATION = 22
    INCONSISTENT_GROUP_PROTOCOL = 23
    INVALID_GROUP_ID = 24
    UNKNOWN_MEMBER_ID = 25
    INVALID_SESSION_TIMEOUT = 26
    REBALANCE_IN_PROGRESS = 27
    TOPIC_AUTHORIZATION_FAILED = 29
    GROUP_AUTHORIZATION_FAILED = 30
    CLUSTER_AUTHORIZATION_FAILED = 31
    INVALID_TIMESTAMP = 32
    UNSUPPORTED_VERSION = 35
    TOPIC_ALREADY_EXISTS = 36
    INVALID_PARTITIONS = 37
    INVALID_REPLICATION_FACTOR = 38
    INVALID_REPLICA_ASSIGNMENT = 39
    INVALID_CONFIG = 40
    INVALID_REQUEST = 42
    POLICY_VIOLATION = 44
    OUT_OF_ORDER_SEQUENCE_NUMBER = 45
    INVALID_PRODUCER_EPOCH = 47
    INVALID_TXN_STATE = 48
    INVALID_PRODUCER_ID_MAPPING = 49
    INVALID_TRANSACTION_TIMEOUT = 50
    CONCURRENT_TRANSACTIONS = 51
    TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53
    OPERATION_NOT_ATTEMPTED = 55
    KAFKA_STORAGE_ERROR = 56
    UNKNOWN_PRODUCER_ID = 59
    NON_EMPTY_GROUP = 68
    GROUP_ID_NOT_FOUND = 69
    TOPIC_DELETION_DISABLED = 73
    FENCED_LEADER_EPOCH = 74
    UNKNOWN_LEADER_EPOCH = 75
    UNSUPPORTED_COMPRESSION_TYPE = 76
    MEMBER_ID_REQUIRED = 79
    GROUP_MAX_SIZE_REACHED = 81
    FENCED_INSTANCE_ID = 82
    GROUP_SUBSCRIBED_TO_TOPIC = 86
    INVALID_RECORD = 87
    UNSTABLE_OFFSET_COMMIT = 88
    PRODUCER_FENCED = 90
    TRANSACTIONAL_ID_NOT_FOUND = 105
    MISMATCHED_ENDPOINT_TYPE = 114
    UNSUPPORTED_ENDPOINT_TYPE = 115

    @property
    def retriable(self) -> bool:
        """Whether Kafka's clients retry on it (a RetriableException in Kafka)."""
        return self in _RETRIABLE


_RETRIABLE = frozenset(
    {
        ErrorCode.CORRUPT_MESSAGE,
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        ErrorCode.LEADER_NOT_AVAILABLE,
        ErrorCode.NOT_LEADER_OR_FOLLOWER,
        ErrorCode.REQUEST_TIMED_OUT,
        ErrorCode.NETWORK_EXCEPTION,
        ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
        ErrorCode.COORDINATOR_NOT_AVAILABLE,
        ErrorCode.NOT_COORDINATOR,
        ErrorCode.NOT_ENOUGH_REPLICAS,
        ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        ErrorCode.CONCURRENT_TRANSACTIONS,
        ErrorCode.KAFKA_STORAGE_ERROR,
        ErrorCode.FENCED_LEADER_EPOCH,
        ErrorCode.UNKNOWN_LEADER_EPOCH,
        ErrorCode.UNSTABLE_OFFSET_COMMIT,
    }
)


class LuongError(Exception):
    """Base of every error luong raises on purpose; `error_code` is Kafka's code."""

    error_code: ClassVar[ErrorCode] = ErrorCode.UNKNOWN_SERVER_ERROR
    # (index of the record in the partition's records, why) when records refused a
    # batch: Produce answers them as record_errors (KIP-467)
    record_errors: tuple[tuple[int, str], ...] = ()


class _RecordLevelError(LuongError):
    """A refusal that may name the records that caused it."""

    def __init__(self, message: str, record_errors: tuple[tuple[int, str], ...] = ()) -> None:
        super().__init__(message)
        self.record_errors = record_errors


class OffsetOutOfRangeError(LuongError):
    error_code = ErrorCode.OFFSET_OUT_OF_RANGE


class CorruptRecordError(LuongError):
    """A record batch fails its length or CRC32C check, or is truncated."""

    error_code = ErrorCode.CORRUPT_MESSAGE


class UnknownTopicOrPartitionError(LuongError):
    error_code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION


class MessageTooLargeError(_RecordLevelError):
    """A batch is larger than the topic's `max.message.bytes`."""

    error_code = ErrorCode.MESSAGE_TOO_LARGE


class InvalidTopicError(LuongError):
    error_code = ErrorCode.INVALID_TOPIC_EXCEPTION


class RecordListTooLargeError(LuongError):
    error_code = ErrorCode.RECORD_LIST_TOO_LARGE


class InvalidRequiredAcksError(LuongError):
    error_code = ErrorCode.INVALID_REQUIRED_ACKS


class TopicAuthorizationFailedError(LuongError):
    """The client may not do this to this topic (an internal topic, for now)."""

    error_code = ErrorCode.TOPIC_AUTHORIZATION_FAILED


class InvalidTimestampError(LuongError):
    error_code = ErrorCode.INVALID_TIMESTAMP


class UnsupportedVersionError(LuongError):
    error_code = ErrorCode.UNSUPPORTED_VERSION


class TopicAlreadyExistsError(LuongError):
    error_code = ErrorCode.TOPIC_ALREADY_EXISTS


class InvalidPartitionsError(LuongError):
    error_code = ErrorCode.INVALID_PARTITIONS


class InvalidReplicationFactorError(LuongError):
    error_code = ErrorCode.INVALID_REPLICATION_FACTOR


class InvalidReplicaAssignmentError(LuongError):
    """Manual replica assignments that do not fit: wrong count, or a node other than this one."""

    error_code = ErrorCode.INVALID_REPLICA_ASSIGNMENT


class InvalidConfigError(LuongError):
    error_code = ErrorCode.INVALID_CONFIG


class InvalidRequestError(LuongError):
    """A request that cannot be parsed or makes no sense."""

    error_code = ErrorCode.INVALID_REQUEST


class PolicyViolationError(LuongError):
    error_code = ErrorCode.POLICY_VIOLATION


class OutOfOrderSequenceError(LuongError):
    """A producer's batch does not follow its last sequence (or a new epoch not from 0)."""

    error_code = ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER


class InvalidProducerEpochError(LuongError):
    """A produce with an epoch older than the producer's current one."""

    error_code = ErrorCode.INVALID_PRODUCER_EPOCH


class InvalidTxnStateError(LuongError):
    """A request that does not fit the transaction's state."""

    error_code = ErrorCode.INVALID_TXN_STATE


class InvalidProducerIdMappingError(LuongError):
    """The producer id does not belong to the transactional id (or it has none)."""

    error_code = ErrorCode.INVALID_PRODUCER_ID_MAPPING


class InvalidTransactionTimeoutError(LuongError):
    """transaction.timeout.ms above transaction.max.timeout.ms (or not positive)."""

    error_code = ErrorCode.INVALID_TRANSACTION_TIMEOUT


class ConcurrentTransactionsError(LuongError):
    """The previous transaction of this transactional id is still being completed."""

    error_code = ErrorCode.CONCURRENT_TRANSACTIONS


class KafkaStorageError(LuongError):
    """The storage failed underneath (disk error, closed storage)."""

    error_code = ErrorCode.KAFKA_STORAGE_ERROR


class UnknownProducerIdError(LuongError):
    """A producer id this cluster never allocated."""

    error_code = ErrorCode.UNKNOWN_PRODUCER_ID


class TopicDeletionDisabledError(LuongError):
    error_code = ErrorCode.TOPIC_DELETION_DISABLED


class FencedLeaderEpochError(LuongError):
    """The client's current leader epoch is older than the leader's."""

    error_code = ErrorCode.FENCED_LEADER_EPOCH


class UnknownLeaderEpochError(LuongError):
    """The client's current leader epoch is newer than the leader's."""

    error_code = ErrorCode.UNKNOWN_LEADER_EPOCH


class UnsupportedCompressionTypeError(LuongError):
    error_code = ErrorCode.UNSUPPORTED_COMPRESSION_TYPE


class InvalidRecordError(_RecordLevelError):
    """A well-formed batch that luong refuses: magic other than 2, a keyless record on a
    compacted topic, an undecodable record."""

    error_code = ErrorCode.INVALID_RECORD


class ProducerFencedError(LuongError):
    """A newer instance of the transactional id has bumped the epoch."""

    error_code = ErrorCode.PRODUCER_FENCED


class MismatchedEndpointTypeError(LuongError):
    """DescribeCluster asked for controller endpoints of a broker endpoint."""

    error_code = ErrorCode.MISMATCHED_ENDPOINT_TYPE


class UnsupportedEndpointTypeError(LuongError):
    """DescribeCluster asked for an endpoint type that does not exist."""

    error_code = ErrorCode.UNSUPPORTED_ENDPOINT_TYPE
