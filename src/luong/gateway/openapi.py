"""The gateway's OpenAPI 3.1 document (`/openapi.json`) and a readable page of it (`/docs`).

Written by hand next to the routes it describes: every operation lists the status
codes it can answer and the media types it takes and gives, so a client generator
or a fuzzer (schemathesis, in the tests) can hold the gateway to it.
"""

from __future__ import annotations

import html
from typing import Any

from aiohttp import web

from luong.gateway.media import BINARY, JSON, V2

__all__ = ["document", "openapi_routes"]

openapi_routes = web.RouteTableDef()

ERROR = {"$ref": "#/components/schemas/Error"}
STRING = {"type": "string"}
INT = {"type": "integer"}
OFFSET = {"type": "integer", "minimum": 0}


def _error_responses(*codes: int) -> dict[str, Any]:
    reasons = {
        400: "malformed JSON",
        404: "no such topic (40401), partition (40402), consumer instance (40403) or route",
        405: "method not allowed",
        406: "the Accept header asks for a type this endpoint does not give",
        403: "an internal topic, or beyond the token's reach (40301)",
        409: "consumer conflicts: instance exists (40902), illegal state (40903)",
        413: "body over 16 MiB",
        415: "wrong Content-Type",
        422: "invalid fields, base64, filters or parameters",
    }
    return {
        str(code): {"description": reasons[code], "content": {V2: {"schema": ERROR}}}
        for code in codes
    }


def _ok(schema: dict[str, Any], media: str = V2, code: str = "200") -> dict[str, Any]:
    return {code: {"description": "OK", "content": {media: {"schema": schema}}}}


NO_CONTENT = {"204": {"description": "done"}}


def _path(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _body(schema: dict[str, Any], *media: str, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {m: {"schema": schema} for m in media}}


def _op(summary: str, responses: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": responses, **more}


TOPIC = _path("topic", {"type": "string", "minLength": 1})
PARTITION = _path("partition", OFFSET)
GROUP = _path("group", {"type": "string", "minLength": 1})
INSTANCE = _path("name", {"type": "string", "minLength": 1})
TOPIC_PARTITIONS = {"$ref": "#/components/schemas/TopicPartitions"}
STREAM_QUERY = [
    _query("partition", OFFSET, "one partition (default: all)"),
    _query("from", {"enum": ["latest", "earliest"]}, "where to start (latest)"),
    _query("offset", OFFSET, "start at this offset (with partition)"),
    _query("timestamp", OFFSET, "start at the first record at or after it (ms)"),
    _query("last_event_id", STRING, "resume after this event id (as Last-Event-ID)"),
    _query("filter", STRING, "header.NAME[=TEXT], key OP TEXT, value.FIELD[ OP LITERAL]"),
    _query("format", {"enum": ["json", "text", "binary"]}, "how keys and values are sent"),
    _query("max_events", OFFSET, "end after this many events"),
    _query("timeout_ms", OFFSET, "end after this many milliseconds"),
    _query(
        "group",
        {"type": "string", "minLength": 1},
        "read as a member of this consumer group, committing what was sent",
    ),
]

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error_code", "message"],
        "properties": {"error_code": INT, "message": STRING},
    },
    "ProduceRequest": {
        "type": "object",
        "required": ["records"],
        "properties": {
            "records": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {"key": {}, "value": {}, "partition": OFFSET},
                    "additionalProperties": False,
                },
            },
            "key_schema": {},
            "key_schema_id": {},
            "value_schema": {},
            "value_schema_id": {},
        },
        "additionalProperties": False,
    },
    "ProduceResponse": {
        "type": "object",
        "properties": {
            "offsets": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "partition": INT,
                        "offset": {"type": ["integer", "null"]},
                        "error_code": {"type": ["integer", "null"]},
                        "error": {"type": ["string", "null"]},
                    },
                },
            },
            "key_schema_id": {"type": "null"},
            "value_schema_id": {"type": "null"},
        },
    },
    "Partition": {
        "type": "object",
        "properties": {"partition": INT, "leader": INT, "replicas": {"type": "array"}},
    },
    "Topic": {
        "type": "object",
        "properties": {
            "name": STRING,
            "configs": {"type": "object", "additionalProperties": STRING},
            "partitions": {"type": "array", "items": {"$ref": "#/components/schemas/Partition"}},
        },
    },
    "TopicPartitions": {
        "type": "object",
        "required": ["partitions"],
        "properties": {
            "partitions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["topic", "partition"],
                    "properties": {"topic": STRING, "partition": OFFSET},
                },
            }
        },
    },
    "Offsets": {
        "type": "object",
        "required": ["offsets"],
        "properties": {
            "offsets": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["topic", "partition", "offset"],
                    "properties": {
                        "topic": STRING,
                        "partition": OFFSET,
                        "offset": OFFSET,
                        "metadata": STRING,
                    },
                },
            }
        },
    },
    "ConsumerConfig": {
        "type": "object",
        "properties": {
            "name": STRING,
            "format": {"enum": ["binary", "json"]},
            "auto.offset.reset": {"enum": ["earliest", "latest"]},
            "auto.commit.enable": {"enum": ["true", "false"]},
            "fetch.min.bytes": INT,
            "consumer.request.timeout.ms": INT,
        },
    },
    "Subscription": {
        "type": "object",
        "properties": {"topics": {"type": "array", "items": STRING}, "topic_pattern": STRING},
    },
}


