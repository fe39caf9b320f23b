"""Admin over HTTP against a real broker: topics created, described, altered and
deleted, consumer groups listed with their lag, and refusals with REST Proxy codes."""

from __future__ import annotations

from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

from luong.testing.http import V2, http_call
from luong.testing.node import LuongProcess


def admin(node: LuongProcess, method: str, path: str, body: Any = None) -> Any:
    return http_call(node.http_url, method, f"/admin{path}", body, content_type=V2)


def test_topics_lifecycle(luong: LuongProcess) -> None:
    status, created = admin(
        luong,
        "POST",
        "/topics",
        {"name": "adm-t", "partitions": 3, "configs": {"retention.ms": "60000"}},
    )
    assert status == 201, created
    assert [p["partition"] for p in created["partitions"]] == [0, 1, 2]
    assert created["configs"]["retention.ms"] == "60000"
    producer = Producer({"bootstrap.servers": luong.bootstrap})
    for _ in range(4):
        producer.produce("adm-t", b"x", partition=2)
    producer.flush(10)
    status, topic = admin(luong, "GET", "/topics/adm-t")
    assert status == 200 and topic["partitions"][2] == {
        "partition": 2,
        "beginning_offset": 0,
        "end_offset": 4,
    }
    listed = {t["name"]: t for t in admin(luong, "GET", "/topics")[1]}
    assert listed["adm-t"]["partitions"] == 3 and listed["adm-t"]["internal"] is False
    status, altered = admin(
        luong,
        "PATCH",
        "/topics/adm-t",
        {"configs": {"retention.ms": None, "cleanup.policy": "compact"}},
    )
    assert status == 200
    assert altered["configs"]["cleanup.policy"] == "compact"
    assert altered["configs"]["retention.ms"] == "604800000"  # back to the default
    assert admin(luong, "DELETE", "/topics/adm-t")[0] == 204
    assert admin(luong, "GET", "/topics/adm-t")[1]["error_code"] == 40401


def test_bad_admin_requests(luong: LuongProcess) -> None:
    admin(luong, "POST", "/topics", {"name": "adm-exists", "partitions": 1})
    for body, status, code, words in [
        ({"name": "adm-exists"}, 400, 40002, "exists"),
        ({"name": "bad name!"}, 400, 40002, "bad name!"),
        ({"name": "adm-p0", "partitions": 0}, 400, 40002, "partition count 0"),
        ({"name": "adm-pbig", "partitions": 100_001}, 400, 40002, "partition count 100001"),
        ({"name": "adm-cfg", "configs": {"retention.ms": "soon"}}, 400, 40002, "retention.ms"),
        ({"name": "adm-cfg", "configs": {"no.such": "1"}}, 400, 40002, "no.such"),
        ({"name": "adm-x", "partitions": "2"}, 422, 422, "integer"),
        ({"partitions": 2}, 422, 422, "name"),
        ({"name": "__consumer_offsets"}, 400, 40002, "internal"),
    ]:
        got_status, answer = admin(luong, "POST", "/topics", body)
        assert (got_status, answer["error_code"]) == (status, code), (body, answer)
        assert words in answer["message"], answer
    assert "adm-cfg" not in {t["name"] for t in admin(luong, "GET", "/topics")[1]}
    status, answer = admin(luong, "PATCH", "/topics/adm-exists", {"configs": {"segment.ms": "-5"}})
    assert (status, answer["error_code"]) == (400, 40002)
    assert admin(luong, "GET", "/groups/nobody")[1]["error_code"] == 40403


def test_internal_topics_are_out_of_reach(luong: LuongProcess) -> None:
    """Kafka's internal topics are listed (flagged) but cannot be changed; luong's own
    (which hold webhook secrets) are neither listed nor reachable."""
    listed = {t["name"]: t["internal"] for t in admin(luong, "GET", "/topics")[1]}
    assert listed.get("__consumer_offsets") is True
    assert "__luong_webhooks" not in listed
    for method, path, body in [
        ("DELETE", "/topics/__consumer_offsets", None),
        ("PATCH", "/topics/__transaction_state", {"configs": {"retention.ms": "1"}}),
    ]:
        status, answer = admin(luong, method, path, body)
        assert (status, answer["error_code"]) == (403, 40301), (path, answer)
        assert "internal" in answer["message"]
    for method, path in [
        ("GET", "/topics/__luong_webhooks"),
        ("DELETE", "/topics/__luong_webhooks"),
    ]:
        assert admin(luong, method, path)[0] == 404
    status, answer = http_call(
        luong.http_url,
        "POST",
        "/topics/__consumer_offsets",
        {"records": [{"value": "eA=="}]},
        content_type="application/vnd.kafka.binary.v2+json",
    )
    assert (status, answer["error_code"]) == (403, 40301), answer
    assert http_call(luong.http_url, "GET", "/topics/__luong_webhooks/events")[0] == 404


def test_groups_with_lag(luong: LuongProcess) -> None:
    admin(luong, "POST", "/topics", {"name": "adm-lag", "partitions": 2})
    producer = Producer({"bootstrap.servers": luong.bootstrap})
    for i in range(10):
        producer.produce("adm-lag", b"x", partition=i % 2)
    producer.flush(10)
    consumer = Consumer({"bootstrap.servers": luong.bootstrap, "group.id": "adm-group"})
    consumer.commit(
        offsets=[TopicPartition("adm-lag", 0, 5), TopicPartition("adm-lag", 1, 2)],
        asynchronous=False,
    )
    consumer.close()
    status, group = admin(luong, "GET", "/groups/adm-group")
    assert status == 200
    assert group["lag"] == 3 and group["state"] == "Empty"
    assert [
        (o["partition"], o["committed"], o["end_offset"], o["lag"]) for o in group["offsets"]
    ] == [(0, 5, 5, 0), (1, 2, 5, 3)]
    listed = {g["group_id"]: g for g in admin(luong, "GET", "/groups")[1]}
    assert listed["adm-group"]["lag"] == 3
