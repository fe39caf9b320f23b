"""The HTTP gateway's REST Proxy v2 produce and topic metadata, against a real broker.

Records produced over HTTP are ordinary Kafka records (confluent-kafka reads them,
keys land where Kafka's partitioner puts them), and every bad request gets a
REST Proxy error body with nothing produced.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from luong.testing.http import BINARY, JSON, V2, http_call
from luong.testing.node import LuongProcess


def http(node: LuongProcess, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
    return http_call(node.http_url, method, path, body, **kwargs)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def create(node: LuongProcess, name: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": node.bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(10)


def read_all(node: LuongProcess, topic: str, partitions: int, count: int) -> list[Any]:
    consumer = Consumer({"bootstrap.servers": node.bootstrap, "group.id": "unused"})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    messages: list[Any] = []
    for _ in range(100):
        messages += [m for m in consumer.consume(count, timeout=0.2) if m.error() is None]
        if len(messages) >= count:
            break
    consumer.close()
    return messages


def end_offsets(node: LuongProcess, topic: str, partitions: int) -> list[int]:
    return [
        http(node, "GET", f"/topics/{topic}/partitions/{p}/offsets")[1]["end_offset"]
        for p in range(partitions)
    ]


def test_produce_to_a_new_topic_follows_auto_create_as_kafka_producers_do(
    luong: LuongProcess, tmp_path: Path
) -> None:
    """On a broker that auto-creates topics (the shared one), an HTTP produce creates
    the topic with num.partitions, as a Kafka producer's Metadata request would; on one
    that does not, both doors refuse an unknown topic."""
    status, body = http(luong, "POST", "/topics/rest-auto-made", {"records": GOOD["records"]})
    assert status == 200, body
    assert body["offsets"][0]["error_code"] is None
    metadata = AdminClient({"bootstrap.servers": luong.bootstrap}).list_topics(timeout=10)
    assert len(metadata.topics["rest-auto-made"].partitions) == 3  # num.partitions
    assert [m.value() for m in read_all(luong, "rest-auto-made", 3, 1)] == [b"ok"]
    settings = {"auto.create.topics.enable": "false"}
    with LuongProcess(tmp_path / "no-auto", settings=settings) as node:
        status, body = http(node, "POST", "/topics/rest-not-made", {"records": GOOD["records"]})
        assert (status, body["error_code"]) == (404, 40401), body
        producer = Producer({"bootstrap.servers": node.bootstrap, "message.timeout.ms": 2000})
        errors: list[Any] = []
        producer.produce("rest-not-made", b"x", on_delivery=lambda error, _: errors.append(error))
        producer.flush(10)
        assert errors and errors[0] is not None  # the Kafka producer is refused as well
        topics = AdminClient({"bootstrap.servers": node.bootstrap}).list_topics(timeout=10)
        assert "rest-not-made" not in topics.topics


def test_binary_records_are_kafka_records(luong: LuongProcess) -> None:
    create(luong, "rest-bin", 3)
    records = [
        {"key": b64(b"user-1"), "value": b64(b"clicked")},
        {"value": b64(b"\x00\xffraw"), "partition": 2},
        {"key": b64(b"user-2"), "value": None},
    ]
    status, body = http(luong, "POST", "/topics/rest-bin", {"records": records})
    assert status == 200, body
    assert [o["error_code"] for o in body["offsets"]] == [None, None, None]
    assert body["offsets"][1]["partition"] == 2
    got = {
        (m.key(), m.value()): (m.partition(), m.offset()) for m in read_all(luong, "rest-bin", 3, 3)
    }
    expected = {
        (b"user-1", b"clicked"): body["offsets"][0],
        (None, b"\x00\xffraw"): body["offsets"][1],
        (b"user-2", None): body["offsets"][2],
    }
    assert got == {k: (o["partition"], o["offset"]) for k, o in expected.items()}


def test_a_key_lands_where_kafkas_partitioner_puts_it(luong: LuongProcess) -> None:
    create(luong, "rest-keys", 6)
    producer = Producer({"bootstrap.servers": luong.bootstrap, "partitioner": "murmur2_random"})
    kafka_partitions = {}
    for i in range(30):
        key = f"key-{i}".encode()
        producer.produce(
            "rest-keys",
            b"from kafka",
            key=key,
            on_delivery=lambda e, m: kafka_partitions.__setitem__(m.key(), m.partition()),
        )
    producer.flush(10)
    records = [{"key": b64(f"key-{i}".encode()), "value": b64(b"http")} for i in range(30)]
    status, body = http(luong, "POST", "/topics/rest-keys", {"records": records})
    assert status == 200
    http_partitions = {f"key-{i}".encode(): o["partition"] for i, o in enumerate(body["offsets"])}
    assert http_partitions == kafka_partitions
    assert len(set(http_partitions.values())) > 1


def test_json_records_and_produce_to_a_partition(luong: LuongProcess) -> None:
    create(luong, "rest-json", 2)
    records = [{"key": "k", "value": {"temp": 21.5, "room": "a"}}, {"value": [1, 2, 3]}]
    status, body = http(
        luong, "POST", "/topics/rest-json/partitions/1", {"records": records}, content_type=JSON
    )
    assert status == 200
    assert [o["partition"] for o in body["offsets"]] == [1, 1]
    assert [o["offset"] for o in body["offsets"]] == [0, 1]
    messages = read_all(luong, "rest-json", 2, 2)
    assert [json.loads(m.value()) for m in messages] == [{"temp": 21.5, "room": "a"}, [1, 2, 3]]
    assert messages[0].key() == b'"k"'


def test_topic_metadata(luong: LuongProcess) -> None:
    create(luong, "rest-meta", 2)
    producer = Producer({"bootstrap.servers": luong.bootstrap})
    for _ in range(5):
        producer.produce("rest-meta", b"x", partition=1)
    producer.flush(10)
    status, names = http(luong, "GET", "/topics")
    assert status == 200 and "rest-meta" in names
    assert not [n for n in names if n.startswith("__")]
    status, topic = http(luong, "GET", "/topics/rest-meta", accept=V2)
    assert status == 200 and topic["name"] == "rest-meta"
    assert topic["configs"]["cleanup.policy"] == "delete"
    assert [p["partition"] for p in topic["partitions"]] == [0, 1]
    assert topic["partitions"][0]["replicas"][0]["in_sync"] is True
    assert http(luong, "GET", "/topics/rest-meta/partitions")[1] == topic["partitions"]
    assert http(luong, "GET", "/topics/rest-meta/partitions/1")[1] == topic["partitions"][1]
    assert http(luong, "GET", "/topics/rest-meta/partitions/1/offsets")[1] == {
        "beginning_offset": 0,
        "end_offset": 5,
    }


GOOD = {"records": [{"value": b64(b"ok")}]}


@pytest.mark.parametrize(
    ("path", "kwargs", "status", "code", "words"),
    [
        (
            "/topics/rest-bad",
            {"raw": b'{"records": [', "content_type": BINARY},
            400,
            400,
            "Malformed JSON",
        ),
        (
            "/topics/rest-bad",
            {"body": GOOD, "content_type": "text/plain"},
            415,
            415,
            "Unsupported Media Type",
        ),
        (
            "/topics/rest-bad",
            {"body": GOOD, "content_type": V2},
            415,
            415,
            "Unsupported Media Type",
        ),
        (
            "/topics/rest-bad",
            {"body": {"records": [{"value": "not base64!"}]}},
            422,
            422,
            "records[0].value contains invalid base64",
        ),
        (
            "/topics/rest-bad",
            {"body": {"records": [{"value": 5}]}},
            422,
            422,
            "records[0].value must be a base64 string",
        ),
        ("/topics/rest-bad", {"body": {"records": []}}, 422, 422, "records may not be empty"),
        (
            "/topics/rest-bad",
            {"body": {"records": [{"value": None}], "extra": 1}},
            422,
            422,
            "Unrecognized field: extra",
        ),
        (
            "/topics/rest-bad",
            {"body": {"records": [{"value": None, "headers": []}]}},
            422,
            422,
            "Unrecognized field in records[0]: headers",
        ),
        (
            "/topics/rest-bad",
            {"body": {"records": [{"value": None, "partition": -1}]}},
            422,
            422,
            "partition must be a non-negative integer",
        ),
        ("/topics/rest-bad", {"body": [1]}, 422, 422, "JSON object"),
        ("/topics/bad%20name", {"body": GOOD}, 422, 422, "characters other than"),
        ("/topics/rest-bad/partitions/7", {"body": GOOD}, 404, 40402, "no partition 7"),
        ("/topics/rest-bad/partitions/x", {"body": GOOD}, 404, 40402, "no partition x"),
        (
            "/topics/rest-bad",
            {"body": {"records": [{"value": None}, {"value": None, "partition": 9}]}},
            404,
            40402,
            "no partition 9",
        ),
        (
            "/topics/rest-bad",
            {"raw": b"x" * (17 << 20), "content_type": BINARY},
            413,
            413,
            "Request Entity Too Large",
        ),
    ],
)
def test_bad_requests_are_refused_whole(
    luong: LuongProcess, path: str, kwargs: dict[str, Any], status: int, code: int, words: str
) -> None:
    if "rest-bad" not in http(luong, "GET", "/topics")[1]:
        create(luong, "rest-bad", 2)
    before = end_offsets(luong, "rest-bad", 2)
    got_status, body = http(luong, "POST", path, **kwargs)
    assert (got_status, body["error_code"]) == (status, code), body
    assert words in body["message"]
    assert end_offsets(luong, "rest-bad", 2) == before  # nothing of it was produced
    assert http(luong, "POST", "/topics/rest-bad", GOOD)[0] == 200  # and it still serves


def test_unknown_routes_and_accept_types_get_json_errors(luong: LuongProcess) -> None:
    assert http(luong, "GET", "/nowhere") == (
        404,
        {"error_code": 404, "message": "HTTP 404 Not Found"},
    )
    assert http(luong, "GET", "/topics/none-such")[0:1] == (404,)
    assert http(luong, "GET", "/topics/none-such")[1]["error_code"] == 40401
    status, body = http(luong, "GET", "/topics", accept="text/html")
    assert (status, body["error_code"]) == (406, 406)
    assert http(luong, "DELETE", "/topics")[1]["error_code"] == 405
