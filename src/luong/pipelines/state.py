"""State stores: a task's keyed state, cached in memory, durable through changelogs.

Layers, bottom up:

- A *backend* holds one store of one task (one partition) as bytes -> bytes:
  `RocksBackend` (rocksdict, RocksDB; the default) or `MemoryBackend` (tests and
  bounded runs). Its `write` applies a batch of changes and the changelog offset
  they bring the store up to (its *checkpoint*) atomically.
- A `StateStore` is what operators use: decoded values by key, read through from
  the backend and kept; changes wait in `dirty` until the worker commits. At a commit
  the worker takes `flush()` (the changed keys, encoded) to the changelog in the same
  transaction as the outputs and input offsets, and once that transaction is
  committed writes them to the backend with `committed()`. The backend therefore
  only ever holds committed state: after a crash it is behind, never ahead, and a
  restart replays just the changelog from its checkpoint (`Restorer` in the runtime).

Keys are bytes: user keys as canonical JSON (`codecs.key_bytes`), followed by
operator-specific suffixes. JSON text never holds a NUL byte, so keys starting with
b"\\x00" are the store's own: `STREAM_TIME_KEY` (goes to the changelog like any key)
and the checkpoint (local only, never in a scan or the changelog).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import orjson

__all__ = [
    "CHECKPOINT_KEY",
    "STREAM_TIME_KEY",
    "Backend",
    "MemoryBackend",
    "RocksBackend",
    "StateStore",
    "StoreChange",
    "WriteCount",
    "json_decode",
    "json_encode",
]

STREAM_TIME_KEY = b"\x00stream_time"
CHECKPOINT_KEY = b"\x00\x00checkpoint"
_OWN = b"\x00"
StoreChange = tuple[bytes, bytes | None]
_MISSING = object()
_DELETED = object()


def json_encode(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def json_decode(data: bytes) -> Any:
    return orjson.loads(data)


class Backend(Protocol):
    """One task's store on disk or in memory; owned by the worker's thread."""

    def get(self, key: bytes) -> bytes | None: ...

    def scan(self, start: bytes = b"", stop: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
        """Entries with start <= key < stop in key order, the store's own keys left out."""
        ...

    def write(self, changes: list[StoreChange], checkpoint: int | None) -> None:
        """Apply changes (None deletes) and set the checkpoint, all or nothing."""
        ...

    def checkpoint(self) -> int | None: ...

    def clear(self) -> None:
        """Remove every entry and the checkpoint."""
        ...

    def stats(self) -> tuple[int, int]:
        """(keys, bytes) as far as the backend can tell cheaply."""
        ...

    def close(self) -> None: ...


