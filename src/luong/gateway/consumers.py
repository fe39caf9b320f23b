"""REST Proxy v2 consumer instances: a group member per instance, driven over HTTP.

    POST   /consumers/{group}                     -> {"instance_id", "base_uri"}
    DELETE /consumers/{group}/instances/{name}    204 (".../" below is this path)
    POST   .../subscription      {"topics": [...]} or {"topic_pattern": "re"}: 204
    GET    .../subscription      -> {"topics": [...]}
    DELETE .../subscription      204
    POST   .../assignments       {"partitions": [{"topic", "partition"}]}: 204
    GET    .../assignments       -> {"partitions": [...]}
    POST   .../positions         {"offsets": [{"topic", "partition", "offset"}]}: 204
    POST   .../positions/beginning, .../positions/end   {"partitions": [...]}: 204
    GET    .../records?timeout=MS&max_bytes=N
                                 -> [{"topic", "key", "value", "partition", "offset"}]
    POST   .../offsets           {"offsets": [{"topic", "partition", "offset"}]}, or
                                 no body: commit what was fetched
    GET    .../offsets           {"partitions": [...]}
                                 -> {"offsets": [{"topic", "partition", "offset", "metadata"}]}

Each instance is an asyncio Kafka consumer (aiokafka) in this process, connected
to this broker's own listener, so it is an ordinary member of its group: other
Kafka consumers in the group share the partitions with it, and its commits are
the group's. As Confluent's proxy: a commit with a body stores offset + 1 (the
body names the last record consumed); `auto.commit.enable` defaults to false here
(safer: nothing is committed that was not confirmed); an instance unused for
`consumer.instance.timeout.ms` (5 minutes) is closed. A records call waits at most
min(`timeout`, `consumer.request.timeout.ms`) and returns as soon as records
arrive (or `fetch.min.bytes` of them, when set); the first call after a
subscription also waits (up to 5 s) for the group to assign partitions, so it
returns the records that are there instead of an early []. A JSON instance that
meets a record that is not JSON answers the records before it; the next call fails
naming the record (500 50002) and skips it, so the instance carries on after it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import IllegalStateError, KafkaError
from aiokafka.structs import OffsetAndMetadata

from luong.errors import LuongError
from luong.gateway.access import check_topic, grant_of
from luong.gateway.errors import RestError, partition_not_found, topic_not_found
from luong.gateway.media import BINARY, JSON, V2, read_json
from luong.gateway.topics import CLUSTER
from luong.protocol.names import validate_topic_name

__all__ = ["CONSUMERS", "ConsumerInstance", "ConsumerManager", "consumer_routes"]

consumer_routes = web.RouteTableDef()
INSTANCE_TIMEOUT_S = 300.0
GROUP_WAIT_S = 5.0  # longest a commit or committed-offsets call waits for the group
JOIN_WAIT_S = 5.0  # longest a first records call waits for the group's assignment
DEFAULT_REQUEST_TIMEOUT_MS = 1000
MAX_RECORDS_BYTES = 64 << 20
FORMATS = {"binary": BINARY, "json": JSON}
INSTANCE = "/consumers/{group}/instances/{name}"


@dataclass
class ConsumerInstance:
    """One REST consumer: its Kafka consumer and the settings given at creation.

    `mode` is how it was last given partitions: "subscribed" (a group member) or
    "assigned" (partitions chosen by the client). The Kafka consumer is replaced by a
    new one whenever the mode changes, because aiokafka's group coordination does not
    survive a switch made while a join is in flight (its member would die and the
    instance answer 409 until re-created)."""

    group: str
    name: str
    format: str
    consumer: AIOKafkaConsumer
    request_timeout_ms: int
    fetch_min_bytes: int
    settings: dict[str, Any]
    mode: str = ""
    joining: bool = False  # subscribed, and the group has not assigned anything yet
    last_used: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class ConsumerManager:
    """Owns every consumer instance; closes idle ones. Owned by the gateway."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._instances: dict[tuple[str, str], ConsumerInstance] = {}

    async def create(self, group: str, body: dict[str, Any]) -> ConsumerInstance:
        name = str(body.get("name") or body.get("id") or f"rest-consumer-{uuid.uuid4()}")
        if (group, name) in self._instances:
            raise RestError(
                409,
                40902,
                "Consumer with specified consumer ID already exists in the specified group.",
            )
        settings = _settings(body)
        consumer = await self._start_consumer(group, name, settings)
        instance = ConsumerInstance(
            group,
            name,
            settings["format"],
            consumer,
            settings["timeout"],
            settings["min_bytes"],
            settings,
        )
        self._instances[(group, name)] = instance
        return instance

    async def _start_consumer(
        self, group: str, name: str, settings: dict[str, Any]
    ) -> AIOKafkaConsumer:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=group,
            client_id=name,
            enable_auto_commit=settings["auto_commit"],
            auto_offset_reset=settings["reset"],
        )
        try:
            await asyncio.wait_for(consumer.start(), GROUP_WAIT_S)
        except (TimeoutError, KafkaError) as error:
            await _stop(consumer)
            raise RestError(
                409, 40903, f"Illegal state: the consumer could not start ({error or 'timed out'})"
            ) from None
        return consumer

    async def switch_mode(self, instance: ConsumerInstance, mode: str) -> AIOKafkaConsumer:
        """The instance's Kafka consumer, ready to be used in `mode` ("subscribed" or
        "assigned"): a fresh one when the mode changes (see ConsumerInstance)."""
        if instance.mode and instance.mode != mode:
            await _stop(instance.consumer)
            instance.consumer = await self._start_consumer(
                instance.group, instance.name, instance.settings
            )
        instance.mode = mode
        return instance.consumer

    def get(self, group: str, name: str) -> ConsumerInstance:
        instance = self._instances.get((group, name))
        if instance is None:
            raise RestError(404, 40403, f"Consumer instance {name} of group {group} not found.")
        instance.last_used = time.monotonic()
        return instance

    async def delete(self, group: str, name: str) -> None:
        instance = self.get(group, name)
        del self._instances[(group, name)]
        await _stop(instance.consumer)

    async def expire(self, now: float) -> None:
        """Close instances unused for INSTANCE_TIMEOUT_S."""
        for key, instance in list(self._instances.items()):
            if now - instance.last_used > INSTANCE_TIMEOUT_S:
                del self._instances[key]
                await _stop(instance.consumer)

    async def close(self) -> None:
        instances, self._instances = list(self._instances.values()), {}
        await asyncio.gather(*(_stop(i.consumer) for i in instances))


