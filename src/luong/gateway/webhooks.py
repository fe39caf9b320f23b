"""Push subscriptions: each record of a topic POSTed to a URL, at least once.

    POST   /webhooks               {"topic", "url", "filter"?, "secret"?, "from"?,
                                    "max_attempts"?, "backoff_ms"?, "max_backoff_ms"?,
                                    "rate_per_s"?, "dead_letter_topic"?, "batch_size"?,
                                    "concurrency"?} -> 201
    GET    /webhooks               every subscription, with its state
    GET    /webhooks/{id}          one
    POST   /webhooks/{id}/pause    stop delivering (positions kept)
    POST   /webhooks/{id}/resume
    DELETE /webhooks/{id}          204

A subscription delivers each partition in offset order, one record per request:
a JSON body as an SSE event's data, `X-Luong-Signature: sha256=<hex HMAC-SHA256 of
the body with the subscription's secret>` so the receiver can check the sender,
and `X-Luong-Subscription` / `X-Luong-Delivery` (topic/partition/offset). A 2xx
answer confirms it; confirmed positions are committed in the subscription's own
consumer group (`luong-webhook-<id>`) every 100 ms and after each read of the log,
so a restart resumes after the last committed one (at least once: what was
confirmed in the last 100 ms may come again). Anything else (or no answer in 10 s) is retried after
`backoff_ms`, doubling up to `max_backoff_ms`, with jitter; after `max_attempts`
the record goes to the dead-letter topic (default `<topic>.dlq`, created with one
partition) with headers `luong.dlq.reason`, `luong.dlq.attempts`,
`luong.dlq.topic`, `luong.dlq.partition`, `luong.dlq.offset`, and delivery moves
on. With `batch_size` N > 1 a request carries up to N records as a JSON array
(retried and dead-lettered together). Partitions are delivered concurrently, at
most `concurrency` at once when set; `rate_per_s` caps requests per second.
Subscriptions are records of the compacted topic `__luong_webhooks` (key: id,
value: the settings as JSON; a tombstone deletes), replayed at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import random
import secrets
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from luong.broker import Broker
from luong.broker.produce_service import ProducerRecord
from luong.coordinator.offsets import CommitRequest, OffsetKey
from luong.errors import LuongError
from luong.gateway.access import check_topic
from luong.gateway.errors import RestError, topic_not_found
from luong.gateway.events import record_payload
from luong.gateway.filters import FilterError, compile_filters
from luong.gateway.media import V2, read_json
from luong.gateway.streams import StreamRecord, read_chunk
from luong.gateway.topics import BROKER
from luong.protocol.records import Record, build_batch
from luong.types import EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, TopicPartition

__all__ = ["WEBHOOKS", "WebhookManager", "webhook_routes"]

log = logging.getLogger("luong.gateway")
webhook_routes = web.RouteTableDef()
STORE_TOPIC = "__luong_webhooks"
REQUEST_TIMEOUT_S = 10.0
COMMIT_INTERVAL_S = 0.1  # confirmed deliveries are committed at least this often


@dataclass
class WebhookSettings:
    """What a subscription was created with (stored as JSON in STORE_TOPIC)."""

    id: str
    topic: str
    url: str
    secret: str
    filter: list[str] = field(default_factory=list)
    start: str = "latest"
    max_attempts: int = 5
    backoff_ms: int = 500
    max_backoff_ms: int = 30_000
    rate_per_s: float = 0.0
    dead_letter_topic: str = ""
    paused: bool = False
    batch_size: int = 1
    concurrency: int = 0  # partitions delivering at once; 0: all of them


@dataclass
class WebhookState:
    """A running subscription: its settings, tasks and counters."""

    settings: WebhookSettings
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    delivered: int = 0
    failed_attempts: int = 0
    dead_lettered: int = 0
    last_error: str | None = None
    next_send: float = 0.0  # for rate_per_s: the earliest time of the next request
    slots: asyncio.Semaphore | contextlib.nullcontext[None] = field(
        default_factory=contextlib.nullcontext
    )

    def public(self) -> dict[str, Any]:
        settings = asdict(self.settings)
        settings["from"] = settings.pop("start")
        return {
            **settings,
            "state": "paused" if self.settings.paused else "running",
            "delivered": self.delivered,
            "failed_attempts": self.failed_attempts,
            "dead_lettered": self.dead_lettered,
            "last_error": self.last_error,
        }


class WebhookManager:
    """Owns every push subscription and its delivery tasks, on the event loop."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.subscriptions: dict[str, WebhookState] = {}
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S))
        storage = self.broker.storage
        if STORE_TOPIC not in storage.topics():
            await storage.create_topic(STORE_TOPIC, 1, {"cleanup.policy": "compact"})
        for settings in await self._replay():
            self.subscriptions[settings.id] = state = WebhookState(settings)
            if not settings.paused:
                self.run(state)

    async def _replay(self) -> list[WebhookSettings]:
        tp, position, latest = TopicPartition(STORE_TOPIC, 0), 0, {}
        while (chunk := await read_chunk(self.broker, tp, position)) is not None:
            for record in chunk.records:
                key = (record.key or b"").decode()
                latest[key] = record.value
            position = chunk.next_offset
        return [WebhookSettings(**json.loads(v)) for v in latest.values() if v is not None]

    async def stop(self) -> None:
        for state in self.subscriptions.values():
            await _cancel(state)
        if self.session is not None:
            await self.session.close()

    async def save(self, settings: WebhookSettings | None, webhook_id: str) -> None:
        value = None if settings is None else json.dumps(asdict(settings)).encode()
        record = Record(0, int(time.time() * 1000), webhook_id.encode(), value)
        await self.broker.storage.append(TopicPartition(STORE_TOPIC, 0), build_batch([record]))

    def run(self, state: WebhookState) -> None:
        """Start delivering every partition of the subscription's topic."""
        info = self.broker.storage.topics().get(state.settings.topic)
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
        await self.save(state.settings, state.settings.id)

    async def resume(self, state: WebhookState) -> None:
        if state.settings.paused:
            state.settings.paused = False
            await self.save(state.settings, state.settings.id)
            self.run(state)

    async def _deliver_partition(self, state: WebhookState, tp: TopicPartition) -> None:
        while True:
            try:
                await self._follow(state, tp)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the log or the commit failed: retry from the commit
                log.exception("webhook %s on %s failed", state.settings.id, tp)
                state.last_error = f"{type(error).__name__}: {error}"
                await asyncio.sleep(1.0)

    async def _follow(self, state: WebhookState, tp: TopicPartition) -> None:
        accept = compile_filters(state.settings.filter)
        position = await self._start_position(state, tp)
        while True:
            chunk = await read_chunk(self.broker, tp, position)
            if chunk is None:
                await self.broker.purgatory.wait([tp], 30.0)
                continue
            wanted = [record for record in chunk.records if accept(record)]
            size, committed_at = state.settings.batch_size, time.monotonic()
            for start in range(0, len(wanted), size):
                batch = wanted[start : start + size]
                async with state.slots:
                    await self._deliver(state, batch)
                if time.monotonic() - committed_at >= COMMIT_INTERVAL_S:
                    await self._commit(state, tp, batch[-1].offset + 1)
                    committed_at = time.monotonic()
            await self._commit(state, tp, chunk.next_offset)
            position = chunk.next_offset

    async def _start_position(self, state: WebhookState, tp: TopicPartition) -> int:
        committed = self.broker.offsets.fetch(_group(state), [(tp.topic, tp.partition)])
        found = committed.get((tp.topic, tp.partition))
        if found is not None:
            return found.offset
        where = EARLIEST_TIMESTAMP if state.settings.start == "earliest" else LATEST_TIMESTAMP
        offset = (await self.broker.storage.list_offset(tp, where, committed=True)).offset
        await self._commit(state, tp, offset)  # "latest" means from now, across restarts
        return offset

    async def _commit(self, state: WebhookState, tp: TopicPartition, offset: int) -> None:
        key = OffsetKey(_group(state), tp.topic, tp.partition)
        await self.broker.offsets.commit([CommitRequest(key, offset, -1, None)])

    async def _deliver(self, state: WebhookState, batch: list[StreamRecord]) -> None:
        """POST until a 2xx or `max_attempts`, then to the dead-letter topic. One record
        is sent as its JSON object, several (batch_size > 1) as a JSON array."""
        settings = state.settings
        payloads = [record_payload(record, "json") for record in batch]
        body = (payloads[0] if settings.batch_size == 1 else f"[{','.join(payloads)}]").encode()
        first, last = batch[0], batch[-1]
        signature = hmac.new(settings.secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-Luong-Signature": f"sha256={signature}",
            "X-Luong-Subscription": settings.id,
            "X-Luong-Delivery": f"{first.topic}/{first.partition}/{first.offset}"
            + (f"-{last.offset}" if last is not first else ""),
        }
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
                await asyncio.sleep(_backoff_s(settings, attempt))
        for record in batch:
            await self._dead_letter(state, record, reason)

    async def _pace(self, state: WebhookState) -> None:
        rate = state.settings.rate_per_s
        if rate > 0:  # requests leave 1/rate apart, over all partitions of the subscription
            now = time.monotonic()
            wait = state.next_send - now
            state.next_send = max(state.next_send, now) + 1 / rate
            if wait > 0:
                await asyncio.sleep(wait)

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> str:
        """'' on a 2xx answer, else why not."""
        assert self.session is not None
        try:
            async with self.session.post(url, data=body, headers=headers) as response:
                await response.read()
                return "" if 200 <= response.status < 300 else f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as error:
            return f"{type(error).__name__}: {error}"

    async def _dead_letter(self, state: WebhookState, record: StreamRecord, reason: str) -> None:
        settings = state.settings
        topic = settings.dead_letter_topic
        if topic not in self.broker.storage.topics():
            with contextlib.suppress(LuongError):  # made meanwhile by someone else
                await self.broker.create_topic(topic, 1, {})
        headers = (
            ("luong.dlq.reason", reason.encode()),
            ("luong.dlq.attempts", str(settings.max_attempts).encode()),
            ("luong.dlq.topic", record.topic.encode()),
            ("luong.dlq.partition", str(record.partition).encode()),
            ("luong.dlq.offset", str(record.offset).encode()),
            ("luong.dlq.subscription", settings.id.encode()),
        )
        dead = ProducerRecord(record.key, record.value, tuple(record.headers) + headers)
        await self.broker.produce_service.produce(topic, [dead])
        state.dead_lettered += 1


