"""Push subscriptions over HTTP: each record of a topic POSTed to a URL, at least once.

    POST   /webhooks               {"topic", "url", "filter"?, "secret"?, "from"?,
                                    "max_attempts"?, "backoff_ms"?, "max_backoff_ms"?,
                                    "rate_per_s"?, "dead_letter_topic"?, "batch_size"?,
                                    "concurrency"?} -> 201 the subscription
    GET    /webhooks               the subscriptions the caller may see, with their state
    GET    /webhooks/{id}          one
    POST   /webhooks/{id}/pause    stop delivering (positions kept)
    POST   /webhooks/{id}/resume
    DELETE /webhooks/{id}          204

How delivery works is in webhook_delivery.py, how subscriptions are kept in
webhook_store.py. No answer ever carries a subscription's secret: only
`secret_set` says whether requests are signed (without a secret they are not).
With bearer tokens, a caller sees and manages only subscriptions on topics its
token reaches (others are 404, as if they did not exist), and creating, pausing,
resuming or deleting one takes a read-write token.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from luong.errors import LuongError
from luong.gateway.access import check_topic, grant_of
from luong.gateway.cluster import Cluster
from luong.gateway.errors import RestError, topic_not_found
from luong.gateway.filters import FilterError, compile_filters
from luong.gateway.media import V2, read_json
from luong.gateway.topics import CLUSTER
from luong.gateway.webhook_delivery import WebhookManager, WebhookState
from luong.gateway.webhook_store import WebhookSettings
from luong.protocol.names import validate_topic_name

__all__ = ["WEBHOOKS", "webhook_routes"]

webhook_routes = web.RouteTableDef()


WEBHOOKS = web.AppKey("webhooks", WebhookManager)


def _settings(cluster: Cluster, body: Any) -> WebhookSettings:
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
    if cluster.topic(topic) is None:
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
    secret = body.get("secret") or ""
    if not isinstance(secret, str):
        raise RestError(422, 422, "'secret' must be a string")
    dead = _dead_letter_topic(cluster, body, topic)
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


def _dead_letter_topic(cluster: Cluster, body: dict[str, Any], topic: str) -> str:
    """The dead-letter topic asked for (or TOPIC.dlq): a legal name of another topic,
    not an internal one (the cluster would refuse every dead letter)."""
    dead = body.get("dead_letter_topic") or f"{topic}.dlq"
    if not isinstance(dead, str) or dead == topic:
        raise RestError(422, 422, "'dead_letter_topic' must be another topic's name")
    try:
        validate_topic_name(dead)
    except LuongError as error:
        raise RestError(422, 422, f"'dead_letter_topic': {error}") from None
    if cluster.internal(dead):
        raise RestError(422, 422, f"'dead_letter_topic' {dead!r} is an internal topic")
    return dead


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


def _visible(request: web.Request, state: WebhookState) -> bool:
    """Whether the caller's token reaches the subscription's topics."""
    prefix = grant_of(request)[1]
    settings = state.settings
    return settings.topic.startswith(prefix) and settings.dead_letter_topic.startswith(prefix)


def _subscription(request: web.Request) -> WebhookState:
    """The path's subscription, 404 if there is none the caller may see."""
    state = request.app[WEBHOOKS].subscriptions.get(request.match_info["id"])
    if state is None or not _visible(request, state):
        raise RestError(404, 404, f"Webhook subscription {request.match_info['id']} not found.")
    return state


def _reply(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, content_type=V2)


@webhook_routes.post("/webhooks")
async def _create(request: web.Request) -> web.Response:
    body = await read_json(request)
    if isinstance(body, dict) and isinstance(body.get("topic"), str):
        check_topic(request, body["topic"])  # before its existence is told
    settings = _settings(request.app[CLUSTER], body)
    check_topic(request, settings.topic)
    check_topic(request, settings.dead_letter_topic)
    state = await request.app[WEBHOOKS].create(settings)
    return _reply(state.public(), status=201)


@webhook_routes.get("/webhooks")
async def _list_all(request: web.Request) -> web.Response:
    subscriptions = request.app[WEBHOOKS].subscriptions.values()
    return _reply([s.public() for s in subscriptions if _visible(request, s)])


@webhook_routes.get("/webhooks/{id}")
async def _describe(request: web.Request) -> web.Response:
    return _reply(_subscription(request).public())


@webhook_routes.post("/webhooks/{id}/pause")
async def _pause(request: web.Request) -> web.Response:
    state = _subscription(request)
    await request.app[WEBHOOKS].pause(state)
    return _reply(state.public())


@webhook_routes.post("/webhooks/{id}/resume")
async def _resume(request: web.Request) -> web.Response:
    state = _subscription(request)
    await request.app[WEBHOOKS].resume(state)
    return _reply(state.public())


@webhook_routes.delete("/webhooks/{id}")
async def _delete(request: web.Request) -> web.Response:
    await request.app[WEBHOOKS].delete(_subscription(request))
    return web.Response(status=204)
