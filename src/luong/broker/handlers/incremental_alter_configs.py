"""IncrementalAlterConfigs (key 44), versions 0-1: change single topic settings.

Operations per setting: SET (0) overrides it; DELETE (1) removes the override, so the
broker-level or built-in default applies again; APPEND (2) and SUBTRACT (3) add items
to or remove items from a list setting (`cleanup.policy`), starting from its current
value, override or default. validate_only checks without applying.

A resource's operations apply together or not at all: a bad name or value, or
APPEND/SUBTRACT on a non-list setting, is INVALID_CONFIG naming the key; a key named
twice, a SET with a null value or an unknown operation is INVALID_REQUEST; an
unknown topic is UNKNOWN_TOPIC_OR_PARTITION. Broker settings are static
(INVALID_REQUEST, see alter_configs); other resource types are INVALID_REQUEST.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.alter_configs import alter_resources
from luong.broker.handlers.base import ApiHandler, HandlerResult
from luong.broker.handlers.describe_configs import LIST, config_type
from luong.broker.topic_service import TopicInfo
from luong.config import TOPIC_CONFIGS
from luong.errors import InvalidConfigError, InvalidRequestError

__all__ = ["HANDLER", "handle"]

SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    return await alter_resources(ctx, request, _changes)


def _changes(info: TopicInfo, ops: Any) -> dict[str, str | None]:
    """Each operation as a new override value (None: remove the override)."""
    current = {name: value for name, value, _ in info.config.entries()}
    names = [op.name for op in ops]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InvalidRequestError(f"Error due to duplicate config keys: {', '.join(duplicates)}")
    return {op.name: _apply(op, current) for op in ops}


def _apply(op: Any, current: Mapping[str, str]) -> str | None:
    operation = op.config_operation
    if operation == DELETE:
        return None
    if op.value is None:
        raise InvalidRequestError(f"Null value not supported for: {op.name}")
    if operation == SET:
        return str(op.value)
    if operation not in (APPEND, SUBTRACT):
        raise InvalidRequestError(f"Unknown config operation {operation} for: {op.name}")
    definition = TOPIC_CONFIGS.get(op.name)
    if definition is None:
        raise InvalidConfigError(f"Unknown topic config name: {op.name}")
    if config_type(definition) != LIST:
        verb = "append" if operation == APPEND else "subtract"
        raise InvalidConfigError(f"Config value {verb} is not allowed for config key: {op.name}")
    existing = _items(current[op.name])
    given = _items(op.value)
    if operation == APPEND:
        return ",".join(existing + [item for item in given if item not in existing])
    return ",".join(item for item in existing if item not in given)


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


HANDLER = ApiHandler(44, "IncrementalAlterConfigs", 0, 1, handle)
