"""AlterConfigs (key 33), versions 0-2: replace a topic's whole set of overrides.

The settings named (entries with a null value are dropped, as Kafka does) become the
topic's overrides; every setting left out returns to its broker-level or built-in
default. validate_only checks without applying. A bad name or value refuses the
whole resource with INVALID_CONFIG naming the key, and nothing of it is applied;
an unknown topic is UNKNOWN_TOPIC_OR_PARTITION.

Broker settings are static (`luong serve --set NAME=VALUE` or `--config FILE`, then
a restart): a broker resource naming any setting gets INVALID_REQUEST saying so.
Other resource types: INVALID_REQUEST.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult, error_fields
from luong.broker.handlers.describe_configs import BROKER, TOPIC
from luong.broker.topic_service import TopicInfo
from luong.errors import InvalidRequestError, LuongError

__all__ = ["HANDLER", "alter_resources", "check_topic_resource", "handle"]

Changes = Callable[[TopicInfo, Any], dict[str, str | None]]


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    return await alter_resources(ctx, request, _replacement)


async def alter_resources(ctx: RequestContext, request: Any, changes_of: Changes) -> HandlerResult:
    """Apply `changes_of(topic, configs)` to each resource, all or nothing per resource
    (shared by AlterConfigs and IncrementalAlterConfigs)."""
    responses = [await _alter(ctx, r, request.validate_only, changes_of) for r in request.resources]
    return {"throttle_time": 0, "responses": responses}


async def _alter(
    ctx: RequestContext, resource: Any, validate_only: bool, changes_of: Changes
) -> dict[str, Any]:
    answer = {"resource_type": resource.resource_type, "resource_name": resource.resource_name}
    try:
        check_topic_resource(resource.resource_type, [c.name for c in resource.configs])
        if resource.resource_type == TOPIC:
            info = ctx.broker.topics.topic(resource.resource_name)
            changes = changes_of(info, resource.configs)
            await ctx.broker.topics.alter_configs(info.name, changes, validate_only=validate_only)
    except LuongError as error:
        return {**answer, **error_fields(error)}
    return {**answer, **error_fields(None)}


def check_topic_resource(resource_type: int, names: list[str]) -> None:
    """Refuse anything but topics: broker settings are static, nothing else has any."""
    if resource_type == TOPIC or (resource_type == BROKER and not names):
        return
    if resource_type == BROKER:
        raise InvalidRequestError(
            f"Cannot update these configs dynamically: {', '.join(names)}: broker settings "
            "are static; set them with `luong serve --set NAME=VALUE` or --config and restart"
        )
    raise InvalidRequestError(f"Unsupported resource type: {resource_type}")


def _replacement(info: TopicInfo, configs: Any) -> dict[str, str | None]:
    """The changes that make `configs` the topic's whole set of overrides."""
    wanted = {c.name: c.value for c in configs if c.value is not None}
    dropped: dict[str, str | None] = {
        name: None for name in info.config.overrides if name not in wanted
    }
    return {**dropped, **wanted}


HANDLER = ApiHandler(33, "AlterConfigs", 0, 2, handle)