async def _stop(consumer: AIOKafkaConsumer) -> None:
    """Stop a consumer (leaving its group), giving up after GROUP_WAIT_S."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(consumer.stop(), GROUP_WAIT_S)


CONSUMERS = web.AppKey("consumers", ConsumerManager)


def _settings(body: dict[str, Any]) -> dict[str, Any]:
    """The creation body's settings, validated (422 naming the bad one)."""
    fmt = str(body.get("format", "binary")).lower()
    if fmt not in FORMATS:
        raise RestError(422, 422, f"Invalid format type {fmt!r}: binary or json")
    reset = str(body.get("auto.offset.reset", "latest"))
    if reset not in ("earliest", "latest"):
        raise RestError(422, 42204, f"Invalid consumer configuration: auto.offset.reset={reset}")
    commit = str(body.get("auto.commit.enable", "false")).lower()
    if commit not in ("true", "false"):
        raise RestError(422, 42204, f"Invalid consumer configuration: auto.commit.enable={commit}")
    return {
        "format": fmt,
        "reset": reset,
        "auto_commit": commit == "true",
        "timeout": _int(body, "consumer.request.timeout.ms", DEFAULT_REQUEST_TIMEOUT_MS),
        "min_bytes": _int(body, "fetch.min.bytes", -1),
    }