def _topic_paths() -> dict[str, Any]:
    produce = _body({"$ref": "#/components/schemas/ProduceRequest"}, BINARY, JSON)
    produced = _ok({"$ref": "#/components/schemas/ProduceResponse"})
    produce_errors = _error_responses(400, 403, 404, 406, 413, 415, 422)
    return {
        "/topics": {
            "get": _op(
                "List topics", {**_ok({"type": "array", "items": STRING}), **_error_responses(406)}
            ),
        },
        "/topics/{topic}": {
            "parameters": [TOPIC],
            "get": _op(
                "Describe a topic",
                {**_ok({"$ref": "#/components/schemas/Topic"}), **_error_responses(404, 406)},
            ),
            "post": _op("Produce records", {**produced, **produce_errors}, requestBody=produce),
        },
        "/topics/{topic}/partitions": {
            "parameters": [TOPIC],
            "get": _op("List partitions", {**_ok({"type": "array"}), **_error_responses(404, 406)}),
        },
        "/topics/{topic}/partitions/{partition}": {
            "parameters": [TOPIC, PARTITION],
            "get": _op(
                "Describe a partition",
                {**_ok({"$ref": "#/components/schemas/Partition"}), **_error_responses(404, 406)},
            ),
            "post": _op(
                "Produce records to a partition",
                {**produced, **produce_errors},
                requestBody=produce,
            ),
        },
        "/topics/{topic}/partitions/{partition}/offsets": {
            "parameters": [TOPIC, PARTITION],
            "get": _op(
                "First and next offsets", {**_ok({"type": "object"}), **_error_responses(404, 406)}
            ),
        },
        "/topics/{topic}/events": {
            "parameters": [TOPIC],
            "get": _op(
                "Live records as Server-Sent Events",
                {**_ok(STRING, "text/event-stream"), **_error_responses(404, 422)},
                parameters=STREAM_QUERY,
            ),
        },
        "/topics/{topic}/ws": {
            "parameters": [TOPIC],
            "get": _op(
                "WebSocket: the same stream, plus produce frames",
                {"101": {"description": "switching protocols"}, **_error_responses(400, 404, 422)},
                parameters=[
                    *STREAM_QUERY,
                    _query("subscribe", {"enum": ["true", "false"]}, "false: produce only"),
                ],
            ),
        },
    }


