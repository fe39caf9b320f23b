"""REST Proxy v2 topic routes: metadata and produce (thin: checks, then the broker).

    GET  /topics                                      ["name", ...] (internal topics left out)
    GET  /topics/{topic}                              {"name", "configs", "partitions"}
    GET  /topics/{topic}/partitions                   [{"partition", "leader", "replicas"}]
    GET  /topics/{topic}/partitions/{p}               {"partition", "leader", "replicas"}
    GET  /topics/{topic}/partitions/{p}/offsets       {"beginning_offset", "end_offset"}
    POST /topics/{topic}                              {"records": [{"key", "value", "partition"}]}
    POST /topics/{topic}/partitions/{p}               {"records": [{"key", "value"}]}

A produce answers 200 with one `offsets` entry per record, in order: its partition
and offset, or `error_code` 50002/50003 and `error` for a record whose partition
failed to append. A request that is wrong as a whole (type, JSON, fields, base64,
unknown partition, an internal topic) is refused before anything is written. A
topic that does not exist is created as a Kafka producer's first Metadata request
would create it on the same broker (`auto.create.topics.enable`, `num.partitions`;
Confluent's proxy produces through a Kafka producer, so it does the same); with
auto-creation off it is a 404 (40401).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from luong.errors import (
    InvalidTopicError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
)
from luong.gateway.access import grant_of
from luong.gateway.cluster import Cluster, ProducerRecord, TopicDescription
from luong.gateway.errors import (
    RestError,
    kafka_error_code,
    partition_not_found,
    topic_not_found,
)
from luong.gateway.media import V2, check_accept, decode_field, embedded_format, read_json
from luong.types import EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, TopicPartition

__all__ = ["CLUSTER", "produce_records", "records_from_body", "routes", "topic_info"]

routes = web.RouteTableDef()
CLUSTER = web.AppKey("cluster", Cluster)
REQUEST_FIELDS = frozenset(
    {"records", "key_schema", "key_schema_id", "value_schema", "value_schema_id"}
)


def _reply(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, content_type=V2)


def topic_info(request: web.Request) -> TopicDescription:
    """The path's topic, or 404 40401."""
    name = request.match_info["topic"]
    info = request.app[CLUSTER].topic(name)
    if info is None:
        raise topic_not_found(name)
    return info


def _partition(request: web.Request, info: TopicDescription) -> int:
    text = request.match_info["partition"]
    if not text.isdigit() or int(text) >= info.partitions:
        raise partition_not_found(f"topic {info.name} has no partition {text}")
    return int(text)


def _partition_json(cluster: Cluster, partition: int) -> dict[str, Any]:
    node = cluster.node_id
    return {
        "partition": partition,
        "leader": node,
        "replicas": [{"broker": node, "leader": True, "in_sync": True}],
    }


@routes.get("/topics")
async def _list_topics(request: web.Request) -> web.Response:
    check_accept(request)
    topics = request.app[CLUSTER].topics().values()
    prefix = grant_of(request)[1]
    return _reply(sorted(t.name for t in topics if not t.internal and t.name.startswith(prefix)))


@routes.get("/topics/{topic}")
async def _describe_topic(request: web.Request) -> web.Response:
    check_accept(request)
    info, cluster = topic_info(request), request.app[CLUSTER]
    return _reply(
        {
            "name": info.name,
            "configs": {name: value for name, value, _ in info.configs},
            "partitions": [_partition_json(cluster, p) for p in range(info.partitions)],
        }
    )


@routes.get("/topics/{topic}/partitions")
async def _list_partitions(request: web.Request) -> web.Response:
    check_accept(request)
    info = topic_info(request)
    return _reply([_partition_json(request.app[CLUSTER], p) for p in range(info.partitions)])


@routes.get("/topics/{topic}/partitions/{partition}")
async def _describe_partition(request: web.Request) -> web.Response:
    check_accept(request)
    info = topic_info(request)
    return _reply(_partition_json(request.app[CLUSTER], _partition(request, info)))


