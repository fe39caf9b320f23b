"""Where a worker keeps its local state, and the id that fences its predecessors.

A worker takes the first free slot `STATE_DIR/<pipeline>/<n>` (n = 0, 1, ...),
holding an exclusive lock on `<slot>/LOCK` while it runs: several workers of one
pipeline on one machine get separate slots, and a worker restarted on the same
machine takes its old slot back, with its local stores (restoring only the tail of
their changelogs) and its `worker-id`. The transactional id is `<pipeline>-<worker
id>`: a restarted worker fences its killed predecessor and aborts its open
transaction at once (Kafka Streams keeps its process id in its state directory for
the same reason).
"""

from __future__ import annotations

import fcntl
import os
import uuid
from pathlib import Path
from typing import IO

__all__ = ["Slot", "take_slot"]


class Slot:
    """A locked slot directory; `release()` (or process exit) frees it."""

    def __init__(self, path: Path, lock: IO[str], worker_id: str) -> None:
        self.path = path
        self.worker_id = worker_id
        self._lock = lock

    def store_path(self, store: str, partition: int) -> Path:
        return self.path / "stores" / f"{store}-{partition}"

    def release(self) -> None:
        self._lock.close()


def take_slot(state_dir: Path, pipeline: str, limit: int = 1024) -> Slot:
    """The first slot of `pipeline` under `state_dir` no running worker holds."""
    base = state_dir / pipeline
    for index in range(limit):
        path = base / str(index)
        path.mkdir(parents=True, exist_ok=True)
        lock = open(path / "LOCK", "w")  # noqa: SIM115 (held until release)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        lock.write(str(os.getpid()))
        lock.flush()
        return Slot(path, lock, _worker_id(path))
    raise RuntimeError(f"{limit} workers of {pipeline} already hold slots under {state_dir}")


def _worker_id(path: Path) -> str:
    file = path / "worker-id"
    if file.exists():
        return file.read_text().strip()
    worker_id = uuid.uuid4().hex[:12]
    file.write_text(worker_id + "\n")
    return worker_id
