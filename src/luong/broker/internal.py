"""Internal topics: which topics are internal, and how their owners create and replay them.

The one definition of "internal topic": Kafka's own (`__consumer_offsets`,
`__transaction_state`) and luong's (every name starting with `__luong_`, such as
`__luong_webhooks`). Clients never write to an internal topic (Produce and
DeleteRecords get INVALID_TOPIC_EXCEPTION; DeleteTopics, CreatePartitions and
config changes TOPIC_AUTHORIZATION_FAILED; CreateTopics of such a name
INVALID_TOPIC_EXCEPTION). Kafka's internal topics stay visible and readable, as in
Kafka (tools read `__consumer_offsets`); luong's are hidden: they hold state such as
webhook secrets, so clients neither see them in Metadata nor read them
(TOPIC_AUTHORIZATION_FAILED when named).

`open_internal_topic` creates a one-partition compacted topic if it is missing and
replays every stored record of it, in offset order, into `apply` (the state machine
rebuilt from its records), one record at a time: a record `apply` cannot take (a
client wrote garbage there before this rule, or a bug did) is logged and skipped,
so the node still starts. `Ticker` runs a coroutine function every `interval_s` on
the event loop until stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from luong.protocol.records import RecordBatch, decode_batch, split_batches
from luong.storage import Storage
from luong.types import EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, TopicPartition

__all__ = [
    "KAFKA_INTERNAL_TOPICS",
    "LUONG_INTERNAL_PREFIX",
    "Ticker",
    "is_hidden_topic",
    "is_internal_topic",
    "open_internal_topic",
]

log = logging.getLogger("luong.broker")
REPLAY_READ_BYTES = 4 << 20
KAFKA_INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state"})
LUONG_INTERNAL_PREFIX = "__luong_"


def is_internal_topic(name: str) -> bool:
    """Kafka's internal topics and luong's own: no client writes to them."""
    return name in KAFKA_INTERNAL_TOPICS or name.startswith(LUONG_INTERNAL_PREFIX)


def is_hidden_topic(name: str) -> bool:
    """luong's internal topics: out of clients' sight altogether."""
    return name.startswith(LUONG_INTERNAL_PREFIX)


async def open_internal_topic(
    storage: Storage, name: str, apply: Callable[[RecordBatch], None]
) -> TopicPartition:
    """Create topic `name` (1 partition, compacted) if missing; replay it into `apply`,
    each record as a batch of its own (with its batch's header)."""
    tp = TopicPartition(name, 0)
    if name not in storage.topics():
        await storage.create_topic(name, 1, {"cleanup.policy": "compact"})
    end = (await storage.list_offset(tp, LATEST_TIMESTAMP)).offset
    offset = (await storage.list_offset(tp, EARLIEST_TIMESTAMP)).offset
    while offset < end:
        data = (await storage.read(tp, offset, REPLAY_READ_BYTES)).read()
        if not data:  # the rest was compacted away (its tombstones expired): done
            break
        for view in split_batches(data):
            offset = _replay_batch(name, bytes(view), apply)
    return tp


def _replay_batch(topic: str, data: bytes, apply: Callable[[RecordBatch], None]) -> int:
    """Apply each record of one stored batch; the offset after the batch."""
    try:
        batch = decode_batch(data)
    except Exception as error:  # CRC-valid bytes that still do not decode
        last = int.from_bytes(data[:8], "big", signed=True) + int.from_bytes(data[23:27], "big")
        log.warning("%s: skipped the batch at offset %d: %s", topic, last, error)
        return last + 1
    if not batch.records:  # a control batch: its header is what counts
        _apply_logged(topic, batch, apply, batch.header.base_offset)
    for record in batch.records:
        _apply_logged(topic, replace(batch, records=[record]), apply, record.offset)
    return batch.header.last_offset + 1


def _apply_logged(
    topic: str, batch: RecordBatch, apply: Callable[[RecordBatch], None], offset: int
) -> None:
    try:
        apply(batch)
    except Exception as error:  # anything a record of the wrong shape may raise
        log.warning(
            "%s: skipped the record at offset %d, which cannot be replayed: %s: %s",
            topic,
            offset,
            type(error).__name__,
            error,
        )


class Ticker:
    """`tick()` every `interval_s`, first after `interval_s` (or at once with `now`)."""

    def __init__(self, tick: Callable[[], Awaitable[None]], interval_s: float) -> None:
        self._tick = tick
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self, *, now: bool = False) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(now))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self, now: bool) -> None:
        if not now:
            await asyncio.sleep(self._interval_s)
        while True:
            await self._tick()
            await asyncio.sleep(self._interval_s)
