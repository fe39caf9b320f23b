"""Property tests: the log engine behaves exactly like the in-memory reference engine.

Random sequences of append, read, list-offsets, delete-records, retention,
compaction (through maintenance with a moving clock) and close/reopen run against
both engines; every answer must match. With `segment.bytes` at its minimum every
batch gets a segment of its own in the log engine, as every batch is its own unit
in the reference engine, so retention and compaction must agree to the byte.
A second machine uses random segment and index sizes and checks the invariants
(dense offsets, read-after-append returns the appended bytes, reopen keeps data).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Coroutine
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from luong.clock import ManualClock
from luong.errors import LuongError
from luong.protocol.records import BatchHeader, decode_batches, split_batches
from luong.storage import Storage
from luong.storage.log import LogStorage
from luong.storage.memory import MemoryStorage
from luong.testing import make_batch
from luong.types import EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, MAX_TIMESTAMP, TopicPartition

DELETE = TopicPartition("d", 0)
COMPACT = TopicPartition("c", 0)
PARTITIONS = [DELETE, COMPACT]
TOPIC_CONFIGS = {
    "d": {"segment.bytes": "14", "retention.ms": "5000", "retention.bytes": "1500"},
    "c": {"segment.bytes": "14", "cleanup.policy": "compact", "delete.retention.ms": "3000"},
}
SETTINGS = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

keys = st.sampled_from([b"a", b"b", b"c", b"d"])
values = st.one_of(st.none(), st.binary(min_size=0, max_size=60))


class EnginesAgree(RuleBasedStateMachine):
    """LogStorage against MemoryStorage, step by step."""

    @initialize()
    def start(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.path = tempfile.mkdtemp(prefix="luong-model-")
        self.clock = ManualClock()
        self.model: Storage = MemoryStorage(self.clock)
        self.log: Storage = LogStorage(self.path, self.clock)
        for name, config in TOPIC_CONFIGS.items():
            for storage in (self.model, self.log):
                self.run(storage.create_topic(name, 1, config))  # topic ids differ

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coroutine)

    def both(self, call: Any) -> Any:
        """Run `call(storage)` on both engines; results (or error types) must match."""
        outcomes = []
        for storage in (self.model, self.log):
            try:
                outcomes.append(("ok", self.run(call(storage))))
            except LuongError as error:
                outcomes.append(("error", type(error)))
        assert outcomes[0] == outcomes[1], outcomes
        return outcomes[0][1]

    @rule(
        tp=st.sampled_from(PARTITIONS),
        records=st.lists(st.tuples(keys, values), min_size=1, max_size=4),
        age=st.integers(0, 9000),
    )
    def append(
        self, tp: TopicPartition, records: list[tuple[bytes, bytes | None]], age: int
    ) -> None:
        if tp == DELETE:
            records = [(k, v if v is not None else b"") for k, v in records]
        batch = make_batch(
            [v for _, v in records],
            keys=[k for k, _ in records],
            timestamp=self.clock.time_ms() - age,
        )
        result = self.both(lambda s: s.append(tp, batch))
        assert result.last_offset - result.base_offset == len(records) - 1

    @rule(tp=st.sampled_from(PARTITIONS), where=st.floats(0, 1), max_bytes=st.integers(0, 600))
    def read(self, tp: TopicPartition, where: float, max_bytes: int) -> None:
        start = self.run(self.model.list_offset(tp, EARLIEST_TIMESTAMP)).offset
        end = self.run(self.model.list_offset(tp, LATEST_TIMESTAMP)).offset
        offset = start + round((end - start) * where)
        answers = [self.run(s.read(tp, offset, max_bytes)) for s in (self.model, self.log)]
        assert answers[0].read() == answers[1].read()
        assert answers[0].high_watermark == answers[1].high_watermark
        assert answers[0].log_start_offset == answers[1].log_start_offset

    @rule(
        tp=st.sampled_from(PARTITIONS),
        timestamp=st.one_of(
            st.sampled_from([EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, MAX_TIMESTAMP]),
            st.integers(-10_000, 1000).map(lambda d: 1_700_000_000_000 + d),
        ),
    )
    def list_offset(self, tp: TopicPartition, timestamp: int) -> None:
        self.both(lambda s: s.list_offset(tp, timestamp))

    @rule(tp=st.sampled_from(PARTITIONS), where=st.floats(0, 1.2))
    def delete_records(self, tp: TopicPartition, where: float) -> None:
        start = self.run(self.model.list_offset(tp, EARLIEST_TIMESTAMP)).offset
        end = self.run(self.model.list_offset(tp, LATEST_TIMESTAMP)).offset
        self.both(lambda s: s.delete_records(tp, start + round((end - start) * where)))

    @rule(ms=st.integers(0, 4000))
    def maintenance(self, ms: int) -> None:
        self.clock.advance(ms)
        self.both(lambda s: s.run_maintenance())

    @rule()
    def reopen(self) -> None:
        self.run(self.log.close())
        self.log = LogStorage(self.path, self.clock)

    @invariant()
    def same_offsets(self) -> None:
        if not hasattr(self, "log"):
            return
        for tp in PARTITIONS:
            for special in (EARLIEST_TIMESTAMP, LATEST_TIMESTAMP):
                self.both(lambda s, tp=tp, t=special: s.list_offset(tp, t))

    def teardown(self) -> None:
        if hasattr(self, "log"):
            self.run(self.log.close())
            self.loop.close()
            shutil.rmtree(self.path, ignore_errors=True)


class LogInvariants(RuleBasedStateMachine):
    """Multi-batch segments with random sizes: dense offsets, bytes back, reopen."""

    @initialize(segment_bytes=st.integers(14, 3000), interval=st.integers(0, 500))
    def start(self, segment_bytes: int, interval: int) -> None:
        self.loop = asyncio.new_event_loop()
        self.path = tempfile.mkdtemp(prefix="luong-invariants-")
        self.storage = LogStorage(self.path, ManualClock())
        config = {"segment.bytes": str(segment_bytes), "index.interval.bytes": str(interval)}
        self.loop.run_until_complete(self.storage.create_topic("t", 1, config))
        self.appended: list[bytes] = []  # stored bytes of each batch, in order

    @rule(count=st.integers(1, 5), size=st.integers(0, 400))
    def append(self, count: int, size: int) -> None:
        batch = make_batch([b"v" * size] * count)
        result = self.loop.run_until_complete(self.storage.append(DELETE_T, batch))
        expected_base = sum(BatchHeader.parse(b).record_count for b in self.appended)
        assert result.base_offset == expected_base
        self.appended.append(result.base_offset.to_bytes(8, "big") + batch[8:])

    @precondition(lambda self: bool(self.appended))
    @rule(data=st.data())
    def read_at_any_offset(self, data: st.DataObject) -> None:
        end = sum(BatchHeader.parse(b).record_count for b in self.appended)
        offset = data.draw(st.integers(0, end - 1))
        result = self.loop.run_until_complete(self.storage.read(DELETE_T, offset, 1))
        [batch] = split_batches(result.read())
        header = BatchHeader.parse(batch)
        assert header.base_offset <= offset <= header.last_offset
        assert bytes(batch)[:12] + bytes(batch)[16:] == _without_epoch(
            next(b for b in self.appended if BatchHeader.parse(b).base_offset == header.base_offset)
        )

    @rule()
    def reopen(self) -> None:
        self.loop.run_until_complete(self.storage.close())
        self.storage = LogStorage(self.path, ManualClock())

    @invariant()
    def everything_reads_back(self) -> None:
        if not hasattr(self, "storage"):
            return
        result = self.loop.run_until_complete(self.storage.read(DELETE_T, 0, 1 << 30))
        stored = [bytes(b)[:12] + bytes(b)[16:] for b in split_batches(result.read())]
        assert stored == [_without_epoch(b) for b in self.appended]
        offsets = [r.offset for b in decode_batches(result.read()) for r in b.records]
        assert offsets == list(range(len(offsets)))

    def teardown(self) -> None:
        if hasattr(self, "storage"):
            self.loop.run_until_complete(self.storage.close())
            self.loop.close()
            shutil.rmtree(self.path, ignore_errors=True)


DELETE_T = TopicPartition("t", 0)


def _without_epoch(batch: bytes) -> bytes:
    """A batch minus partitionLeaderEpoch (bytes 12-15), which the broker stamps."""
    return batch[:12] + batch[16:]


TestEnginesAgree = EnginesAgree.TestCase
TestEnginesAgree.settings = SETTINGS
TestLogInvariants = LogInvariants.TestCase
TestLogInvariants.settings = SETTINGS
