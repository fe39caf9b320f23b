"""Metadata answers come from a cache of encoded bodies that never goes stale."""

from __future__ import annotations

from typing import Any

from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

from luong.testing.node import LuongProcess, wait_until
from luong.testing.wire import WireClient


def _metadata(wire: WireClient, version: int, correlation_id: int) -> Any:
    body: dict[str, Any] = {"topics": [{"name": "cached", "topic_id": None}]}
    if version >= 4:
        body["allow_auto_topic_creation"] = False
    if version >= 8:
        body["include_topic_authorized_operations"] = False
    if 8 <= version <= 10:
        body["include_cluster_authorized_operations"] = False
    return wire.call(3, version, body, correlation_id=correlation_id)


def _only_topic(response: Any) -> tuple[int, int, Any]:
    [topic] = response.topics
    return topic.error_code, len(topic.partitions), getattr(topic, "topic_id", None)


def _admin_done(futures: dict[str, Any]) -> None:
    for future in futures.values():
        future.result(10)


def test_cached_metadata_follows_topic_changes(luong: LuongProcess) -> None:
    admin = AdminClient({"bootstrap.servers": luong.bootstrap})
    _admin_done(admin.create_topics([NewTopic("cached", 3, 1)]))
    with WireClient("127.0.0.1", luong.port) as wire:
        first = _only_topic(_metadata(wire, 12, 11))
        assert first[:2] == (0, 3)
        # the same question again (served from the cache), with its own correlation id
        assert _only_topic(_metadata(wire, 12, 12)) == first
        assert _only_topic(_metadata(wire, 1, 13))[:2] == (0, 3)  # another version's layout

        _admin_done(admin.create_partitions([NewPartitions("cached", 5)]))
        assert _only_topic(_metadata(wire, 12, 14)) == (0, 5, first[2])
        assert _only_topic(_metadata(wire, 1, 15))[:2] == (0, 5)

        _admin_done(admin.delete_topics(["cached"]))
        wait_until(lambda: _only_topic(_metadata(wire, 12, 16))[0] == 3, what="topic gone")
        _admin_done(admin.create_topics([NewTopic("cached", 2, 1)]))
        again = _only_topic(_metadata(wire, 12, 17))
        assert again[:2] == (0, 2) and again[2] != first[2]