@routes.get("/topics/{topic}/partitions/{partition}/offsets")
async def _partition_offsets(request: web.Request) -> web.Response:
    check_accept(request)
    info = topic_info(request)
    tp = TopicPartition(info.name, _partition(request, info))
    cluster = request.app[CLUSTER]
    beginning = await cluster.list_offset(tp, EARLIEST_TIMESTAMP, committed=False)
    end = await cluster.list_offset(tp, LATEST_TIMESTAMP, committed=False)
    return _reply({"beginning_offset": beginning, "end_offset": end})


@routes.post("/topics/{topic}")
async def _produce_to_topic(request: web.Request) -> web.Response:
    return await _produce(request, None)


@routes.post("/topics/{topic}/partitions/{partition}")
async def _produce_to_partition(request: web.Request) -> web.Response:
    text = request.match_info["partition"]
    if not text.isdigit():
        raise partition_not_found(f"topic {request.match_info['topic']} has no partition {text}")
    return await _produce(request, int(text))


async def _produce(request: web.Request, partition: int | None) -> web.Response:
    check_accept(request)
    embedded = embedded_format(request)
    records = records_from_body(embedded, await read_json(request), partition)
    topic = request.match_info["topic"]
    offsets = await produce_records(request.app[CLUSTER], topic, records)
    return _reply({"offsets": offsets, "key_schema_id": None, "value_schema_id": None})


async def produce_records(
    cluster: Cluster, topic: str, records: list[ProducerRecord]
) -> list[dict[str, Any]]:
    """Produce `records`; one REST Proxy `offsets` entry per record. Refused whole,
    before anything is written: 404 40401 for a topic that does not exist (and may not
    be created), 40402 for a partition it lacks, 403 for an internal topic, 422 for an
    illegal topic name."""
    try:
        results = await cluster.produce(topic, records)
    except UnknownTopicOrPartitionError as error:
        if cluster.topic(topic) is None:
            raise topic_not_found(topic) from None
        raise partition_not_found(str(error)) from None
    except TopicAuthorizationFailedError as error:
        raise RestError(403, 40301, str(error)) from None
    except InvalidTopicError as error:
        raise RestError(422, 422, str(error)) from None
    return [
        {"partition": r.partition, "offset": r.offset, "error_code": None, "error": None}
        if r.error is None
        else {
            "partition": r.partition,
            "offset": None,
            "error_code": kafka_error_code(r.error),
            "error": str(r.error) or type(r.error).__name__,
        }
        for r in results
    ]


def records_from_body(embedded: str, body: Any, partition: int | None) -> list[ProducerRecord]:
    """The request's records, validated whole (422 naming the first problem)."""
    if not isinstance(body, dict):
        raise RestError(422, 422, "the request body must be a JSON object with 'records'")
    unknown = sorted(set(body) - REQUEST_FIELDS)
    if unknown:
        raise RestError(422, 422, f"Unrecognized field: {unknown[0]}")
    records = body.get("records")
    if not isinstance(records, list) or not records:
        raise RestError(422, 422, "records may not be empty")
    return [_record(embedded, r, i, partition) for i, r in enumerate(records)]


def _record(embedded: str, record: Any, index: int, partition: int | None) -> ProducerRecord:
    where = f"records[{index}]"
    if not isinstance(record, dict):
        raise RestError(422, 422, f"{where} must be a JSON object")
    allowed = {"key", "value"} if partition is not None else {"key", "value", "partition"}
    unknown = sorted(set(record) - allowed)
    if unknown:
        raise RestError(422, 422, f"Unrecognized field in {where}: {unknown[0]}")
    chosen = record.get("partition", partition)
    if chosen is not None and (type(chosen) is not int or chosen < 0):
        raise RestError(422, 422, f"{where}.partition must be a non-negative integer")
    return ProducerRecord(
        key=decode_field(embedded, record.get("key"), f"{where}.key"),
        value=decode_field(embedded, record.get("value"), f"{where}.value"),
        partition=chosen,
    )
