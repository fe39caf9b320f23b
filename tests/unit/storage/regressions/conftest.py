"""Regression tests from the storage review: each test names a defect that was found and
asserts it stays fixed. Helpers: simulate a kill -9 of a LogStorage (nothing closed,
nothing flushed beyond what the storage already did; the page cache survives)."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from luong.storage.log import LogStorage


def _crash(storage: LogStorage) -> None:
    """Abandon `storage` as a kill -9 would: no close, no checkpoint, no marker."""
    storage._flusher.executor.shutdown(wait=True)
    storage._cleaner.shutdown(wait=True)
    os.close(storage._lock_fd)


@pytest.fixture
def crash() -> Callable[[LogStorage], None]:
    return _crash
