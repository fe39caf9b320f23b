"""Gateway: the HTTP front door (aiohttp) on a Cluster (cluster.py).

Runs on the broker's event loop, beside the Kafka listener; routes are thin and
reach the cluster only through the Cluster interface (LocalCluster in a single
node). Request bodies above MAX_BODY_BYTES are refused with 413 before they are
read whole.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence

from aiohttp import web

from luong.clock import Clock, SystemClock
from luong.gateway.access import ACCESS, AccessPolicy
from luong.gateway.admin import admin_routes
from luong.gateway.cluster import Cluster
from luong.gateway.consumers import CONSUMERS, ConsumerManager, consumer_routes
from luong.gateway.errors import error_middleware
from luong.gateway.events import STREAMS, event_routes
from luong.gateway.openapi import openapi_routes
from luong.gateway.streams import StreamHub
from luong.gateway.topics import CLUSTER, routes
from luong.gateway.webhook_delivery import WebhookManager
from luong.gateway.webhooks import WEBHOOKS, webhook_routes
from luong.gateway.websocket import websocket_routes

__all__ = ["MAX_BODY_BYTES", "Gateway", "build_app"]

log = logging.getLogger("luong.gateway")
MAX_BODY_BYTES = 16 << 20
SHUTDOWN_TIMEOUT_S = 3.0  # requests still running at a stop are cancelled after this


EXPIRY_INTERVAL_S = 10.0


def build_app(
    cluster: Cluster, tokens: Sequence[tuple[str, str, str]], clock: Clock
) -> web.Application:
    """The gateway's routes over `cluster`; `tokens` are `luong.http.tokens`."""
    access = AccessPolicy(tokens)
    app = web.Application(
        middlewares=[error_middleware, access.middleware], client_max_size=MAX_BODY_BYTES
    )
    app[ACCESS] = access
    app[CLUSTER] = cluster
    app[CONSUMERS] = ConsumerManager(cluster.bootstrap)
    app[STREAMS] = StreamHub(cluster)
    app.add_routes(routes)
    app.add_routes(event_routes)
    app.add_routes(websocket_routes)
    app.add_routes(openapi_routes)
    app.add_routes(admin_routes)
    app[WEBHOOKS] = WebhookManager(cluster, clock)
    app.add_routes(webhook_routes)
    app.cleanup_ctx.append(_webhooks_lifecycle)
    app.add_routes(consumer_routes)
    app.cleanup_ctx.append(_consumer_lifecycle)
    app.on_shutdown.append(_close_streams)
    return app


async def _webhooks_lifecycle(app: web.Application) -> AsyncIterator[None]:
    """Replay the push subscriptions and deliver them until the gateway stops."""
    await app[WEBHOOKS].start()
    yield
    await app[WEBHOOKS].stop()


async def _close_streams(app: web.Application) -> None:
    """End every live stream (with a reason) before the server waits for handlers."""
    await app[STREAMS].close()


async def _consumer_lifecycle(app: web.Application) -> AsyncIterator[None]:
    """Close idle consumer instances now and then; close them all at shutdown."""
    manager = app[CONSUMERS]

    async def expire() -> None:
        while True:
            await asyncio.sleep(EXPIRY_INTERVAL_S)
            await manager.expire(time.monotonic())

    task = asyncio.get_running_loop().create_task(expire())
    yield
    task.cancel()
    await manager.close()


class Gateway:
    """The HTTP listener; owned by the event loop, started after the broker."""

    def __init__(
        self,
        cluster: Cluster,
        host: str,
        port: int,
        *,
        tokens: Sequence[tuple[str, str, str]] = (),
        clock: Clock | None = None,
    ) -> None:
        app = build_app(cluster, tokens, clock or SystemClock())
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        self.host = host
        self.port = port

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(
            self._runner,
            self.host,
            self.port,
            reuse_address=True,
            shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        )
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("HTTP gateway listening on http://%s:%d", self.host, self.port)

    async def stop(self) -> None:
        await self._runner.cleanup()
