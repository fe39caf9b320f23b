"""Node: one luong process assembled: storage, broker, Kafka listener, maintenance.

Start: open the storage (recovery happens here; a data directory in use fails at
once), listen, run maintenance every `log.retention.check.interval.ms`. Stop:
stop accepting, let every connection finish the request in hand, close the
storage (flush, checkpoint, clean-shutdown marker).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import uuid
from dataclasses import dataclass, field

from luong.broker import Broker, BrokerIdentity
from luong.clock import SystemClock
from luong.config import BrokerConfig
from luong.protocol.apis import SpecTable
from luong.server.connection import KafkaConnection
from luong.storage import Storage, open_storage

__all__ = ["Node", "NodeConfig"]

log = logging.getLogger("luong.server")


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """Where a node keeps data, listens and says it can be reached."""

    storage_url: str
    listen_host: str = "127.0.0.1"
    listen_port: int = 9092
    advertised_host: str | None = None
    advertised_port: int | None = None
    broker: BrokerConfig = field(default_factory=BrokerConfig.from_settings)


class Node:
    """A running luong process; owned by its event loop."""

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.storage: Storage | None = None
        self.broker: Broker | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[KafkaConnection] = set()
        self._maintenance: asyncio.Task[None] | None = None
        self._warm_up: asyncio.Task[None] | None = None
        self.port = config.listen_port

    async def start(self) -> None:
        settings = self.config.broker
        clock = SystemClock()
        self.storage = await asyncio.to_thread(
            open_storage, self.config.storage_url, clock, settings.topic_defaults
        )
        identity = BrokerIdentity(
            int(settings["node.id"]),
            self.config.advertised_host or self.config.listen_host,
            self.config.advertised_port or 0,
            _cluster_id(self.config.storage_url),
        )
        self.broker = Broker(self.storage, settings, identity, clock)
        await self.broker.start()
        self._server = await asyncio.get_running_loop().create_server(
            self._new_connection,
            self.config.listen_host,
            self.config.listen_port,
            reuse_address=True,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self.broker.identity = BrokerIdentity(
            identity.node_id,
            identity.host,
            identity.port or self.port,
            identity.cluster_id,
            f"{self.config.listen_host}:{self.port}",
        )
        self._maintenance = asyncio.get_running_loop().create_task(self._run_maintenance())
        log.info(
            "luong listening on %s:%d (advertised %s:%d), storage %s",
            self.config.listen_host,
            self.port,
            self.broker.identity.host,
            self.broker.identity.port,
            self.config.storage_url,
        )

    def _new_connection(self) -> KafkaConnection:
        assert self.broker is not None
        connection = KafkaConnection(
            self.broker, int(self.config.broker["socket.request.max.bytes"])
        )
        self._connections.add(connection)
        asyncio.get_running_loop().create_task(self._forget(connection))
        return connection

    async def _forget(self, connection: KafkaConnection) -> None:
        await connection.closed.wait()
        self._connections.discard(connection)

    def warm_up(self) -> None:
        """Build the protocol table in the background (see `_build_specs`); called once
        every listener of the process is up, so that none waits for it."""
        assert self.broker is not None
        self._warm_up = asyncio.get_running_loop().create_task(self._build_specs(self.broker.specs))

    @staticmethod
    async def _build_specs(specs: SpecTable) -> None:
        """Build the protocol table's specs (kio's schema modules) one by one after the
        listener is up, letting requests through between them; then keep what start-up
        loaded out of the collector's full passes (they walk it for tens of ms)."""
        for key in specs.unbuilt():
            try:
                specs.get(key)  # about 7 ms each, 1.2 s for all 167 on this machine
            except Exception:  # a request of that version will meet the error itself
                log.exception("cannot build the protocol spec of API %d version %d", *key)
            await asyncio.sleep(0)
        gc.freeze()

    async def _run_maintenance(self) -> None:
        interval_s = int(self.config.broker["log.retention.check.interval.ms"]) / 1000
        assert self.storage is not None
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.storage.run_maintenance()
                if self.broker is not None:
                    await self.broker.run_maintenance()
            except Exception:
                log.exception("maintenance failed; retrying at the next interval")

    async def stop(self) -> None:
        """Stop accepting, finish in-flight requests, close the storage."""
        if self._server is not None:
            self._server.close()
        for task in (self._maintenance, self._warm_up):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await asyncio.gather(*(c.finish() for c in list(self._connections)))
        if self.broker is not None:
            await self.broker.stop()
        if self.storage is not None:
            await self.storage.close()
        log.info("luong stopped")


def _cluster_id(storage_url: str) -> str:
    """A stable cluster id per data directory (memory:// gets a fresh one)."""
    path = storage_url.split("://", 1)[-1]
    if not path or storage_url.startswith("memory"):
        return str(uuid.uuid4())
    return str(uuid.uuid5(uuid.NAMESPACE_URL, os.path.abspath(path)))
