"""The HTTP gateway: REST Proxy v2 compatible produce and metadata (more to come)."""

from luong.gateway.server import Gateway

__all__ = ["Gateway"]
