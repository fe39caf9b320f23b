"""Which operations a principal may perform on a resource, as Kafka's ACL model names them.

Until ACLs exist (issue 15) every principal may perform every operation a resource
type supports, except that clients never change internal topics (see
broker/internal.py): on those only READ, DESCRIBE and DESCRIBE_CONFIGS are
authorized. Metadata, DescribeCluster and DescribeGroups report the result as
Kafka's bit field (bit `1 << operation` set when authorized) when the client asks
(`include_*_authorized_operations`), and Kafka's "not asked" value otherwise.
"""

from __future__ import annotations

from enum import IntEnum

from luong.broker.internal import is_internal_topic

__all__ = [
    "NOT_ASKED",
    "AclOperation",
    "cluster_operations",
    "group_operations",
    "topic_operations",
]

NOT_ASKED = -(2**31)  # Kafka's value for authorized operations nobody asked for


class AclOperation(IntEnum):
    """Kafka's AclOperation codes."""

    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12


_TOPIC = (
    AclOperation.READ,
    AclOperation.WRITE,
    AclOperation.CREATE,
    AclOperation.DELETE,
    AclOperation.ALTER,
    AclOperation.DESCRIBE,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
)
_INTERNAL_TOPIC = (AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS)
_GROUP = (AclOperation.READ, AclOperation.DELETE, AclOperation.DESCRIBE)
_CLUSTER = (
    AclOperation.CREATE,
    AclOperation.ALTER,
    AclOperation.DESCRIBE,
    AclOperation.CLUSTER_ACTION,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
    AclOperation.IDEMPOTENT_WRITE,
)


def _bits(operations: tuple[AclOperation, ...]) -> int:
    return sum(1 << operation for operation in operations)


def topic_operations(name: str, asked: bool = True) -> int:
    if not asked:
        return NOT_ASKED
    return _bits(_INTERNAL_TOPIC if is_internal_topic(name) else _TOPIC)


def group_operations(group_id: str, asked: bool = True) -> int:
    return _bits(_GROUP) if asked else NOT_ASKED


def cluster_operations(asked: bool = True) -> int:
    return _bits(_CLUSTER) if asked else NOT_ASKED