def _int(body: dict[str, Any], key: str, default: int) -> int:
    value = body.get(key, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RestError(422, 40001, f"{key} must be an integer, got {value!r}") from None


def _instance(request: web.Request) -> ConsumerInstance:
    info = request.match_info
    return request.app[CONSUMERS].get(info["group"], info["name"])


def _no_content() -> web.Response:
    return web.Response(status=204)


def _reply(data: Any) -> web.Response:
    return web.json_response(data, content_type=V2)


async def _body(request: web.Request) -> dict[str, Any]:
    """The JSON object body of a management call ({} when there is none)."""
    if not request.can_read_body:
        return {}
    body = await read_json(request)
    if not isinstance(body, dict):
        raise RestError(422, 422, "the request body must be a JSON object")
    return body


def _partitions(
    request: web.Request, body: dict[str, Any], key: str = "partitions"
) -> list[TopicPartition]:
    """`body[key]` as existing partitions: 422 if malformed or empty, 404 if unknown."""
    items = body.get(key)
    if not isinstance(items, list) or not items:
        raise RestError(422, 422, f"{key!r} must be a non-empty list of {{topic, partition}}")
    cluster = request.app[CLUSTER]
    out = []
    for item in items:
        topic = item.get("topic") if isinstance(item, dict) else None
        partition = item.get("partition") if isinstance(item, dict) else None
        if not isinstance(topic, str) or type(partition) is not int or partition < 0:
            raise RestError(422, 422, f"each of {key!r} needs a topic name and a partition")
        check_topic(request, topic)
        info = cluster.topic(topic)
        if info is None:
            raise topic_not_found(topic)
        if partition >= info.partitions:
            raise partition_not_found(f"topic {topic} has no partition {partition}")
        out.append(TopicPartition(topic, partition))
    return out


@contextlib.contextmanager
def _consumer_errors() -> Iterator[None]:
    """The Kafka consumer's refusals as 409 40903 (never a 500)."""
    try:
        yield
    except (IllegalStateError, AssertionError) as error:
        raise RestError(409, 40903, f"Illegal state: {error or 'nothing is assigned'}") from None
    except KafkaError as error:
        raise RestError(
            409,
            40903,
            f"Illegal state: the consumer instance failed ({error}); delete it and create it again",
        ) from None
    except TimeoutError:
        raise RestError(
            409, 40903, f"Illegal state: the group did not answer within {GROUP_WAIT_S} s"
        ) from None


@consumer_routes.post("/consumers/{group}")
async def _create_instance(request: web.Request) -> web.Response:
    group = request.match_info["group"]
    instance = await request.app[CONSUMERS].create(group, await _body(request))
    base = f"{request.scheme}://{request.host}/consumers/{group}/instances/{instance.name}"
    return _reply({"instance_id": instance.name, "base_uri": base})


@consumer_routes.delete(INSTANCE)
async def _delete_instance(request: web.Request) -> web.Response:
    info = request.match_info
    await request.app[CONSUMERS].delete(info["group"], info["name"])
    return _no_content()


@consumer_routes.post(INSTANCE + "/subscription")
async def _subscribe(request: web.Request) -> web.Response:
    instance, body = _instance(request), await _body(request)
    topics, pattern = body.get("topics"), body.get("topic_pattern")
    if topics is not None:
        names = _topic_names(topics)
        for name in names:
            check_topic(request, name)
    elif isinstance(pattern, str) and pattern:
        if grant_of(request)[1]:
            raise RestError(403, 40301, "a token with a topic prefix cannot subscribe by pattern")
        pattern = _pattern(pattern)
    else:
        raise RestError(422, 422, "give 'topics' (a list of names) or 'topic_pattern'")
    async with _exclusive(instance):
        if instance.consumer.assignment() and instance.mode == "assigned":
            raise RestError(
                409, 40903, "Illegal state: subscription and assignments are mutually exclusive"
            )
        consumer = await request.app[CONSUMERS].switch_mode(instance, "subscribed")
        with _consumer_errors():
            if topics is not None:
                consumer.subscribe(topics=names)
            else:
                consumer.subscribe(pattern=pattern)
        instance.joining = True
    return _no_content()


def _topic_names(topics: Any) -> list[str]:
    if not isinstance(topics, list) or not topics or not all(isinstance(t, str) for t in topics):
        raise RestError(422, 422, "'topics' must be a non-empty list of topic names")
    for topic in topics:
        try:
            validate_topic_name(topic)
        except LuongError as error:
            raise RestError(422, 422, str(error)) from None
    return topics


def _pattern(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as error:
        raise RestError(422, 422, f"topic_pattern is not a regular expression: {error}") from None
    return pattern


@consumer_routes.get(INSTANCE + "/subscription")
async def _subscription(request: web.Request) -> web.Response:
    return _reply({"topics": sorted(_instance(request).consumer.subscription())})


@consumer_routes.delete(INSTANCE + "/subscription")
async def _unsubscribe(request: web.Request) -> web.Response:
    instance = _instance(request)
    async with _exclusive(instance):
        instance.consumer.unsubscribe()
    return _no_content()


@consumer_routes.post(INSTANCE + "/assignments")
async def _assign(request: web.Request) -> web.Response:
    instance, body = _instance(request), await _body(request)
    targets = _partitions(request, body)
    async with _exclusive(instance):
        if instance.consumer.subscription():
            raise RestError(
                409, 40903, "Illegal state: subscription and assignments are mutually exclusive"
            )
        consumer = await request.app[CONSUMERS].switch_mode(instance, "assigned")
        with _consumer_errors():
            consumer.assign(targets)
    return _no_content()


@consumer_routes.get(INSTANCE + "/assignments")
async def _assignments(request: web.Request) -> web.Response:
    assigned = sorted(_instance(request).consumer.assignment())
    return _reply({"partitions": [{"topic": t.topic, "partition": t.partition} for t in assigned]})


@consumer_routes.post(INSTANCE + "/positions")
async def _seek(request: web.Request) -> web.Response:
    instance, body = _instance(request), await _body(request)
    targets = _partitions(request, body, "offsets")
    offsets = _offsets(body["offsets"])
    with _consumer_errors():
        for tp, offset in zip(targets, offsets, strict=True):
            instance.consumer.seek(tp, offset)
    return _no_content()


def _offsets(items: list[dict[str, Any]]) -> list[int]:
    offsets = [item.get("offset") for item in items]
    if not all(type(o) is int and o >= 0 for o in offsets):
        raise RestError(422, 422, "each offset must be a non-negative integer")
    return offsets  # type: ignore[return-value]


@consumer_routes.post(INSTANCE + "/positions/{end:beginning|end}")
async def _seek_to(request: web.Request) -> web.Response:
    instance, body = _instance(request), await _body(request)
    targets = _partitions(request, body)
    consumer = instance.consumer
    with _consumer_errors():
        if request.match_info["end"] == "beginning":
            await consumer.seek_to_beginning(*targets)
        else:
            await consumer.seek_to_end(*targets)
    return _no_content()


@consumer_routes.get(INSTANCE + "/records")
async def _records(request: web.Request) -> web.Response:
    instance = _instance(request)
    wanted = FORMATS[instance.format]
    accept = request.headers.get("Accept", wanted)
    if wanted not in accept and "*/*" not in accept and V2 not in accept:
        raise RestError(406, 40601, f"this consumer's format is {instance.format}: Accept {wanted}")
    timeout_ms = _query_int(request, "timeout", instance.request_timeout_ms)
    timeout_ms = min(timeout_ms, instance.request_timeout_ms) if timeout_ms > 0 else 0
    max_bytes = _query_int(request, "max_bytes", MAX_RECORDS_BYTES)
    max_bytes = MAX_RECORDS_BYTES if max_bytes <= 0 else min(max_bytes, MAX_RECORDS_BYTES)
    async with _exclusive(instance):
        fetched = await _fetch(instance, timeout_ms, max_bytes)
        out = _decoded(instance, fetched)
    return web.json_response(out, content_type=wanted)


def _decoded(
    instance: ConsumerInstance, fetched: list[ConsumerRecord[Any, Any]]
) -> list[dict[str, Any]]:
    """The records as JSON up to the first one the instance's format cannot carry.

    The records before it are answered (the rest sought back to, for the next call);
    when it is the first, the call fails naming it (500 50002) and the position moves
    past it, so the next call carries on after it: a bad record costs one error, and
    never wedges the instance.
    """
    out = []
    for index, record in enumerate(fetched):
        try:
            out.append(_record_json(instance.format, record))
        except RestError:
            if out:
                _rewind(instance, fetched[index:])
                return out
            instance.consumer.seek(
                TopicPartition(record.topic, record.partition), record.offset + 1
            )
            _rewind(
                instance,
                [
                    r
                    for r in fetched[1:]
                    if r.partition != record.partition or r.topic != record.topic
                ],
            )
            raise
    return out


@contextlib.asynccontextmanager
async def _exclusive(instance: ConsumerInstance) -> AsyncIterator[None]:
    """One records or commit call at a time per instance; 409 if the other one lasts."""
    try:
        await asyncio.wait_for(instance.lock.acquire(), GROUP_WAIT_S)
    except TimeoutError:
        raise RestError(
            409, 40903, "Illegal state: another call on this instance is running"
        ) from None
    try:
        yield
    finally:
        instance.lock.release()


def _rewind(instance: ConsumerInstance, fetched: list[ConsumerRecord[Any, Any]]) -> None:
    first: dict[TopicPartition, int] = {}
    for record in fetched:
        first.setdefault(TopicPartition(record.topic, record.partition), record.offset)
    for tp, offset in first.items():
        instance.consumer.seek(tp, offset)


def _query_int(request: web.Request, name: str, default: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise RestError(422, 422, f"query parameter {name} must be an integer") from None


async def _fetch(
    instance: ConsumerInstance, timeout_ms: int, max_bytes: int
) -> list[ConsumerRecord[Any, Any]]:
    """Records until the deadline, `fetch.min.bytes`, or the first ones when it is unset;
    what would pass `max_bytes` is sought back to, for the next call. A subscribed
    instance whose group has not assigned it partitions yet (its first call) first
    waits for the assignment, at most JOIN_WAIT_S, then for records as usual."""
    got: list[ConsumerRecord[Any, Any]] = await _joined(instance)
    deadline = time.monotonic() + timeout_ms / 1000
    size = sum(_size(r) for r in got)
    with _consumer_errors():
        while True:
            left_ms = max(0, int((deadline - time.monotonic()) * 1000))
            try:  # aiokafka may wait past its timeout while its group is not ready
                batch = await asyncio.wait_for(
                    instance.consumer.getmany(timeout_ms=left_ms), left_ms / 1000 + 1
                )
            except TimeoutError:
                break
            for tp_records in batch.values():
                got += tp_records
                size += sum(_size(r) for r in tp_records)
            enough = size >= instance.fetch_min_bytes if instance.fetch_min_bytes > 0 else got
            if enough or size >= max_bytes or left_ms == 0:
                break
    return _trim(instance, got, max_bytes)


async def _joined(instance: ConsumerInstance) -> list[ConsumerRecord[Any, Any]]:
    """After a subscription, poll until the group assigns the instance partitions (at
    most JOIN_WAIT_S, once: a member the group gives nothing is not held up again);
    the records those polls brought."""
    consumer = instance.consumer
    got: list[ConsumerRecord[Any, Any]] = []
    if not instance.joining:
        return got
    instance.joining = False
    deadline = time.monotonic() + JOIN_WAIT_S
    with _consumer_errors():
        while consumer.subscription() and not consumer.assignment():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:  # while the group rebalances aiokafka may hold getmany past its timeout
                batch = await asyncio.wait_for(consumer.getmany(timeout_ms=50), left)
            except TimeoutError:
                break
            got += [record for records in batch.values() for record in records]
    return got


def _size(record: ConsumerRecord[Any, Any]) -> int:
    return len(record.key or b"") + len(record.value or b"")


def _trim(
    instance: ConsumerInstance, got: list[ConsumerRecord[Any, Any]], max_bytes: int
) -> list[ConsumerRecord[Any, Any]]:
    """Keep records up to `max_bytes` (at least one); seek each partition back to its
    first record left out."""
    kept: list[ConsumerRecord[Any, Any]] = []
    size, rewound = 0, set()
    for record in got:
        tp = TopicPartition(record.topic, record.partition)
        size += _size(record)
        if tp in rewound or (kept and size > max_bytes):
            if tp not in rewound:
                instance.consumer.seek(tp, record.offset)
                rewound.add(tp)
            continue
        kept.append(record)
    return kept


def _record_json(fmt: str, record: ConsumerRecord[Any, Any]) -> dict[str, Any]:
    return {
        "topic": record.topic,
        "key": _field(fmt, record.key, record),
        "value": _field(fmt, record.value, record),
        "partition": record.partition,
        "offset": record.offset,
    }


def _field(fmt: str, data: bytes | None, record: ConsumerRecord[Any, Any]) -> Any:
    if data is None:
        return None
    if fmt == "binary":
        return base64.b64encode(data).decode()
    try:
        return json.loads(data)
    except ValueError:
        raise RestError(
            500,
            50002,
            f"record {record.topic}/{record.partition}@{record.offset} is not JSON and was"
            " skipped (the next call carries on after it; a binary consumer reads it)",
        ) from None


@consumer_routes.post(INSTANCE + "/offsets")
async def _commit(request: web.Request) -> web.Response:
    instance, body = _instance(request), await _body(request)
    offsets = None
    if "offsets" in body:
        targets = _partitions(request, body, "offsets")
        numbers = _offsets(body["offsets"])
        metadata = [str(o.get("metadata") or "") for o in body["offsets"]]
        offsets = {
            tp: OffsetAndMetadata(n + 1, m)
            for tp, n, m in zip(targets, numbers, metadata, strict=True)
        }
    if offsets is None and not instance.consumer.assignment():
        return _reply([])  # nothing fetched, nothing to commit
    async with _exclusive(instance):
        with _consumer_errors():
            await asyncio.wait_for(instance.consumer.commit(offsets), GROUP_WAIT_S)
    return _reply([])


@consumer_routes.get(INSTANCE + "/offsets")
async def _committed(request: web.Request) -> web.Response:
    instance, body = _instance(request), await _body(request)
    if "partitions" not in body:
        raise RestError(404, 40402, 'name the partitions: {"partitions": [...]}')
    out = []
    for tp in _partitions(request, body):
        with _consumer_errors():
            offset = await asyncio.wait_for(instance.consumer.committed(tp), GROUP_WAIT_S)
        if offset is not None:
            out.append(
                {"topic": tp.topic, "partition": tp.partition, "offset": offset, "metadata": ""}
            )
    return _reply({"offsets": out})
