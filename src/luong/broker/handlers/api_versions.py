"""ApiVersions (key 18), versions 0-4: what this broker speaks.

An ApiVersions request of a version above the broker's gets UNSUPPORTED_VERSION
in the v0 layout (see Broker.unsupported_api_versions), so the client can retry.
"""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult

__all__ = ["HANDLER", "handle"]


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    return {"error_code": 0, "api_keys": ctx.broker.advertised_api_keys(), "throttle_time": 0}


HANDLER = ApiHandler(18, "ApiVersions", 0, 4, handle)
