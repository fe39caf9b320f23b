"""Webhook subscriptions as records of the internal topic `__luong_webhooks`.

    key:   the subscription id (UTF-8)
    value: its WebhookSettings as a JSON object; null (a tombstone) deletes it

The topic is compacted and internal: clients can neither write nor read it (it
holds the subscriptions' secrets), so only the gateway puts records there. At
start the topic is replayed through the cluster's internal-topic replay, which
logs and skips a record that does not decode, so a damaged record costs one
subscription, never the start of the node.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from luong.clock import Clock
from luong.gateway.cluster import Cluster
from luong.protocol.records import Record

__all__ = ["STORE_TOPIC", "WebhookSettings", "WebhookStore"]

STORE_TOPIC = "__luong_webhooks"


@dataclass
class WebhookSettings:
    """What a subscription was created with; `secret` "" means unsigned requests."""

    id: str
    topic: str
    url: str
    secret: str = ""
    filter: list[str] = field(default_factory=list)
    start: str = "latest"
    max_attempts: int = 5
    backoff_ms: int = 500
    max_backoff_ms: int = 30_000
    rate_per_s: float = 0.0
    dead_letter_topic: str = ""
    paused: bool = False
    batch_size: int = 1
    concurrency: int = 0  # partitions delivering at once; 0: all of them


class WebhookStore:
    """Reads and writes subscriptions in STORE_TOPIC; owned by the WebhookManager."""

    def __init__(self, cluster: Cluster, clock: Clock) -> None:
        self._cluster = cluster
        self._clock = clock

    async def replay(self) -> list[WebhookSettings]:
        """Every stored subscription (the latest record of each id), creating the topic
        if it is missing."""
        latest: dict[str, WebhookSettings | None] = {}

        def apply(record: Record) -> None:
            key = (record.key or b"").decode()
            latest[key] = None if record.value is None else _settings(record.value)

        await self._cluster.open_internal(STORE_TOPIC, apply)
        return [settings for settings in latest.values() if settings is not None]

    async def save(self, settings: WebhookSettings) -> None:
        await self._write(settings.id, json.dumps(asdict(settings)).encode())

    async def delete(self, webhook_id: str) -> None:
        await self._write(webhook_id, None)

    async def _write(self, webhook_id: str, value: bytes | None) -> None:
        record = Record(0, self._clock.time_ms(), webhook_id.encode(), value)
        await self._cluster.append_internal(STORE_TOPIC, [record])


def _settings(value: bytes) -> WebhookSettings:
    """A stored JSON object as settings (ValueError or TypeError if it is not one)."""
    fields = json.loads(value)
    if not isinstance(fields, dict):
        raise ValueError("a webhook subscription is a JSON object")
    return WebhookSettings(**fields)