def _consumer_paths() -> dict[str, Any]:
    base = "/consumers/{group}/instances/{name}"
    errors = _error_responses(400, 404, 409, 415, 422)
    v2_body = _body({"type": "object"}, V2, "application/json", required=False)
    return {
        "/consumers/{group}": {
            "parameters": [GROUP],
            "post": _op(
                "Create a consumer instance",
                {**_ok({"type": "object"}), **errors},
                requestBody=_body(
                    {"$ref": "#/components/schemas/ConsumerConfig"},
                    V2,
                    "application/json",
                    required=False,
                ),
            ),
        },
        base: {
            "parameters": [GROUP, INSTANCE],
            "delete": _op("Delete the instance", {**NO_CONTENT, **errors}),
        },
        f"{base}/subscription": {
            "parameters": [GROUP, INSTANCE],
            "post": _op(
                "Subscribe",
                {**NO_CONTENT, **errors},
                requestBody=_body({"$ref": "#/components/schemas/Subscription"}, V2),
            ),
            "get": _op("The subscription", {**_ok({"type": "object"}), **errors}),
            "delete": _op("Unsubscribe", {**NO_CONTENT, **errors}),
        },
        f"{base}/assignments": {
            "parameters": [GROUP, INSTANCE],
            "post": _op(
                "Assign partitions",
                {**NO_CONTENT, **errors},
                requestBody=_body(TOPIC_PARTITIONS, V2),
            ),
            "get": _op("The assignment", {**_ok(TOPIC_PARTITIONS), **errors}),
        },
        f"{base}/positions": {
            "parameters": [GROUP, INSTANCE],
            "post": _op(
                "Seek",
                {**NO_CONTENT, **errors},
                requestBody=_body({"$ref": "#/components/schemas/Offsets"}, V2),
            ),
        },
        f"{base}/positions/beginning": {
            "parameters": [GROUP, INSTANCE],
            "post": _op(
                "Seek to the beginning",
                {**NO_CONTENT, **errors},
                requestBody=_body(TOPIC_PARTITIONS, V2),
            ),
        },
        f"{base}/positions/end": {
            "parameters": [GROUP, INSTANCE],
            "post": _op(
                "Seek to the end", {**NO_CONTENT, **errors}, requestBody=_body(TOPIC_PARTITIONS, V2)
            ),
        },
        f"{base}/records": {
            "parameters": [GROUP, INSTANCE],
            "get": _op(
                "Fetch records",
                {
                    "200": {
                        "description": "records",
                        "content": {m: {"schema": {"type": "array"}} for m in (BINARY, JSON)},
                    },
                    **_error_responses(404, 406, 409, 422),
                },
                parameters=[
                    _query("timeout", INT, "ms to wait at most"),
                    _query("max_bytes", INT, "bytes of keys and values at most"),
                ],
            ),
        },
        f"{base}/offsets": {
            "parameters": [GROUP, INSTANCE],
            "post": _op(
                "Commit offsets (the last consumed)",
                {**_ok({"type": "array"}), **errors},
                requestBody=v2_body,
            ),
            "get": _op(
                "Committed offsets",
                {**_ok({"type": "object"}), **errors},
                requestBody=_body(TOPIC_PARTITIONS, V2),
            ),
        },
    }


