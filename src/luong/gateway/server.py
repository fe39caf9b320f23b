"""Gateway: the HTTP front door (aiohttp) on the broker's service layer.

Runs on the broker's event loop, beside the Kafka listener; routes are thin and
call the broker's services. Request bodies above MAX_BODY_BYTES are refused
with 413 before they are read whole.
"""

from __future__ import annotations

import logging

from aiohttp import web

from luong.broker import Broker
from luong.gateway.errors import error_middleware
from luong.gateway.topics import BROKER, routes

__all__ = ["MAX_BODY_BYTES", "Gateway", "build_app"]

log = logging.getLogger("luong.gateway")
MAX_BODY_BYTES = 16 << 20


def build_app(broker: Broker) -> web.Application:
    app = web.Application(middlewares=[error_middleware], client_max_size=MAX_BODY_BYTES)
    app[BROKER] = broker
    app.add_routes(routes)
    return app


class Gateway:
    """The HTTP listener; owned by the event loop, started after the broker."""

    def __init__(self, broker: Broker, host: str, port: int) -> None:
        self._runner = web.AppRunner(build_app(broker), access_log=None, handle_signals=False)
        self.host = host
        self.port = port

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("HTTP gateway listening on http://%s:%d", self.host, self.port)

    async def stop(self) -> None:
        await self._runner.cleanup()
