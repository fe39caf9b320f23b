"""Durable partitioned logs behind one contract; engines chosen by URL."""

from luong.storage.api import (
    AppendListener,
    AppendResult,
    FileRegion,
    MemoryRegion,
    OffsetAndTimestamp,
    ReadResult,
    Region,
    Storage,
    TopicInfo,
)
from luong.storage.registry import open_storage

__all__ = [
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
]
