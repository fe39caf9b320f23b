"""The local-disk engine (`log:///path`): segments, indexes, recovery, retention, cleaner."""

from luong.storage.log.storage import LogStorage

__all__ = ["LogStorage"]
