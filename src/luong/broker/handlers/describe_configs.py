"""DescribeConfigs (key 32), versions 1-4: a topic's or this broker's settings.

resource_type 2 (topic): every topic setting, with its source: TOPIC_CONFIG (1) when
set on the topic, STATIC_BROKER_CONFIG (4) when a broker-level default (`log.*`)
applies, DEFAULT_CONFIG (5) otherwise. Unknown topic: UNKNOWN_TOPIC_OR_PARTITION.

resource_type 4 (broker, named by its node id): every broker setting, read-only
(they are static), STATIC_BROKER_CONFIG when given at start, else DEFAULT_CONFIG.
The name "" (Kafka's cluster-wide dynamic defaults) has no settings; another node's
id is INVALID_REQUEST, as is any other resource type.

configuration_keys null or empty means every setting; names luong lacks are left
out. include_synonyms lists, most specific first, the topic override, the
broker-level default and the built-in default (under the broker setting's name).
v3+: config_type, and the documentation text when include_documentation.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult, error_fields
from luong.broker.handlers.create_topics import CONFIG_SOURCES, config_entries
from luong.config import BROKER_CONFIGS, TOPIC_CONFIGS, TOPIC_DEFAULT_NAMES, ConfigDef
from luong.config.definitions import INT32_MAX
from luong.errors import InvalidRequestError, LuongError

__all__ = ["HANDLER", "config_type", "handle"]

TOPIC, BROKER = 2, 4
TOPIC_CONFIG = CONFIG_SOURCES["TOPIC_CONFIG"]
STATIC_BROKER_CONFIG = CONFIG_SOURCES["STATIC_BROKER_CONFIG"]
DEFAULT_CONFIG = CONFIG_SOURCES["DEFAULT_CONFIG"]
# Kafka's ConfigType ids (DescribeConfigs v3+)
BOOLEAN, STRING, INT, LONG, LIST = 1, 2, 3, 5, 7
BROKER_NAMES = {topic: broker for broker, topic in TOPIC_DEFAULT_NAMES.items()}


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    docs = ctx.version >= 3 and request.include_documentation
    results = [_describe(ctx, r, request.include_synonyms, docs) for r in request.resources]
    return {"throttle_time": 0, "results": results}


def _describe(ctx: RequestContext, resource: Any, synonyms: bool, docs: bool) -> dict[str, Any]:
    answer = {"resource_type": resource.resource_type, "resource_name": resource.resource_name}
    try:
        entries = _entries(ctx, resource)
    except LuongError as error:
        return {**answer, **error_fields(error), "configs": []}
    wanted = set(resource.configuration_keys or ())
    configs = [
        _finish(entry, synonyms, docs) for entry in entries if not wanted or entry["name"] in wanted
    ]
    return {**answer, **error_fields(None), "configs": configs}


def _entries(ctx: RequestContext, resource: Any) -> list[dict[str, Any]]:
    """Entries with `synonyms` and `definition` still to be trimmed by `_finish`."""
    if resource.resource_type == TOPIC:
        info = ctx.broker.topics.topic(resource.resource_name)
        entries = config_entries(info)
        for entry in entries:
            entry["definition"] = TOPIC_CONFIGS[entry["name"]]
            entry["synonyms"] = _topic_synonyms(info.config.overrides, info.config.defaults, entry)
        return entries
    if resource.resource_type == BROKER:
        return _broker_entries(ctx, resource.resource_name)
    raise InvalidRequestError(f"Unsupported resource type: {resource.resource_type}")


def _topic_synonyms(overrides: Any, defaults: Any, entry: dict[str, Any]) -> list[dict[str, Any]]:
    name = entry["name"]
    broker_name = BROKER_NAMES.get(name, name)
    out = []
    if name in overrides:
        out.append({"name": name, "value": overrides[name], "source": TOPIC_CONFIG})
    if name in defaults:
        out.append({"name": broker_name, "value": defaults[name], "source": STATIC_BROKER_CONFIG})
    default = TOPIC_CONFIGS[name].default
    out.append({"name": broker_name, "value": default, "source": DEFAULT_CONFIG})
    return out


SENSITIVE = frozenset({"luong.http.tokens"})  # never sent back (Kafka answers null too)


def _broker_entries(ctx: RequestContext, name: str) -> list[dict[str, Any]]:
    node_id = str(ctx.broker.identity.node_id)
    if name == "":
        return []  # no dynamic cluster-wide defaults: every broker setting is static
    if name != node_id:
        raise InvalidRequestError(f"Unexpected broker id, expected {node_id}, but received {name}")
    given = ctx.broker.config.given
    entries = []
    for key, definition in BROKER_CONFIGS.items():
        secret = key in SENSITIVE
        synonyms = [{"name": key, "value": definition.default, "source": DEFAULT_CONFIG}]
        if key in given:
            value = None if secret else given[key]
            synonyms.insert(0, {"name": key, "value": value, "source": STATIC_BROKER_CONFIG})
        entries.append(
            {
                "name": key,
                "value": None if secret else given.get(key, definition.default),
                "read_only": True,
                "config_source": synonyms[0]["source"],
                "is_sensitive": secret,
                "definition": definition,
                "synonyms": synonyms,
            }
        )
    return entries + _listener_entries(ctx)


def _listener_entries(ctx: RequestContext) -> list[dict[str, Any]]:
    """`listeners` and `advertised.listeners`, which every Kafka broker reports. Kafka 3.x
    lists them as per-broker dynamic (read_only false) and clients check that; luong
    reports them the same way but takes them only from `luong serve` flags."""
    node = ctx.broker.identity
    address = f"PLAINTEXT://{node.host}:{node.port}"
    listen = f"PLAINTEXT://{node.listen or f'{node.host}:{node.port}'}"
    definition = ConfigDef("listeners", "", str, "PLAINTEXT://HOST:PORT", "")
    return [
        {
            "name": name,
            "value": value,
            "read_only": False,
            "config_source": DEFAULT_CONFIG,
            "is_sensitive": False,
            "synonyms": [],
            "definition": replace(definition, name=name, default=value, doc=doc),
        }
        for name, value, doc in (
            ("listeners", listen, "where this broker listens (luong serve --listen)"),
            ("advertised.listeners", address, "the address clients are told (--advertised)"),
        )
    ]


def _finish(entry: dict[str, Any], synonyms: bool, docs: bool) -> dict[str, Any]:
    definition: ConfigDef = entry.pop("definition")
    if not synonyms:
        entry["synonyms"] = []
    entry["config_type"] = config_type(definition)
    entry["documentation"] = definition.doc if docs else None
    return entry


def config_type(definition: ConfigDef) -> int:
    """Kafka's ConfigType of a setting, from what its parser returns: an int setting
    that accepts 2^31 is a LONG, else an INT."""
    value = definition.parse(definition.default)
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, frozenset):
        return LIST
    if isinstance(value, int):
        try:
            definition.parse(str(INT32_MAX + 1))
        except ValueError:
            return INT
        return LONG
    return STRING


HANDLER = ApiHandler(32, "DescribeConfigs", 1, 4, handle)
