"""The in-memory reference engine (`memory://`)."""

from luong.storage.memory.storage import MemoryStorage

__all__ = ["MemoryStorage"]