def _group(state: WebhookState) -> str:
    return f"luong-webhook-{state.settings.id}"


def _backoff_s(settings: WebhookSettings, attempt: int) -> float:
    """Exponential backoff with full jitter in its upper half."""
    ceiling: float = min(settings.max_backoff_ms, settings.backoff_ms * 2 ** (attempt - 1)) / 1000
    return ceiling * (0.5 + random.random() / 2)


async def _cancel(state: WebhookState) -> None:
    for task in state.tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    state.tasks = []


WEBHOOKS = web.AppKey("webhooks", WebhookManager)


def _settings(broker: Broker, body: Any) -> WebhookSettings:
    """A creation body checked whole (422 naming the problem, 404 unknown topic)."""
    if not isinstance(body, dict):
        raise RestError(422, 422, "the request body must be a JSON object")
    known = {
        "topic",
        "url",
        "filter",
        "secret",
        "from",
        "max_attempts",
        "backoff_ms",
        "max_backoff_ms",
        "rate_per_s",
        "dead_letter_topic",
        "batch_size",
        "concurrency",
    }
    unknown = sorted(set(body) - known)
    if unknown:
        raise RestError(422, 422, f"Unrecognized field: {unknown[0]}")
    topic, url = body.get("topic"), body.get("url")
    if not isinstance(topic, str):
        raise RestError(422, 422, "'topic' must be a topic name")
    if topic not in broker.storage.topics():
        raise topic_not_found(topic)
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise RestError(422, 422, f"'url' must be an http or https URL, got {url!r}")
    filters = body.get("filter", [])
    if isinstance(filters, str):
        filters = [filters]
    try:
        compile_filters(filters)
    except (FilterError, TypeError) as error:
        raise RestError(422, 422, str(error)) from None
    start = body.get("from", "latest")
    if start not in ("latest", "earliest"):
        raise RestError(422, 422, "'from' must be latest or earliest")
    numbers = {
        name: _positive(body, name, default)
        for name, default in (
            ("max_attempts", 5),
            ("backoff_ms", 500),
            ("max_backoff_ms", 30_000),
            ("batch_size", 1),
        )
    }
    rate = body.get("rate_per_s", 0)
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or rate < 0:
        raise RestError(422, 422, "'rate_per_s' must be a number >= 0")
    secret = body.get("secret") or secrets.token_hex(16)
    if not isinstance(secret, str):
        raise RestError(422, 422, "'secret' must be a string")
    dead = body.get("dead_letter_topic") or f"{topic}.dlq"
    if not isinstance(dead, str) or dead == topic:
        raise RestError(422, 422, "'dead_letter_topic' must be another topic's name")
    return WebhookSettings(
        id=uuid.uuid4().hex[:12],
        topic=topic,
        url=str(url),
        secret=secret,
        filter=filters,
        start=start,
        max_attempts=numbers["max_attempts"],
        backoff_ms=numbers["backoff_ms"],
        max_backoff_ms=numbers["max_backoff_ms"],
        rate_per_s=float(rate),
        dead_letter_topic=dead,
        batch_size=min(numbers["batch_size"], 1000),
        concurrency=_concurrency(body),
    )


