"""The HTTP gateway: REST Proxy v2 produce, consume and metadata, live streams (SSE,
WebSocket), push subscriptions (webhooks), admin, OpenAPI, bearer tokens."""

from luong.gateway.server import Gateway

__all__ = ["Gateway"]
