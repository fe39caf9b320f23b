"""REST Proxy v2 consumer instances against a real broker: Kafka records read over
HTTP, commits that are the group's, seeks, and the documented error codes."""

from __future__ import annotations

import base64
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from luong.testing.http import BINARY, JSON, V2, http_call
from luong.testing.node import LuongProcess, wait_until


def http(node: LuongProcess, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
    kwargs.setdefault("content_type", V2)
    return http_call(node.http_url, method, path, body, **kwargs)


def setup_topic(
    node: LuongProcess, name: str, partitions: int, values: list[bytes], keys: bool = True
) -> None:
    admin = AdminClient({"bootstrap.servers": node.bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(10)
    producer = Producer({"bootstrap.servers": node.bootstrap})
    for i, value in enumerate(values):
        key = f"k{i}".encode() if keys else None
        producer.produce(name, value, key=key, partition=i % partitions)
    assert producer.flush(10) == 0


def create_instance(node: LuongProcess, group: str, **settings: Any) -> str:
    status, body = http(node, "POST", f"/consumers/{group}", settings)
    assert status == 200, body
    assert body["base_uri"].endswith(f"/consumers/{group}/instances/{body['instance_id']}")
    return f"/consumers/{group}/instances/{body['instance_id']}"


def read(node: LuongProcess, base: str, count: int, accept: str = BINARY) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []

    def more() -> bool:
        status, records = http(node, "GET", f"{base}/records?timeout=500", accept=accept)
        assert status == 200, records
        got.extend(records)
        return len(got) >= count

    wait_until(more, 20, f"{count} records over HTTP")
    return got


def test_a_subscribed_instance_reads_kafka_records_and_commits_for_its_group(
    luong: LuongProcess,
) -> None:
    values = [f"event-{i}".encode() for i in range(10)]
    setup_topic(luong, "rc-sub", 2, values)
    base = create_instance(luong, "rc-group", name="one", **{"auto.offset.reset": "earliest"})
    assert http(luong, "POST", f"{base}/subscription", {"topics": ["rc-sub"]})[0] == 204
    assert http(luong, "GET", f"{base}/subscription")[1] == {"topics": ["rc-sub"]}
    records = read(luong, base, 10)
    assert sorted(base64.b64decode(r["value"]) for r in records) == sorted(values)
    assert {(base64.b64decode(r["key"]), r["partition"]) for r in records} == {
        (f"k{i}".encode(), i % 2) for i in range(10)
    }
    assert http(luong, "GET", f"{base}/assignments")[1]["partitions"] == [
        {"topic": "rc-sub", "partition": 0},
        {"topic": "rc-sub", "partition": 1},
    ]

    assert http(luong, "POST", f"{base}/offsets")[0] == 200  # no body: all that was fetched
    wanted = {"partitions": [{"topic": "rc-sub", "partition": p} for p in (0, 1)]}
    status, committed = http(luong, "GET", f"{base}/offsets", wanted)
    assert status == 200
    assert [(o["partition"], o["offset"]) for o in committed["offsets"]] == [(0, 5), (1, 5)]
    # the commits are the group's: a Kafka client sees them
    kafka = Consumer({"bootstrap.servers": luong.bootstrap, "group.id": "rc-group"})
    seen = kafka.committed([TopicPartition("rc-sub", p) for p in (0, 1)], timeout=10)
    kafka.close()
    assert [tp.offset for tp in seen] == [5, 5]
    assert http(luong, "DELETE", base)[0] == 204
    assert http(luong, "GET", f"{base}/subscription")[1]["error_code"] == 40403


def test_json_format_assignments_seeks_and_commit_of_the_last_consumed(
    luong: LuongProcess,
) -> None:
    setup_topic(luong, "rc-json", 1, [f'{{"n": {i}}}'.encode() for i in range(8)], keys=False)
    base = create_instance(luong, "rc-json-group", format="json")
    partition = {"topic": "rc-json", "partition": 0}
    assert http(luong, "POST", f"{base}/assignments", {"partitions": [partition]})[0] == 204
    seek = {"offsets": [{**partition, "offset": 5}]}
    assert http(luong, "POST", f"{base}/positions", seek)[0] == 204
    records = read(luong, base, 3, accept=JSON)
    assert [(r["offset"], r["value"]) for r in records] == [
        (5, {"n": 5}),
        (6, {"n": 6}),
        (7, {"n": 7}),
    ]

    beginning = {"partitions": [partition]}
    assert http(luong, "POST", f"{base}/positions/beginning", beginning)[0] == 204
    assert read(luong, base, 8, accept=JSON)[0]["offset"] == 0
    assert http(luong, "POST", f"{base}/positions/end", beginning)[0] == 204
    status, none = http(luong, "GET", f"{base}/records?timeout=200", accept=JSON)
    assert (status, none) == (200, [])

    commit = {"offsets": [{**partition, "offset": 3}]}  # the last record consumed
    assert http(luong, "POST", f"{base}/offsets", commit)[0] == 200
    status, committed = http(luong, "GET", f"{base}/offsets", {"partitions": [partition]})
    assert committed["offsets"] == [{**partition, "offset": 4, "metadata": ""}]
    http(luong, "DELETE", base)


def test_consumer_errors_carry_rest_proxy_codes(luong: LuongProcess) -> None:
    setup_topic(luong, "rc-errors", 1, [b"x"])
    base = create_instance(luong, "rc-errors-group", name="dup")
    status, body = http(luong, "POST", "/consumers/rc-errors-group", {"name": "dup"})
    assert (status, body["error_code"]) == (409, 40902)
    status, body = http(luong, "POST", "/consumers/rc-errors-group", {"format": "avro"})
    assert (status, body["error_code"]) == (422, 422)
    status, body = http(luong, "POST", "/consumers/g", {"auto.offset.reset": "sometimes"})
    assert (status, body["error_code"]) == (422, 42204)
    status, body = http(luong, "GET", "/consumers/g/instances/nobody/records", accept=BINARY)
    assert (status, body["error_code"]) == (404, 40403)
    status, body = http(luong, "GET", f"{base}/records", accept=JSON)  # a binary instance
    assert (status, body["error_code"]) == (406, 40601)
    status, body = http(luong, "POST", f"{base}/subscription", {"topics": []})
    assert (status, body["error_code"]) == (422, 422)
    assert http(luong, "POST", f"{base}/subscription", {"topics": ["rc-errors"]})[0] == 204
    partitions = {"partitions": [{"topic": "rc-errors", "partition": 0}]}
    status, body = http(luong, "POST", f"{base}/assignments", partitions)
    assert (status, body["error_code"]) == (409, 40903)
    status, body = http(luong, "GET", f"{base}/offsets")
    assert (status, body["error_code"]) == (404, 40402)
    status, body = http(luong, "POST", f"{base}/positions", raw=b"{nope", content_type=V2)
    assert (status, body["error_code"]) == (400, 400)
    assert http(luong, "DELETE", base)[0] == 204


def test_a_record_that_is_not_json_costs_one_error_and_never_wedges(luong: LuongProcess) -> None:
    setup_topic(luong, "rc-mixed", 1, [b'{"n": 0}', b"\xffnot json", b'{"n": 2}'], keys=False)
    base = create_instance(luong, "rc-mixed-group", format="json")
    partition = {"topic": "rc-mixed", "partition": 0}
    http(luong, "POST", f"{base}/assignments", {"partitions": [partition]})
    http(luong, "POST", f"{base}/positions/beginning", {"partitions": [partition]})
    answers = [http(luong, "GET", f"{base}/records?timeout=1000", accept=JSON) for _ in range(3)]
    assert answers[0] == (200, [{"topic": "rc-mixed", "key": None, "value": {"n": 0},
                                 "partition": 0, "offset": 0}])  # fmt: skip
    status, error = answers[1]
    assert (status, error["error_code"]) == (500, 50002)
    assert "rc-mixed/0@1 is not JSON and was skipped" in error["message"]
    assert [(r["offset"], r["value"]) for r in answers[2][1]] == [(2, {"n": 2})]
    http(luong, "DELETE", base)


def test_the_first_records_call_waits_for_the_assignment(tmp_path: Any) -> None:
    """With Kafka's default initial rebalance delay (3 s), the first call after a
    subscription returns the records that are there, not an early []."""
    settings = {"group.initial.rebalance.delay.ms": "3000"}
    with LuongProcess(tmp_path / "data", settings=settings) as node:
        setup_topic(node, "rc-first", 2, [b"a", b"b", b"c", b"d"])
        base = create_instance(node, "rc-first-group", **{"auto.offset.reset": "earliest"})
        http(node, "POST", f"{base}/subscription", {"topics": ["rc-first"]})
        status, records = http(node, "GET", f"{base}/records?timeout=1000", accept=BINARY)
        assert status == 200 and len(records) >= 1, records
        http(node, "DELETE", base)


def test_rapid_subscribe_unsubscribe_assign_leaves_a_working_instance(
    luong: LuongProcess,
) -> None:
    """Switching between a subscription and manual assignments while the group join is
    still in flight used to kill the instance's group member (409 on every call)."""
    setup_topic(luong, "rc-rapid", 2, [f"r{i}".encode() for i in range(6)])
    for round_ in range(3):
        base = create_instance(
            luong, "rc-rapid-group", name=f"rapid-{round_}", **{"auto.offset.reset": "earliest"}
        )
        partitions = {"partitions": [{"topic": "rc-rapid", "partition": p} for p in (0, 1)]}
        assert http(luong, "POST", f"{base}/subscription", {"topics": ["rc-rapid"]})[0] == 204
        assert http(luong, "DELETE", f"{base}/subscription")[0] == 204
        assert http(luong, "POST", f"{base}/assignments", partitions)[0] == 204
        assert http(luong, "POST", f"{base}/positions/beginning", partitions)[0] == 204
        assert len(read(luong, base, 6)) == 6
        assert http(luong, "DELETE", f"{base}/subscription")[0] == 204
        assert http(luong, "POST", f"{base}/subscription", {"topics": ["rc-rapid"]})[0] == 204
        assert len(read(luong, base, 6)) == 6  # a member again: the group's partitions
        assert http(luong, "DELETE", base)[0] == 204


def test_a_member_the_group_gives_nothing_is_not_held_up_on_every_call(
    luong: LuongProcess,
) -> None:
    """Two instances, one partition: the one left without partitions waits for the
    assignment once, then its records calls take their timeout, not 5 s each."""
    import time

    setup_topic(luong, "rc-few", 1, [b"only"])
    bases = [create_instance(luong, "rc-few-group", name=f"few-{i}") for i in range(2)]
    for base in bases:
        assert http(luong, "POST", f"{base}/subscription", {"topics": ["rc-few"]})[0] == 204
    for base in bases:
        http(luong, "GET", f"{base}/records?timeout=200", accept=BINARY)  # the joins
    idle = next(b for b in bases if not http(luong, "GET", f"{b}/assignments")[1]["partitions"])
    started = time.monotonic()
    for _ in range(3):
        assert http(luong, "GET", f"{idle}/records?timeout=200", accept=BINARY)[0] == 200
    assert time.monotonic() - started < 3  # 3 calls of 0.2 s, not 3 x 5 s
    for base in bases:
        http(luong, "DELETE", base)
