"""Raw-frame Kafka client for tests: `luong.cli.wire`'s WireClient, re-exported, and
request bodies that tests send often."""

from __future__ import annotations

from typing import Any

from luong.cli.wire import WireClient, request_frame

__all__ = ["WireClient", "fetch_body", "request_frame"]


def fetch_body(
    topic: str,
    partition: int = 0,
    offset: int = 0,
    *,
    max_bytes: int = 1 << 20,
    max_wait_ms: int = 0,
    isolation_level: int = 0,
) -> dict[str, Any]:
    """A Fetch v12 request body for one partition (for `WireClient.call(1, 12, …)`)."""
    wanted = {
        "partition": partition,
        "current_leader_epoch": -1,
        "fetch_offset": offset,
        "last_fetched_epoch": -1,
        "log_start_offset": -1,
        "partition_max_bytes": max_bytes,
    }
    return {
        "replica_id": -1,
        "max_wait": max_wait_ms,
        "min_bytes": 1,
        "max_bytes": max_bytes,
        "isolation_level": isolation_level,
        "session_id": 0,
        "session_epoch": -1,
        "topics": [{"topic": topic, "partitions": [wanted]}],
        "forgotten_topics_data": [],
        "rack_id": "",
    }
