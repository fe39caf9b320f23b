"""Every storage engine runs the one conformance suite."""

from __future__ import annotations

from pathlib import Path

from luong.clock import ManualClock
from luong.storage import Storage, open_storage
from luong.testing.storage_conformance import PersistentStorageConformance, StorageConformance


class TestMemoryStorage(StorageConformance):
    def open(self, path: Path, clock: ManualClock) -> Storage:
        return open_storage("memory://", clock)


class TestLogStorage(PersistentStorageConformance):
    def open(self, path: Path, clock: ManualClock) -> Storage:
        return open_storage(f"log://{path}", clock)
