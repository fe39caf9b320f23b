"""Webhook delivery: each record of a subscription's topic POSTed to its URL, at least once.

Each partition of a subscription is delivered by a task of its own, in offset
order: a request carries one record (the JSON of an SSE event's data) or, with
`batch_size` N > 1, up to N as a JSON array. With a secret, `X-Luong-Signature:
sha256=<hex HMAC-SHA256 of the body>` lets the receiver check the sender;
`X-Luong-Subscription` and `X-Luong-Delivery` (topic/partition/offset[-last]) say
what it is. A 2xx answer confirms it; confirmed positions are committed in the
subscription's consumer group `luong-webhook-<id>` every COMMIT_INTERVAL_MS and
after each read of the log, so a restart resumes after the last committed one
(what was confirmed in the last 100 ms may come again). Anything else (or no
answer in 10 s) is retried after `backoff_ms`, doubling up to `max_backoff_ms`,
with jitter; after `max_attempts` the records go to the dead-letter topic with
`luong.dlq.*` headers, and delivery moves on. `concurrency` caps how many
partitions deliver at once, `rate_per_s` the requests per second. A receiver
that hangs or fails holds up only its own subscription. If the dead-letter topic
refuses a record too, the subscription is paused with the reason in `last_error`
(retrying would deliver the batch again and again).

Time, jitter and sleeping are injected (a Clock, a random.Random, a sleep
coroutine), so backoff and pacing are tested without waiting. Owned by the
gateway on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp

from luong.clock import Clock
from luong.errors import LuongError
from luong.gateway.cluster import Cluster, ProducerRecord
from luong.gateway.filters import compile_filters
from luong.gateway.sse import record_payload
from luong.gateway.streams import StreamRecord, read_chunk
from luong.gateway.webhook_store import WebhookSettings, WebhookStore
from luong.types import EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, TopicPartition

__all__ = ["DeadLetterRefused", "WebhookManager", "WebhookState", "backoff_s", "group_of"]

log = logging.getLogger("luong.gateway")
REQUEST_TIMEOUT_S = 10.0
COMMIT_INTERVAL_MS = 100  # confirmed deliveries are committed at least this often
WAIT_S = 30.0
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class WebhookState:
    """A running subscription: its settings, tasks and counters."""

    settings: WebhookSettings
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    delivered: int = 0
    failed_attempts: int = 0
    dead_lettered: int = 0
    last_error: str | None = None
    next_send_ms: float = 0.0  # for rate_per_s: the earliest time of the next request
    slots: asyncio.Semaphore | contextlib.nullcontext[None] = field(
        default_factory=contextlib.nullcontext
    )

    def public(self) -> dict[str, Any]:
        """The subscription as the API shows it: never the secret, only whether one is set."""
        settings = asdict(self.settings)
        settings["from"] = settings.pop("start")
        settings["secret_set"] = bool(settings.pop("secret"))
        return {
            **settings,
            "state": "paused" if self.settings.paused else "running",
            "delivered": self.delivered,
            "failed_attempts": self.failed_attempts,
            "dead_lettered": self.dead_lettered,
            "last_error": self.last_error,
        }


def backoff_s(settings: WebhookSettings, attempt: int, rng: random.Random) -> float:
    """Exponential backoff after failed attempt `attempt` (1, 2, …), with jitter in the
    upper half: [ceiling/2, ceiling] where ceiling = min(max, backoff * 2^(attempt-1))."""
    ceiling: float = min(settings.max_backoff_ms, settings.backoff_ms * 2 ** (attempt - 1)) / 1000
    return ceiling * (0.5 + rng.random() / 2)


class WebhookManager:
    """Owns every push subscription and its delivery tasks."""

    def __init__(
        self,
        cluster: Cluster,
        clock: Clock,
        rng: random.Random | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.cluster = cluster
        self.clock = clock
        self.rng = rng or random.Random()
        self.sleep = sleep
        self.store = WebhookStore(cluster, clock)
        self.subscriptions: dict[str, WebhookState] = {}
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S))
        for settings in await self.store.replay():
            self.subscriptions[settings.id] = state = WebhookState(settings)
            if not settings.paused:
                self.run(state)

    async def stop(self) -> None:
        for state in self.subscriptions.values():
            await _cancel(state)
        if self.session is not None:
            await self.session.close()

    async def create(self, settings: WebhookSettings) -> WebhookState:
        await self.store.save(settings)
        self.subscriptions[settings.id] = state = WebhookState(settings)
        self.run(state)
        return state

    async def delete(self, state: WebhookState) -> None:
        await _cancel(state)
        del self.subscriptions[state.settings.id]
        await self.store.delete(state.settings.id)

    def run(self, state: WebhookState) -> None:
        """Start delivering every partition of the subscription's topic."""
        info = self.cluster.topic(state.settings.topic)
        if info is None:
            state.last_error = f"topic {state.settings.topic} does not exist"
            return
        loop = asyncio.get_running_loop()
        concurrency = state.settings.concurrency
        state.slots = asyncio.Semaphore(concurrency) if concurrency else contextlib.nullcontext()
        state.tasks = [
            loop.create_task(self._deliver_partition(state, TopicPartition(info.name, p)))
            for p in range(info.partitions)
        ]

    async def pause(self, state: WebhookState) -> None:
        state.settings.paused = True
        await _cancel(state)
        await self.store.save(state.settings)

    async def resume(self, state: WebhookState) -> None:
        if state.settings.paused:
            state.settings.paused = False
            await self.store.save(state.settings)
            self.run(state)

    async def _deliver_partition(self, state: WebhookState, tp: TopicPartition) -> None:
        while True:
            try:
                await self._follow(state, tp)
            except asyncio.CancelledError:
                raise
            except DeadLetterRefused as error:  # retrying would deliver the batch forever
                await self._halt(state, str(error))
                return
            except Exception as error:  # the log or the commit failed: retry from the commit
                log.exception("webhook %s on %s failed", state.settings.id, tp)
                state.last_error = f"{type(error).__name__}: {error}"
                await self.sleep(1.0)

    async def _follow(self, state: WebhookState, tp: TopicPartition) -> None:
        accept = compile_filters(state.settings.filter)
        position = await self._start_position(state, tp)
        while True:
            chunk = await read_chunk(self.cluster, tp, position)
            if chunk is None:
                await self.cluster.wait([tp], WAIT_S)
                continue
            wanted = [record for record in chunk.records if accept(record)]
            size, committed_at = state.settings.batch_size, self.clock.time_ms()
            for start in range(0, len(wanted), size):
                batch = wanted[start : start + size]
                async with state.slots:
                    await self.deliver(state, batch)
                if self.clock.time_ms() - committed_at >= COMMIT_INTERVAL_MS:
                    await self._commit(state, tp, batch[-1].offset + 1)
                    committed_at = self.clock.time_ms()
            await self._commit(state, tp, chunk.next_offset)
            position = chunk.next_offset

    async def _start_position(self, state: WebhookState, tp: TopicPartition) -> int:
        found = self.cluster.committed(group_of(state), [tp]).get(tp)
        if found is not None:
            return found
        where = EARLIEST_TIMESTAMP if state.settings.start == "earliest" else LATEST_TIMESTAMP
        offset = await self.cluster.list_offset(tp, where)
        await self._commit(state, tp, offset)  # "latest" means from now, across restarts
        return offset

    async def _commit(self, state: WebhookState, tp: TopicPartition, offset: int) -> None:
        await self.cluster.commit(group_of(state), {tp: offset})

    async def deliver(self, state: WebhookState, batch: list[StreamRecord]) -> None:
        """POST until a 2xx or `max_attempts`, then to the dead-letter topic. One record
        is sent as its JSON object, several (batch_size > 1) as a JSON array."""
        settings = state.settings
        payloads = [record_payload(record, "json") for record in batch]
        body = (payloads[0] if settings.batch_size == 1 else f"[{','.join(payloads)}]").encode()
        headers = _headers(settings, body, batch)
        reason = ""
        for attempt in range(1, settings.max_attempts + 1):
            await self._pace(state)
            reason = await self._post(settings.url, body, headers)
            if not reason:
                state.delivered += len(batch)
                return
            state.failed_attempts += 1
            state.last_error = reason
            if attempt < settings.max_attempts:
                await self.sleep(backoff_s(settings, attempt, self.rng))
        for record in batch:
            await self._dead_letter(state, record, reason)

    async def _pace(self, state: WebhookState) -> None:
        rate = state.settings.rate_per_s
        if rate > 0:  # requests leave 1/rate apart, over all partitions of the subscription
            now = self.clock.time_ms()
            wait_ms = state.next_send_ms - now
            state.next_send_ms = max(state.next_send_ms, now) + 1000 / rate
            if wait_ms > 0:
                await self.sleep(wait_ms / 1000)

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> str:
        """'' on a 2xx answer, else why not."""
        assert self.session is not None
        try:
            async with self.session.post(url, data=body, headers=headers) as response:
                await response.read()
                return "" if 200 <= response.status < 300 else f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as error:
            return f"{type(error).__name__}: {error}"

    async def _halt(self, state: WebhookState, reason: str) -> None:
        """Pause the subscription, saying why, from inside one of its own tasks."""
        log.error("webhook %s paused: %s", state.settings.id, reason)
        state.settings.paused = True
        state.last_error = reason
        current = asyncio.current_task()
        for task in state.tasks:
            if task is not current:
                task.cancel()
        state.tasks = []
        await self.store.save(state.settings)

    async def _dead_letter(self, state: WebhookState, record: StreamRecord, reason: str) -> None:
        settings = state.settings
        topic = settings.dead_letter_topic
        if self.cluster.topic(topic) is None:
            with contextlib.suppress(LuongError):  # made meanwhile by someone else
                await self.cluster.create_topic(topic, 1, {})
        headers = (
            ("luong.dlq.reason", reason.encode()),
            ("luong.dlq.attempts", str(settings.max_attempts).encode()),
            ("luong.dlq.topic", record.topic.encode()),
            ("luong.dlq.partition", str(record.partition).encode()),
            ("luong.dlq.offset", str(record.offset).encode()),
            ("luong.dlq.subscription", settings.id.encode()),
        )
        dead = ProducerRecord(record.key, record.value, tuple(record.headers) + headers)
        try:
            [result] = await self.cluster.produce(topic, [dead])
        except LuongError as error:
            raise DeadLetterRefused(
                f"dead-letter topic {topic} refused a record: {error}"
            ) from None
        if result.error is not None:
            raise DeadLetterRefused(f"dead-letter topic {topic} refused a record: {result.error}")
        state.dead_lettered += 1


class DeadLetterRefused(Exception):
    """A record that failed delivery could not be put in the dead-letter topic either."""


def group_of(state: WebhookState) -> str:
    """The consumer group that holds a subscription's confirmed positions."""
    return f"luong-webhook-{state.settings.id}"


def _headers(settings: WebhookSettings, body: bytes, batch: list[StreamRecord]) -> dict[str, str]:
    first, last = batch[0], batch[-1]
    headers = {
        "Content-Type": "application/json",
        "X-Luong-Subscription": settings.id,
        "X-Luong-Delivery": f"{first.topic}/{first.partition}/{first.offset}"
        + (f"-{last.offset}" if last is not first else ""),
    }
    if settings.secret:
        signature = hmac.new(settings.secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Luong-Signature"] = f"sha256={signature}"
    return headers


async def _cancel(state: WebhookState) -> None:
    for task in state.tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    state.tasks = []