class MemoryBackend:
    """A dict; nothing survives the process. Scans sort the keys each time."""

    def __init__(self) -> None:
        self._data: dict[bytes, bytes] = {}
        self._checkpoint: int | None = None

    def get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def scan(self, start: bytes = b"", stop: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
        for key in sorted(self._data):
            if key < start or key.startswith(_OWN):
                continue
            if stop is not None and key >= stop:
                break
            yield key, self._data[key]

    def write(self, changes: list[StoreChange], checkpoint: int | None) -> None:
        for key, value in changes:
            if value is None:
                self._data.pop(key, None)
            else:
                self._data[key] = value
        if checkpoint is not None:
            self._checkpoint = checkpoint

    def checkpoint(self) -> int | None:
        return self._checkpoint

    def clear(self) -> None:
        self._data.clear()
        self._checkpoint = None

    def stats(self) -> tuple[int, int]:
        return len(self._data), sum(len(k) + len(v) for k, v in self._data.items())

    def close(self) -> None:
        pass


class RocksBackend:
    """A RocksDB database (rocksdict, raw bytes) in its own directory.

    The checkpoint is a key of the database itself, written in the same WriteBatch
    as the changes, so a crash leaves the database at some committed checkpoint.
    """

    def __init__(self, path: Path) -> None:
        from rocksdict import Options, Rdict, WriteOptions

        path.mkdir(parents=True, exist_ok=True)
        options = Options(raw_mode=True)
        options.create_if_missing(True)
        self.path = path
        self._db = Rdict(str(path), options)
        # No write-ahead log: the changelog is the durable copy. A crash loses the
        # memtable's latest batches whole (checkpoint included, it is in each batch),
        # leaving an older consistent state whose changelog tail the restore reads.
        unlogged = WriteOptions()
        # a property at run time; rocksdict's stub calls it a method
        unlogged.disable_wal = True  # type: ignore[method-assign,assignment]
        self._db.set_write_options(unlogged)

    def get(self, key: bytes) -> bytes | None:
        value: bytes | None = self._db.get(key)
        return value

    def scan(self, start: bytes = b"", stop: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
        it = self._db.iter()
        it.seek(max(start, b"\x01"))
        while it.valid():
            key: bytes = it.key()
            if stop is not None and key >= stop:
                break
            yield key, it.value()
            it.next()

    def write(self, changes: list[StoreChange], checkpoint: int | None) -> None:
        from rocksdict import WriteBatch

        batch = WriteBatch(raw_mode=True)
        for key, value in changes:
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
        if checkpoint is not None:
            batch.put(CHECKPOINT_KEY, str(checkpoint).encode())
        self._db.write(batch)

    def checkpoint(self) -> int | None:
        value = self._db.get(CHECKPOINT_KEY)
        return None if value is None else int(value)

    def clear(self) -> None:
        from rocksdict import WriteBatch

        batch = WriteBatch(raw_mode=True)
        for key in self._db.keys():  # noqa: SIM118 (an Rdict in raw mode does not iterate)
            batch.delete(key)
        self._db.write(batch)

    def stats(self) -> tuple[int, int]:
        keys = self._db.property_int_value("rocksdb.estimate-num-keys") or 0
        sst = self._db.property_int_value("rocksdb.total-sst-files-size") or 0
        mem = self._db.property_int_value("rocksdb.cur-size-all-mem-tables") or 0
        return int(keys), int(sst) + int(mem)

    def close(self) -> None:
        self._db.close()

    @staticmethod
    def destroy(path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)


class WriteCount:
    """How many state changes the stores sharing it have taken (the worker compares
    it around a record: a record that failed after changing state forces a rewind)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class StateStore:
    """One store of one task as its operators see it: decoded values by key.

    Values read are kept (up to `cache_size` keys between commits); changed ones stay
    in `dirty` until `flush()`. The store's own keys (b"\x00...") are JSON whatever
    `encode`/`decode` the operator gave. Operators may change a value they got in place; they
    call `put` to have it written. Owned by the worker's thread; interactive queries
    read it under the worker's lock.
    """

    def __init__(
        self,
        name: str,
        backend: Backend,
        encode: Callable[[Any], bytes] = json_encode,
        decode: Callable[[bytes], Any] = json_decode,
        cache_size: int = 200_000,
        writes: WriteCount | None = None,
    ) -> None:
        self.name = name
        self.writes = writes if writes is not None else WriteCount()
        self.backend = backend
        self._encode = encode
        self._decode = decode
        self._cache_size = cache_size
        self._values: dict[bytes, Any] = {}
        self._dirty: set[bytes] = set()

    def get(self, key: bytes) -> Any:
        value = self._values.get(key, _MISSING)
        if value is _MISSING:
            data = self.backend.get(key)
            if data is None:
                value = _DELETED
            else:
                value = json_decode(data) if key[:1] == _OWN else self._decode(data)
            self._values[key] = value
        return None if value is _DELETED else value

    def put(self, key: bytes, value: Any) -> None:
        self.writes.count += 1
        self._values[key] = value
        self._dirty.add(key)

    def delete(self, key: bytes) -> None:
        self.writes.count += 1
        self._values[key] = _DELETED
        self._dirty.add(key)

    def scan(self, start: bytes = b"", stop: bytes | None = None) -> Iterator[tuple[bytes, Any]]:
        """Committed and pending entries with start <= key < stop, in key order."""
        pending = {
            k: v
            for k, v in self._values.items()
            if k in self._dirty and k >= start and (stop is None or k < stop) and k[:1] != _OWN
        }
        stored = ((k, v) for k, v in self.backend.scan(start, stop) if k not in pending)
        merged = sorted(
            [*((k, self._decode(v)) for k, v in stored), *pending.items()], key=lambda kv: kv[0]
        )
        return ((k, v) for k, v in merged if v is not _DELETED)

    def prefix(self, prefix: bytes) -> Iterator[tuple[bytes, Any]]:
        return self.scan(prefix, _prefix_end(prefix))

    @property
    def has_changes(self) -> bool:
        return bool(self._dirty)

    def flush(self) -> list[StoreChange]:
        """The changes since the last flush, encoded (None deletes); dirty is emptied."""
        changes: list[StoreChange] = []
        for key in self._dirty:
            value = self._values[key]
            if value is _DELETED:
                changes.append((key, None))
            else:
                encode = json_encode if key[:1] == _OWN else self._encode
                changes.append((key, encode(value)))
        self._dirty.clear()
        return changes

    def committed(self, changes: list[StoreChange], checkpoint: int | None) -> None:
        """Changes from `flush()` are in a committed changelog up to `checkpoint`."""
        self.backend.write(changes, checkpoint)
        if len(self._values) > self._cache_size and not self._dirty:
            self._values.clear()

    def discard(self) -> None:
        """Forget what was not committed (after an aborted transaction)."""
        self._values.clear()
        self._dirty.clear()


def _prefix_end(prefix: bytes) -> bytes | None:
    """The first key after every key starting with `prefix`."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])
