"""Admin over HTTP: topics and consumer groups with lag (thin routes on the cluster).

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
count, deletion disabled), 403 40301 for changing an internal topic (as Kafka
clients get TOPIC_AUTHORIZATION_FAILED), 422 for a malformed body. luong's internal
topics are never listed; Kafka's (`__consumer_offsets`, …) are, with `internal`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from luong.errors import LuongError, TopicAuthorizationFailedError, UnknownTopicOrPartitionError
from luong.gateway.access import check_topic, grant_of
from luong.gateway.cluster import Cluster, TopicDescription
from luong.gateway.errors import RestError, topic_not_found
from luong.gateway.media import V2, read_json
from luong.gateway.topics import CLUSTER
from luong.types import EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, TopicPartition

__all__ = ["admin_routes"]

admin_routes = web.RouteTableDef()


def _reply(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, content_type=V2)


def _bad_request(error: LuongError) -> RestError:
    if isinstance(error, UnknownTopicOrPartitionError):
        return RestError(404, 40401, str(error))
    if isinstance(error, TopicAuthorizationFailedError):
        return RestError(403, 40301, str(error))
    return RestError(400, 40002, str(error) or type(error).__name__)


async def _object_body(request: web.Request) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise RestError(422, 422, "the request body must be a JSON object")
    return body


def _topic(request: web.Request) -> TopicDescription:
    """The path's topic (404 40401), if the caller's token reaches it (403)."""
    name = request.match_info["topic"]
    info = request.app[CLUSTER].topic(name)
    if info is None:
        raise topic_not_found(name)
    return info


async def _topic_json(cluster: Cluster, info: TopicDescription) -> dict[str, Any]:
    partitions = []
    for p in range(info.partitions):
        tp = TopicPartition(info.name, p)
        first = await cluster.list_offset(tp, EARLIEST_TIMESTAMP, committed=False)
        end = await cluster.list_offset(tp, LATEST_TIMESTAMP, committed=False)
        partitions.append({"partition": p, "beginning_offset": first, "end_offset": end})
    return {
        "name": info.name,
        "topic_id": info.topic_id,
        "internal": info.internal,
        "configs": {name: value for name, value, _ in info.configs},
        "partitions": partitions,
    }


@admin_routes.get("/admin/topics")
async def _list_topics(request: web.Request) -> web.Response:
    prefix = grant_of(request)[1]
    topics = [t for t in request.app[CLUSTER].topics().values() if t.name.startswith(prefix)]
    return _reply(
        [
            {
                "name": t.name,
                "topic_id": t.topic_id,
                "partitions": t.partitions,
                "internal": t.internal,
            }
            for t in sorted(topics, key=lambda t: t.name)
        ]
    )


@admin_routes.post("/admin/topics")
async def _create_topic(request: web.Request) -> web.Response:
    cluster, body = request.app[CLUSTER], await _object_body(request)
    name, configs = body.get("name"), body.get("configs", {})
    partitions = body.get("partitions", cluster.default_partitions)
    if not isinstance(name, str):
        raise RestError(422, 422, "'name' must be the topic's name")
    check_topic(request, name)
    if type(partitions) is not int:
        raise RestError(422, 422, "'partitions' must be an integer")
    if not isinstance(configs, dict) or not all(isinstance(v, str) for v in configs.values()):
        raise RestError(422, 422, "'configs' must map setting names to string values")
    try:
        info = await cluster.create_topic(name, partitions, configs)
    except LuongError as error:
        raise _bad_request(error) from None
    return _reply(await _topic_json(cluster, info), status=201)


@admin_routes.get("/admin/topics/{topic}")
async def _describe_topic(request: web.Request) -> web.Response:
    return _reply(await _topic_json(request.app[CLUSTER], _topic(request)))


@admin_routes.patch("/admin/topics/{topic}")
async def _alter_topic(request: web.Request) -> web.Response:
    cluster, body = request.app[CLUSTER], await _object_body(request)
    info = _topic(request)
    changes = body.get("configs")
    if not isinstance(changes, dict) or not all(
        v is None or isinstance(v, str) for v in changes.values()
    ):
        raise RestError(422, 422, "'configs' must map setting names to strings (or null)")
    try:
        info = await cluster.alter_topic(info.name, changes)
    except LuongError as error:
        raise _bad_request(error) from None
    return _reply(await _topic_json(cluster, info))


@admin_routes.delete("/admin/topics/{topic}")
async def _delete_topic(request: web.Request) -> web.Response:
    info = _topic(request)
    try:
        await request.app[CLUSTER].delete_topic(info.name)
    except LuongError as error:
        raise _bad_request(error) from None
    return web.Response(status=204)


async def _lag(cluster: Cluster, group: str) -> list[dict[str, Any]]:
    offsets = []
    for tp, committed in sorted(cluster.committed(group).items()):
        if cluster.topic(tp.topic) is None:
            continue
        end = await cluster.list_offset(tp, LATEST_TIMESTAMP, committed=False)
        offsets.append(
            {
                "topic": tp.topic,
                "partition": tp.partition,
                "committed": committed,
                "end_offset": end,
                "lag": max(0, end - committed),
            }
        )
    return offsets


@admin_routes.get("/admin/groups")
async def _list_groups(request: web.Request) -> web.Response:
    cluster = request.app[CLUSTER]
    out = []
    for group in cluster.groups():
        lag = sum(o["lag"] for o in await _lag(cluster, group.group_id))
        out.append(
            {
                "group_id": group.group_id,
                "state": group.state,
                "protocol_type": group.protocol_type,
                "lag": lag,
            }
        )
    return _reply(out)


@admin_routes.get("/admin/groups/{group}")
async def _describe_group(request: web.Request) -> web.Response:
    cluster, group_id = request.app[CLUSTER], request.match_info["group"]
    found = next((g for g in cluster.groups() if g.group_id == group_id), None)
    if found is None:
        raise RestError(404, 40403, f"Consumer group {group_id} not found.")
    offsets = await _lag(cluster, group_id)
    return _reply(
        {
            "group_id": group_id,
            "state": found.state,
            "protocol_type": found.protocol_type,
            "lag": sum(o["lag"] for o in offsets),
            "offsets": offsets,
        }
    )