def _admin_paths() -> dict[str, Any]:
    topic_body = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": STRING,
            "partitions": {"type": "integer", "minimum": 1, "maximum": 100_000},
            "configs": {"type": "object", "additionalProperties": STRING},
        },
    }
    changes = {
        "type": "object",
        "required": ["configs"],
        "properties": {
            "configs": {"type": "object", "additionalProperties": {"type": ["string", "null"]}}
        },
    }
    group = _path("group", {"type": "string", "minLength": 1})
    return {
        "/admin/topics": {
            "get": _op("Topics", _ok({"type": "array"})),
            "post": _op(
                "Create a topic",
                {**_ok({"type": "object"}, code="201"), **_error_responses(400, 404, 413, 422)},
                requestBody=_body(topic_body, V2, "application/json"),
            ),
        },
        "/admin/topics/{topic}": {
            "parameters": [TOPIC],
            "get": _op(
                "A topic with its offsets", {**_ok({"type": "object"}), **_error_responses(404)}
            ),
            "patch": _op(
                "Change a topic's settings",
                {**_ok({"type": "object"}), **_error_responses(400, 403, 404, 413, 422)},
                requestBody=_body(changes, V2, "application/json"),
            ),
            "delete": _op("Delete a topic", {**NO_CONTENT, **_error_responses(400, 403, 404)}),
        },
        "/admin/groups": {"get": _op("Consumer groups with lag", _ok({"type": "array"}))},
        "/admin/groups/{group}": {
            "parameters": [group],
            "get": _op(
                "A group's committed offsets and lag",
                {**_ok({"type": "object"}), **_error_responses(404)},
            ),
        },
    }


def _webhook_paths() -> dict[str, Any]:
    create = {
        "type": "object",
        "required": ["topic", "url"],
        "properties": {
            "topic": STRING,
            "url": {"type": "string", "format": "uri"},
            "filter": {"type": "array", "items": STRING},
            "secret": STRING,
            "from": {"enum": ["latest", "earliest"]},
            "max_attempts": {"type": "integer", "minimum": 1},
            "backoff_ms": {"type": "integer", "minimum": 1},
            "max_backoff_ms": {"type": "integer", "minimum": 1},
            "rate_per_s": {"type": "number", "minimum": 0},
            "dead_letter_topic": STRING,
            "batch_size": {"type": "integer", "minimum": 1},
            "concurrency": {"type": "integer", "minimum": 0},
        },
        "additionalProperties": False,
    }
    hook = _path("id", STRING)
    one = {**_ok({"type": "object"}), **_error_responses(404)}
    return {
        "/webhooks": {
            "get": _op("Push subscriptions", _ok({"type": "array"})),
            "post": _op(
                "Create a push subscription",
                {**_ok({"type": "object"}, code="201"), **_error_responses(400, 404, 413, 422)},
                requestBody=_body(create, V2, "application/json"),
            ),
        },
        "/webhooks/{id}": {
            "parameters": [hook],
            "get": _op("A push subscription and its counters (never its secret)", one),
            "delete": _op("Delete a push subscription", {**NO_CONTENT, **_error_responses(404)}),
        },
        "/webhooks/{id}/pause": {"parameters": [hook], "post": _op("Pause delivery", one)},
        "/webhooks/{id}/resume": {"parameters": [hook], "post": _op("Resume delivery", one)},
    }


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "luong HTTP gateway",
            "version": "1",
            "description": "Confluent REST Proxy v2 compatible produce, consume and metadata, "
            "live streams (SSE, WebSocket), push subscriptions (webhooks), admin of topics "
            "and groups.",
        },
        "paths": {**_topic_paths(), **_consumer_paths(), **_admin_paths(), **_webhook_paths()},
        "components": {"schemas": SCHEMAS},
    }


@openapi_routes.get("/openapi.json")
async def _openapi_json(request: web.Request) -> web.Response:
    return web.json_response(document())


@openapi_routes.get("/docs")
async def _docs(request: web.Request) -> web.Response:
    """The document as one self-contained page (no scripts fetched from elsewhere)."""
    rows = []
    for path, item in document()["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            codes = ", ".join(op["responses"])
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code>"
                f"</td><td>{html.escape(op['summary'])}</td><td>{codes}</td></tr>"
            )
    page = (
        "<!doctype html><meta charset=utf-8><title>luong HTTP gateway</title>"
        "<style>body{font-family:sans-serif;margin:2em}td{padding:.2em .8em}</style>"
        "<h1>luong HTTP gateway</h1><p>The OpenAPI document: "
        "<a href=/openapi.json>/openapi.json</a>. The README shows examples.</p>"
        "<table><tr><th>method</th><th>path</th><th>what</th><th>answers</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    return web.Response(text=page, content_type="text/html")