def _concurrency(body: dict[str, Any]) -> int:
    value = body.get("concurrency", 0)
    if type(value) is not int or not 0 <= value <= 10_000:
        raise RestError(422, 422, "'concurrency' must be an integer >= 0 (0: every partition)")
    return value


def _positive(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name, default)
    if type(value) is not int or not 1 <= value <= 1_000_000_000:
        raise RestError(422, 422, f"'{name}' must be a positive integer")
    return value


def _subscription(request: web.Request) -> WebhookState:
    state = request.app[WEBHOOKS].subscriptions.get(request.match_info["id"])
    if state is None:
        raise RestError(404, 404, f"Webhook subscription {request.match_info['id']} not found.")
    return state


def _reply(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, content_type=V2)


@webhook_routes.post("/webhooks")
async def create(request: web.Request) -> web.Response:
    manager = request.app[WEBHOOKS]
    settings = _settings(request.app[BROKER], await read_json(request))
    check_topic(request, settings.topic)
    check_topic(request, settings.dead_letter_topic)
    await manager.save(settings, settings.id)
    manager.subscriptions[settings.id] = state = WebhookState(settings)
    manager.run(state)
    return _reply(state.public(), status=201)


@webhook_routes.get("/webhooks")
async def list_all(request: web.Request) -> web.Response:
    return _reply([s.public() for s in request.app[WEBHOOKS].subscriptions.values()])


@webhook_routes.get("/webhooks/{id}")
async def describe(request: web.Request) -> web.Response:
    return _reply(_subscription(request).public())


@webhook_routes.post("/webhooks/{id}/pause")
async def pause(request: web.Request) -> web.Response:
    state = _subscription(request)
    await request.app[WEBHOOKS].pause(state)
    return _reply(state.public())


@webhook_routes.post("/webhooks/{id}/resume")
async def resume(request: web.Request) -> web.Response:
    state = _subscription(request)
    await request.app[WEBHOOKS].resume(state)
    return _reply(state.public())


@webhook_routes.delete("/webhooks/{id}")
async def delete(request: web.Request) -> web.Response:
    manager, state = request.app[WEBHOOKS], _subscription(request)
    await _cancel(state)
    del manager.subscriptions[state.settings.id]
    await manager.save(None, state.settings.id)
    return web.Response(status=204)
