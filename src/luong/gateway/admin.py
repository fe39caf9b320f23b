"""Admin over HTTP: topics and consumer groups with lag (thin routes on the broker).

    GET    /admin/topics              [{"name", "topic_id", "partitions", "internal"}]
    POST   /admin/topics              {"name", "partitions"?, "configs"?} -> 201 the topic
    GET    /admin/topics/{topic}      {"name", "topic_id", "configs",
                                       "partitions": [{"partition", "beginning_offset",
                                                       "end_offset"}]}
    PATCH  /admin/topics/{topic}      {"configs": {NAME: VALUE or null}} -> the topic
    DELETE /admin/topics/{topic}      204
    GET    /admin/groups              [{"group_id", "state", "protocol_type", "lag"}]
    GET    /admin/groups/{group}      {"group_id", "state", "lag", "offsets": [{"topic",
                                       "partition", "committed", "end_offset", "lag"}]}

A group's lag is the sum over its committed partitions of the end offset minus the
committed offset (as `kafka-consumer-groups --describe` shows it). Refusals use the
REST Proxy codes: 404 40401 (unknown topic) or 40403 (unknown group), 400 40002 for
what Kafka calls a bad request (topic exists, invalid name, settings or partition
count, deletion disabled), 422 for a malformed body.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from luong.broker import Broker
from luong.broker.handlers.base import INTERNAL_TOPICS
from luong.errors import LuongError, UnknownTopicOrPartitionError
from luong.gateway.access import check_topic, grant_of
from luong.gateway.errors import RestError, topic_not_found
from luong.gateway.media import V2, read_json
from luong.gateway.topics import BROKER
from luong.storage import TopicInfo
from luong.types import EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, TopicPartition

__all__ = ["admin_routes"]

admin_routes = web.RouteTableDef()


def _reply(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, content_type=V2)


def _bad_request(error: LuongError) -> RestError:
    if isinstance(error, UnknownTopicOrPartitionError):
        return RestError(404, 40401, str(error))
    return RestError(400, 40002, str(error) or type(error).__name__)


async def _object_body(request: web.Request) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise RestError(422, 422, "the request body must be a JSON object")
    return body


def _topic_info(broker: Broker, name: str) -> TopicInfo:
    info = broker.storage.topics().get(name)
    if info is None:
        raise topic_not_found(name)
    return info


async def _topic_json(broker: Broker, info: TopicInfo) -> dict[str, Any]:
    partitions = []
    for p in range(info.partitions):
        tp = TopicPartition(info.name, p)
        first = await broker.storage.list_offset(tp, EARLIEST_TIMESTAMP)
        end = await broker.storage.list_offset(tp, LATEST_TIMESTAMP)
        partitions.append(
            {"partition": p, "beginning_offset": first.offset, "end_offset": end.offset}
        )
    return {
        "name": info.name,
        "topic_id": str(info.topic_id),
        "internal": info.name in INTERNAL_TOPICS,
        "configs": {name: value for name, value, _ in info.config.entries()},
        "partitions": partitions,
    }


@admin_routes.get("/admin/topics")
async def list_topics(request: web.Request) -> web.Response:
    prefix = grant_of(request)[1]
    topics = [t for t in request.app[BROKER].storage.topics().values() if t.name.startswith(prefix)]
    return _reply(
        [
            {
                "name": t.name,
                "topic_id": str(t.topic_id),
                "partitions": t.partitions,
                "internal": t.name in INTERNAL_TOPICS,
            }
            for t in sorted(topics, key=lambda t: t.name)
        ]
    )


@admin_routes.post("/admin/topics")
async def create_topic(request: web.Request) -> web.Response:
    broker, body = request.app[BROKER], await _object_body(request)
    name, configs = body.get("name"), body.get("configs", {})
    partitions = body.get("partitions", int(broker.config["num.partitions"]))
    if not isinstance(name, str):
        raise RestError(422, 422, "'name' must be the topic's name")
    check_topic(request, name)
    if type(partitions) is not int:
        raise RestError(422, 422, "'partitions' must be an integer")
    if not isinstance(configs, dict) or not all(isinstance(v, str) for v in configs.values()):
        raise RestError(422, 422, "'configs' must map setting names to string values")
    try:
        info = await broker.create_topic(name, partitions, configs)
    except LuongError as error:
        raise _bad_request(error) from None
    return _reply(await _topic_json(broker, info), status=201)


@admin_routes.get("/admin/topics/{topic}")
async def describe_topic(request: web.Request) -> web.Response:
    broker = request.app[BROKER]
    return _reply(await _topic_json(broker, _topic_info(broker, request.match_info["topic"])))


@admin_routes.patch("/admin/topics/{topic}")
async def alter_topic(request: web.Request) -> web.Response:
    broker, body = request.app[BROKER], await _object_body(request)
    info = _topic_info(broker, request.match_info["topic"])
    changes = body.get("configs")
    if not isinstance(changes, dict) or not all(
        v is None or isinstance(v, str) for v in changes.values()
    ):
        raise RestError(422, 422, "'configs' must map setting names to strings (or null)")
    try:
        info = await broker.alter_topic_configs(info.name, changes)
    except LuongError as error:
        raise _bad_request(error) from None
    return _reply(await _topic_json(broker, info))


@admin_routes.delete("/admin/topics/{topic}")
async def delete_topic(request: web.Request) -> web.Response:
    broker = request.app[BROKER]
    info = _topic_info(broker, request.match_info["topic"])
    if info.name in INTERNAL_TOPICS:
        raise RestError(400, 40002, f"{info.name} is an internal topic")
    try:
        await broker.delete_topic(info.name, None)
    except LuongError as error:
        raise _bad_request(error) from None
    return web.Response(status=204)


async def _lag(broker: Broker, group: str) -> list[dict[str, Any]]:
    offsets = []
    for (topic, partition), committed in sorted(broker.offsets.fetch(group, None).items()):
        if committed is None or topic not in broker.storage.topics():
            continue
        end = await broker.storage.list_offset(TopicPartition(topic, partition), LATEST_TIMESTAMP)
        offsets.append(
            {
                "topic": topic,
                "partition": partition,
                "committed": committed.offset,
                "end_offset": end.offset,
                "lag": max(0, end.offset - committed.offset),
            }
        )
    return offsets


@admin_routes.get("/admin/groups")
async def list_groups(request: web.Request) -> web.Response:
    broker = request.app[BROKER]
    out = []
    for group, kind, state in broker.groups.listing(broker.offsets.store.groups()):
        lag = sum(o["lag"] for o in await _lag(broker, group))
        out.append({"group_id": group, "state": state, "protocol_type": kind, "lag": lag})
    return _reply(out)


@admin_routes.get("/admin/groups/{group}")
async def describe_group(request: web.Request) -> web.Response:
    broker, group = request.app[BROKER], request.match_info["group"]
    states = {
        g: (kind, state) for g, kind, state in broker.groups.listing(broker.offsets.store.groups())
    }
    if group not in states:
        raise RestError(404, 40403, f"Consumer group {group} not found.")
    offsets = await _lag(broker, group)
    return _reply(
        {
            "group_id": group,
            "state": states[group][1],
            "protocol_type": states[group][0],
            "lag": sum(o["lag"] for o in offsets),
            "offsets": offsets,
        }
    )
