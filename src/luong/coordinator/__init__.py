"""Coordinator state: committed offsets and consumer groups (transactions come next).

State changes only by replaying records, the same records that are written to
an internal, compacted topic: one durability mechanism, rebuilt on start-up.
"""

from luong.coordinator.offsets import OffsetAndMetadata, OffsetKey, OffsetStore

__all__ = ["OffsetAndMetadata", "OffsetKey", "OffsetStore"]
