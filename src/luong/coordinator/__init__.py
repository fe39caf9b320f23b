"""Coordinator state machines: committed offsets (OffsetStore), consumer groups
(GroupCoordinator) and transactions (TransactionCoordinator).

State changes only by replaying records, the same records that are written to an
internal, compacted topic (`__consumer_offsets`, `__transaction_state`): one
durability mechanism, rebuilt on start-up. Pure: time comes in as arguments, and
nothing here does I/O or schedules anything (an import-linter contract keeps it
so); the broker's services (luong.broker.offsets, groups, transactions) run them
on the event loop and write their records.
"""

from luong.coordinator.offsets import OffsetAndMetadata, OffsetKey, OffsetStore

__all__ = ["OffsetAndMetadata", "OffsetKey", "OffsetStore"]
