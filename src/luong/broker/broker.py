"""Broker: decodes a request frame, runs its handler, encodes the answer.

Also holds the service layer the handlers and the HTTP gateway share, so that
rules (and later ACL checks, quotas and metrics) hook in at one place: `topics`
(TopicService: lookups and administration), `produce` (ProduceService: every
client write), `logs` (LogService: reads, offsets, DeleteRecords, the fetch
purgatory), `offsets` (committed offsets), `groups` (consumer groups) and
`transactions`. Handlers never reach the storage themselves. Owned by the
server's event loop; handlers run one request per connection at a time, many
connections concurrently.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from luong.broker.context import RequestContext
from luong.broker.groups import GroupService
from luong.broker.handlers import HANDLERS
from luong.broker.internal import is_internal_topic, open_internal_topic
from luong.broker.log_service import LogService
from luong.broker.offsets import OffsetService
from luong.broker.produce_service import ProduceService
from luong.broker.topic_service import TopicService
from luong.broker.transactions import TransactionService
from luong.clock import Clock
from luong.config import BrokerConfig
from luong.coordinator.groups import GroupCoordinator
from luong.coordinator.transactions import TransactionCoordinator
from luong.errors import ErrorCode, InvalidTopicError, LuongError
from luong.protocol.apis import API_VERSIONS_KEY, load_specs
from luong.protocol.fetch_response import Chunk
from luong.protocol.framing import parse_request_header
from luong.protocol.records import Record, RecordBatch, build_batch
from luong.storage import Storage
from luong.types import TopicPartition

__all__ = ["Broker", "BrokerIdentity", "ProtocolViolation"]

log = logging.getLogger("luong.broker")
Response = Sequence[bytes | Chunk]


@dataclass(frozen=True, slots=True)
class BrokerIdentity:
    """How clients reach this node, as Metadata and FindCoordinator advertise it."""

    node_id: int
    host: str
    port: int
    cluster_id: str
    listen: str = ""  # HOST:PORT the listener is bound to


class ProtocolViolation(Exception):
    """A request the protocol gives no answer to: the connection is closed."""


class Broker:
    """One node's request handling over a Storage."""

    def __init__(
        self, storage: Storage, config: BrokerConfig, identity: BrokerIdentity, clock: Clock
    ) -> None:
        self._storage = storage
        self.config = config
        self.identity = identity
        self.topics = TopicService(storage, config)
        self.logs = LogService(storage)
        self.specs = load_specs({key: handler.accepted for key, handler in HANDLERS.items()})
        retention_ms = int(config["offsets.retention.minutes"]) * 60_000
        self.offsets = OffsetService(storage, clock, retention_ms)
        delay_ms = int(config["group.initial.rebalance.delay.ms"])
        max_size = int(config["group.max.size"])
        session_range = (
            int(config["group.min.session.timeout.ms"]),
            int(config["group.max.session.timeout.ms"]),
        )
        coordinator = GroupCoordinator(delay_ms, max_size, session_range)
        self.groups = GroupService(coordinator, clock, self.offsets.append_records)
        transactions = TransactionCoordinator(
            int(config["transaction.max.timeout.ms"]),
            int(config["transactional.id.expiration.ms"]),
        )
        self.transactions = TransactionService(
            storage,
            self.offsets,
            transactions,
            clock,
            int(config["transaction.abort.timed.out.transaction.cleanup.interval.ms"]),
        )
        self.clock = clock
        self.produce = ProduceService(storage, self.topics, self.transactions, clock)
        # encoded Metadata bodies by (version, topics), see handlers/metadata.py
        self.metadata_cache: dict[tuple[object, ...], bytes] = {}

    async def start(self) -> None:
        """Rebuild the internal state (committed offsets, groups, transactions) and start
        the coordinators' clocks."""
        await self.offsets.start(
            lambda records: self.groups.coordinator.replay(records, self.clock.time_ms())
        )
        self.groups.start()
        await self.transactions.start()

    async def stop(self) -> None:
        await self.transactions.stop()
        await self.groups.stop()

    async def run_maintenance(self) -> None:
        """Periodic work of the coordinators: expire idle groups' offsets, then forget
        Empty groups left without any; forget idle producers and transactional ids."""
        active = [g for g, group in self.groups.coordinator.groups.items() if group.members]
        await self.offsets.expire(active)
        await self.groups.remove_expired(self.offsets.store.groups())
        await self._storage.expire_producers(int(self.config["producer.id.expiration.ms"]))
        await self.transactions.expire()

    # -- requests --------------------------------------------------------------------

    async def handle(self, frame: bytes | memoryview, client_host: str = "") -> Response | None:
        """The response frame (as pieces) for one request frame; None for no response.

        Raises ProtocolViolation when the connection must be closed.
        """
        try:
            header = parse_request_header(frame)
        except LuongError as error:
            raise ProtocolViolation(str(error)) from None
        spec = self.specs.get((header.api_key, header.api_version))
        if spec is None:
            if header.api_key == API_VERSIONS_KEY:
                return [self._unsupported_api_versions(header.correlation_id)]
            raise ProtocolViolation(
                f"unsupported API key {header.api_key} version {header.api_version}"
            )
        try:
            request = spec.decode(frame, header)
        except LuongError as error:
            raise ProtocolViolation(str(error)) from None
        context = RequestContext(self, header, spec, client_host)
        result = await HANDLERS[header.api_key].handle(context, request)
        if result is None:
            return None
        if isinstance(result, bytes):
            return [result]
        if isinstance(result, Mapping):
            return [spec.encode(header.correlation_id, result)]
        return result

    # -- internal topics of other parts (the gateway's webhook subscriptions) ---------

    async def open_internal(self, name: str, apply: Callable[[RecordBatch], None]) -> None:
        """Create internal topic `name` if missing and replay it (broker/internal.py)."""
        _check_internal(name)
        await open_internal_topic(self._storage, name, apply)

    async def append_internal(self, name: str, records: Sequence[Record]) -> None:
        """Append records to internal topic `name`, durably (its one partition)."""
        _check_internal(name)
        batch = build_batch([replace(r, offset=i) for i, r in enumerate(records)])
        await self._storage.append(TopicPartition(name, 0), batch)

    def advertised_api_keys(self) -> list[dict[str, int]]:
        return [
            {"api_key": key, "min_version": h.min_version, "max_version": h.max_version}
            for key, h in sorted(HANDLERS.items())
        ]

    def _unsupported_api_versions(self, correlation_id: int) -> bytes:
        """ApiVersions v0 layout with UNSUPPORTED_VERSION, so the client retries lower."""
        keys = self.advertised_api_keys()
        body = struct.pack(">ihi", correlation_id, ErrorCode.UNSUPPORTED_VERSION, len(keys))
        body += b"".join(
            struct.pack(">hhh", k["api_key"], k["min_version"], k["max_version"]) for k in keys
        )
        return struct.pack(">i", len(body)) + body

    def log_client_error(self, context: RequestContext, error: LuongError) -> None:
        log.warning(
            "client %s: %s refused: %s",
            context.header.client_id,
            HANDLERS[context.header.api_key].name,
            error,
        )


def _check_internal(name: str) -> None:
    if not is_internal_topic(name):
        raise InvalidTopicError(f"{name!r} is not an internal topic name")
