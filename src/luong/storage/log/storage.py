"""LogStorage: the local-disk engine (`log:///path`).

Data directory layout (see docs/formats.md):

    .lock                               held (flock) while a storage has it open
    .clean-shutdown                     written by close, removed by open
    recovery-point-offset-checkpoint    JSON: per partition, its durable RecoveryPoint and
                                        its producer state snapshot
    topics/<topic>.json                 {"name", "topic_id", "partitions", "configs"}
    <topic>-<partition>/                a PartitionLog's directory

Owned by one event loop: every method runs on it. fsync runs on the Flusher's
thread, compaction on the cleaner's thread, neither ever on the loop's thread.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace
from typing import Any

from luong.clock import Clock, SystemClock
from luong.config import FlushPolicy, TopicConfig
from luong.errors import (
    KafkaStorageError,
)
from luong.storage.api import AppendResult, OffsetAndTimestamp, ReadResult, TopicInfo
from luong.storage.base import AppendingStorage
from luong.storage.common import (
    check_delete_records_offset,
    check_partition,
    grown_topic,
    new_topic,
)
from luong.storage.log.cleaner import clean_segments
from luong.storage.log.files import fsync_directory, write_atomically
from luong.storage.log.flusher import Flusher
from luong.storage.log.loader import load_partition
from luong.storage.log.partition_log import PartitionLog, RecoveryPoint
from luong.storage.log.producer_state import rebuild_producer_state, snapshot_producer_state
from luong.storage.log.segment import LogSegment
from luong.types import LATEST_TIMESTAMP, TopicPartition

__all__ = ["LogStorage"]

CHECKPOINT_FILE = "recovery-point-offset-checkpoint"
CLEAN_SHUTDOWN_FILE = ".clean-shutdown"
LOCK_FILE = ".lock"
TOPICS_DIR = "topics"


class LogStorage(AppendingStorage):
    """Partitioned logs in a local directory."""

    def __init__(
        self,
        path: str,
        clock: Clock | None = None,
        *,
        topic_defaults: Mapping[str, str] | None = None,
        checkpoint_interval_ms: int = 60_000,
        checkpoint_bytes: int = 64 << 20,
        cleaner_max_map_entries: int = 500_000,
    ) -> None:
        self.path = os.path.abspath(path)
        self._clock = clock or SystemClock()
        self._topic_defaults = dict(topic_defaults or {})
        self.checkpoint_interval_ms = checkpoint_interval_ms
        self.checkpoint_bytes = checkpoint_bytes
        self._bytes_since_checkpoint = 0
        self._checkpoint_task: asyncio.Task[None] | None = None
        self._checkpoint_lock = asyncio.Lock()  # one checkpoint file write at a time
        self._metadata_lock = asyncio.Lock()  # topic files and log start offsets
        self._maintenance_lock = asyncio.Lock()  # one maintenance pass; close waits for it
        self.cleaner_max_map_entries = cleaner_max_map_entries
        os.makedirs(os.path.join(self.path, TOPICS_DIR), exist_ok=True)
        self._lock_fd = _lock(os.path.join(self.path, LOCK_FILE))
        self._topics: dict[str, TopicInfo] = {}
        self._logs: dict[TopicPartition, PartitionLog] = {}
        self._graveyard: list[tuple[int, LogSegment]] = []  # (close at ms, segment)
        self._flusher = Flusher()
        self._cleaner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="luong-cleaner")
        self._last_checkpoint_ms = self._clock.time_ms()
        self._closed = False
        self._load()

    # -- opening ---------------------------------------------------------------------

    def _load(self) -> None:
        marker = os.path.join(self.path, CLEAN_SHUTDOWN_FILE)
        clean = os.path.exists(marker)
        points, snapshots = self._read_checkpoint()
        for info in self._read_topic_files():
            self._topics[info.name] = info
            for partition in range(info.partitions):
                tp = TopicPartition(info.name, partition)
                topic_id, point = points.get(str(tp), ("", None))
                ours = topic_id == str(info.topic_id)  # not a namesake's
                log = load_partition(
                    self._partition_dir(tp),
                    info.config,
                    self._clock.time_ms(),
                    point if ours else None,
                    clean=clean,
                )
                snapshot = snapshots.get(str(tp)) if ours else None
                rebuild_producer_state(log, snapshot, self._clock.time_ms())
                self._logs[tp] = log
        self._remove_leftovers()
        if clean:
            os.unlink(marker)
            fsync_directory(self.path)

    def _read_topic_files(self) -> list[TopicInfo]:
        infos = []
        directory = os.path.join(self.path, TOPICS_DIR)
        for name in sorted(os.listdir(directory)):
            if not name.endswith(".json"):
                continue
            with open(os.path.join(directory, name), encoding="utf-8") as file:
                meta = json.load(file)
            infos.append(
                TopicInfo(
                    meta["name"],
                    uuid.UUID(meta["topic_id"]),
                    meta["partitions"],
                    TopicConfig.from_overrides(meta["configs"], self._topic_defaults),
                )
            )
        return infos

    def _read_checkpoint(
        self,
    ) -> tuple[dict[str, tuple[str, RecoveryPoint]], dict[str, dict[str, Any]]]:
        """Partition name → (topic id, recovery point), and partition name → producer
        state snapshot (of the same topic id); both empty if unreadable."""
        try:
            with open(os.path.join(self.path, CHECKPOINT_FILE), encoding="utf-8") as file:
                content = json.load(file)
            points = {
                name: (entry.pop("topic_id"), RecoveryPoint(**entry))
                for name, entry in content["partitions"].items()
            }
            snapshots = content.get("producers", {})
            return points, {n: s for n, s in snapshots.items() if n in points}
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return {}, {}

    def _remove_leftovers(self) -> None:
        """Partition directories of deleted or half-created topics go."""
        live = {self._partition_dir(tp) for tp in self._logs}
        for name in os.listdir(self.path):
            full = os.path.join(self.path, name)
            if os.path.isdir(full) and name != TOPICS_DIR and full not in live:
                shutil.rmtree(full, ignore_errors=True)

    def _partition_dir(self, tp: TopicPartition) -> str:
        return os.path.join(self.path, f"{tp.topic}-{tp.partition}")

    # -- topics ----------------------------------------------------------------------

    def topics(self) -> Mapping[str, TopicInfo]:
        return dict(self._topics)

    def find_topic(self, name: str) -> TopicInfo | None:
        return self._topics.get(name)

    async def create_topic(
        self, name: str, partitions: int, configs: Mapping[str, str | None] | None = None
    ) -> TopicInfo:
        self._check_open()
        async with self._metadata_lock:
            info = new_topic(name, partitions, configs, self._topics, self._topic_defaults)
            await self._store_partitions(info, range(partitions))
            self._topics[name] = info
        return info

    async def _store_partitions(self, info: TopicInfo, partitions: range) -> None:
        """Create partition directories, then the topic file (its commit point), off the loop."""
        logs = await asyncio.to_thread(self._open_partitions, info, partitions)
        await asyncio.to_thread(self._write_topic_file, info)
        self._logs.update(logs)

    def _open_partitions(
        self, info: TopicInfo, partitions: range
    ) -> dict[TopicPartition, PartitionLog]:
        now = self._clock.time_ms()
        logs = {}
        for partition in partitions:
            tp = TopicPartition(info.name, partition)
            directory = self._partition_dir(tp)
            shutil.rmtree(directory, ignore_errors=True)  # a leftover of a crashed create
            os.makedirs(directory)
            logs[tp] = load_partition(directory, info.config, now, None, clean=True)
            fsync_directory(directory)  # the first segment's files
        fsync_directory(self.path)
        return logs

    def _write_topic_file(self, info: TopicInfo) -> None:
        meta = {
            "name": info.name,
            "topic_id": str(info.topic_id),
            "partitions": info.partitions,
            "configs": dict(info.config.overrides),
        }
        path = os.path.join(self.path, TOPICS_DIR, f"{info.name}.json")
        write_atomically(path, json.dumps(meta, indent=1))
        fsync_directory(os.path.dirname(path))

    def _remove_topic_file(self, name: str) -> None:
        os.unlink(os.path.join(self.path, TOPICS_DIR, f"{name}.json"))
        fsync_directory(os.path.join(self.path, TOPICS_DIR))

    async def delete_topic(self, name: str) -> None:
        self._check_open()
        async with self._metadata_lock:
            info = self.topic(name)
            await asyncio.to_thread(self._remove_topic_file, name)
            del self._topics[name]
            logs = [self._logs.pop(TopicPartition(name, p)) for p in range(info.partitions)]
            # move the directories aside now, so a topic re-created under the same name
            # gets fresh ones (Kafka renames them to *-delete too)
            doomed = await asyncio.to_thread(_move_aside, [log.directory for log in logs])
        await self._flusher.drain()  # no pass may still hold these descriptors
        for log in logs:
            self._bury(log, log.segments, unlink=False)
            os.close(log.directory_fd)
        await asyncio.to_thread(_remove_trees, doomed)

    async def create_partitions(self, name: str, total: int) -> TopicInfo:
        self._check_open()
        async with self._metadata_lock:
            info = self.topic(name)
            grown = grown_topic(info, total)
            await self._store_partitions(grown, range(info.partitions, total))
            self._topics[name] = grown
        return grown

    async def alter_topic_configs(self, name: str, changes: Mapping[str, str | None]) -> TopicInfo:
        self._check_open()
        async with self._metadata_lock:
            info = self.topic(name)
            altered = replace(info, config=info.config.with_overrides(changes))
            await asyncio.to_thread(self._write_topic_file, altered)
            self._topics[name] = altered
            for partition in range(altered.partitions):
                self._logs[TopicPartition(name, partition)].config = altered.config
        return altered

    # -- data ------------------------------------------------------------------------

    def _log(self, tp: TopicPartition) -> PartitionLog:
        self._check_open()
        check_partition(self._topics.get(tp.topic), tp)
        return self._logs[tp]

    def _partition(self, tp: TopicPartition) -> PartitionLog:
        return self._log(tp)

    def _write(self, tp: TopicPartition, batches: list[memoryview], now_ms: int) -> AppendResult:
        log = self._logs[tp]
        segments_before = len(log.segments)
        try:
            result = log.append(batches, now_ms)
        except OSError as error:
            raise KafkaStorageError(f"cannot append to {tp}: {error}") from error
        self._count_towards_checkpoint(sum(map(len, batches)))
        if len(log.segments) != segments_before:
            self._flusher.schedule(log)  # a sealed segment is flushed in the background
        return result

    async def _make_durable(self, tp: TopicPartition, written: bool) -> None:
        """Per the flush policy: one shared fsync (group), one of its own (fsync, for a
        new write), nothing (os). A retried batch waits for the shared one."""
        log = self._logs[tp]
        policy = log.config.flush_policy
        if policy is FlushPolicy.GROUP or (policy is FlushPolicy.FSYNC and not written):
            await self._flusher.group_flush(log)
        elif policy is FlushPolicy.FSYNC:
            await self._flusher.flush_now(log)

    async def read(
        self, tp: TopicPartition, offset: int, max_bytes: int, *, committed: bool = False
    ) -> ReadResult:
        log = self._log(tp)
        stable = log.producers.last_stable_offset(log.log_end_offset)
        if not committed:
            return replace(log.read(offset, max_bytes), last_stable_offset=stable)
        result = log.read(offset, max_bytes, max_offset=stable)
        aborted = log.producers.aborted_between(offset, stable)
        return replace(result, last_stable_offset=stable, aborted=aborted)

    async def list_offset(
        self, tp: TopicPartition, timestamp: int, *, committed: bool = False
    ) -> OffsetAndTimestamp:
        log = self._log(tp)
        if committed and timestamp == LATEST_TIMESTAMP:
            return OffsetAndTimestamp(log.producers.last_stable_offset(log.log_end_offset), -1)
        return log.list_offset(timestamp)

    async def delete_records(self, tp: TopicPartition, before_offset: int) -> int:
        async with self._metadata_lock:
            log = self._log(tp)
            target = log.log_end_offset if before_offset == -1 else before_offset
            check_delete_records_offset(target, log.log_end_offset)
            if target <= log.log_start_offset:
                return log.log_start_offset  # as Kafka: nothing to delete below the start
            await asyncio.to_thread(write_atomically, log.log_start_path, str(target))
            self._bury(log, log.delete_records(target))
        return log.log_start_offset

    # -- maintenance -----------------------------------------------------------------

    async def expire_producers(self, expiration_ms: int) -> None:
        now = self._clock.time_ms()
        for log in self._logs.values():
            log.producers.expire(now, expiration_ms)

    async def run_maintenance(self) -> None:
        self._check_open()
        async with self._maintenance_lock:  # close waits for a pass to end
            await self._maintain()

    async def _maintain(self) -> None:
        now = self._clock.time_ms()
        for log in list(self._logs.values()):
            if log.roll_if_aged(now):
                self._flusher.schedule(log)
            self._bury(log, log.apply_retention(now))
        for tp in list(self._logs):
            await self._compact(tp, now)
        self._close_buried(now)
        if now - self._last_checkpoint_ms >= self.checkpoint_interval_ms:
            await self.checkpoint()

    async def _compact(self, tp: TopicPartition, now: int) -> None:
        log = self._logs.get(tp)
        if log is None or not log.config.compact:
            return
        limit = now - log.config.min_compaction_lag_ms
        eligible = []
        for segment in log.segments[:-1]:
            if segment.max_timestamp > limit:
                break
            eligible.append(segment)
        if not eligible or eligible[-1].next_offset <= log.first_dirty_offset:
            return
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                self._cleaner,
                lambda: clean_segments(
                    eligible,
                    log.first_dirty_offset,
                    max_map_entries=self.cleaner_max_map_entries,
                    tombstone_horizon_ms=now - log.config.delete_retention_ms,
                    index_interval_bytes=log.config.index_interval_bytes,
                ),
            )
        except OSError:
            if self._logs.get(tp) is log:
                raise
            return  # the topic was deleted under the cleaner
        if result is None:
            return
        if self._logs.get(tp) is not log:
            for _, new in result.replacements:
                new.delete_files()
                new.close()
            return
        for old, new in result.replacements:
            if log.replace_segment(old, new):
                self._bury(log, [old], unlink=False)
            else:
                new.delete_files()
                new.close()
        await asyncio.to_thread(
            write_atomically, log.cleaner_offset_path, str(result.first_dirty_offset)
        )
        log.first_dirty_offset = result.first_dirty_offset
        await self._flusher.group_flush(log)
        await self.checkpoint()  # the old checkpoint may point into a replaced file

    def _bury(self, log: PartitionLog, segments: list[LogSegment], *, unlink: bool = True) -> None:
        """Unlink now, close after `file.delete.delay.ms` so reads in flight finish."""
        close_at = self._clock.time_ms() + log.config.file_delete_delay_ms
        for segment in segments:
            if unlink:
                segment.delete_files()
            self._graveyard.append((close_at, segment))

    def _close_buried(self, now: int, *, everything: bool = False) -> None:
        if self._flusher.busy and not everything:
            return  # a pass in flight may still hold one of these descriptors
        due = [s for close_at, s in self._graveyard if everything or close_at <= now]
        self._graveyard = [(t, s) for t, s in self._graveyard if not everything and t > now]
        for segment in due:
            segment.close()

    def _count_towards_checkpoint(self, appended_bytes: int) -> None:
        """Every `checkpoint_bytes` appended, flush everything and checkpoint in the
        background, so a crash never leaves more than about that much to scan."""
        self._bytes_since_checkpoint += appended_bytes
        if self._bytes_since_checkpoint >= self.checkpoint_bytes and self._checkpoint_task is None:
            self._bytes_since_checkpoint = 0
            loop = asyncio.get_running_loop()
            self._checkpoint_task = loop.create_task(self._flush_and_checkpoint())

    async def _flush_and_checkpoint(self) -> None:
        try:
            logs = [log for log in self._logs.values() if log.has_unflushed()]
            await asyncio.gather(*(self._flusher.group_flush(log) for log in logs))
            await self.checkpoint()
        except KafkaStorageError:
            pass  # appends see the failure themselves; the next checkpoint tries again
        finally:
            self._checkpoint_task = None

    async def checkpoint(self) -> None:
        """Make index files durable and record every partition's recovery point."""
        async with self._checkpoint_lock:
            await self._checkpoint()

    async def _checkpoint(self) -> None:
        logs = dict(self._logs)
        # producer state as of each log end, made durable by a flush before it is written
        snapshots = {
            str(tp): snapshot_producer_state(log)
            for tp, log in logs.items()
            if tp.topic in self._topics
        }
        await asyncio.gather(
            *(self._flusher.group_flush(log) for log in logs.values() if log.has_unflushed())
        )
        points = {
            str(tp): {
                **asdict(log.recovery_point),
                "topic_id": str(self._topics[tp.topic].topic_id),
            }
            for tp, log in logs.items()
            if tp.topic in self._topics
        }
        actives = [log.segment_at(log.recovery_point.segment_base) for log in logs.values()]
        content = {"version": 1, "partitions": points, "producers": snapshots}
        await self._flusher.run_in_thread(self._write_checkpoint, content, actives)
        self._last_checkpoint_ms = self._clock.time_ms()

    def _write_checkpoint(self, content: dict[str, Any], segments: list[LogSegment | None]) -> None:
        for segment in segments:
            if segment is not None:
                segment.flush_indexes()
        text = json.dumps(content)
        write_atomically(os.path.join(self.path, CHECKPOINT_FILE), text)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True  # refuse new requests; finish what is in flight
        async with self._maintenance_lock:
            await self._close()

    async def _close(self) -> None:
        if self._checkpoint_task is not None:
            await self._checkpoint_task
        await asyncio.gather(*(self._flusher.group_flush(log) for log in self._logs.values()))
        await self._flusher.drain()
        await self.checkpoint()
        self._flusher.close()
        self._cleaner.shutdown(wait=True)
        for log in self._logs.values():
            log.close()
        self._close_buried(0, everything=True)
        await asyncio.to_thread(self._mark_clean_shutdown)
        os.close(self._lock_fd)

    def _mark_clean_shutdown(self) -> None:
        write_atomically(os.path.join(self.path, CLEAN_SHUTDOWN_FILE), "")
        fsync_directory(self.path)

    def _check_open(self) -> None:
        if self._closed:
            raise KafkaStorageError("storage is closed")


def _lock(path: str) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise KafkaStorageError(
            f"data directory {os.path.dirname(path)} is in use by another luong process"
        ) from None
    return fd


def _move_aside(directories: list[str]) -> list[str]:
    """Rename partition directories to `<name>.<random>-delete`; return the new paths."""
    moved = []
    for directory in directories:
        target = f"{directory}.{uuid.uuid4().hex}-delete"
        os.rename(directory, target)
        moved.append(target)
    if directories:
        fsync_directory(os.path.dirname(directories[0]))
    return moved


def _remove_trees(directories: list[str]) -> None:
    for directory in directories:
        shutil.rmtree(directory, ignore_errors=True)
