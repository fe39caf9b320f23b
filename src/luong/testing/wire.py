"""Raw-frame Kafka client for tests: `luong.cli.wire`'s WireClient, re-exported."""

from luong.cli.wire import WireClient, request_frame

__all__ = ["WireClient", "request_frame"]
