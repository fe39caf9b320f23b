"""`GET /topics/{t}/events` (Server-Sent Events) against a real broker: history and
live records in order, resumption with Last-Event-ID, fan-out, bad requests."""

from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from luong.testing.http import http_call
from luong.testing.node import LuongProcess


def create(node: LuongProcess, name: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": node.bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(10)


def produce(node: LuongProcess, topic: str, values: list[bytes], partitions: int = 1) -> None:
    producer = Producer({"bootstrap.servers": node.bootstrap, "linger.ms": 0})
    for i, value in enumerate(values):
        producer.produce(topic, value, partition=i % partitions, headers=[("n", str(i).encode())])
    assert producer.flush(10) == 0


def read_events(
    url: str, headers: dict[str, str] | None = None, opened: threading.Semaphore | None = None
) -> list[dict[str, Any]]:
    """Every event of a stream that ends by itself (max_events or timeout_ms).

    `opened` is released once the answer's headers are in: the stream's start
    positions are fixed by then, so anything produced afterwards is in the stream.
    """
    request = urllib.request.Request(url, headers=headers or {})
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    with urllib.request.urlopen(request, timeout=20) as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        if opened is not None:
            opened.release()
        for raw in response:
            line = raw.decode().rstrip("\n")
            if not line:
                if current:
                    events.append(current)
                current = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(": ")
                current[name] = json.loads(value) if name == "data" else value
    return events


def test_history_then_live_records_in_order_with_resumable_ids(luong: LuongProcess) -> None:
    create(luong, "sse-t", 2)
    produce(luong, "sse-t", [f'{{"n": {i}}}'.encode() for i in range(10)], partitions=2)
    base = f"{luong.http_url}/topics/sse-t/events"
    history = read_events(f"{base}?from=earliest&max_events=10")
    assert [e["event"] for e in history] == ["record"] * 10
    by_partition: dict[int, list[int]] = {0: [], 1: []}
    for e in history:
        by_partition[e["data"]["partition"]].append(e["data"]["offset"])
    assert by_partition == {0: [0, 1, 2, 3, 4], 1: [0, 1, 2, 3, 4]}
    assert sorted(e["data"]["value"]["n"] for e in history) == list(range(10))
    assert history[-1]["id"] == "0:5,1:5"
    assert history[0]["data"]["headers"] == {"n": str(history[0]["data"]["value"]["n"])}

    # resume after the 4th event: exactly the 6 that followed it
    resumed = read_events(f"{base}?max_events=6", {"Last-Event-ID": history[3]["id"]})
    assert [e["data"]["value"] for e in resumed] == [e["data"]["value"] for e in history[4:]]

    # live: a subscriber from the end gets what is produced after it connected
    got: list[dict[str, Any]] = []
    opened = threading.Semaphore(0)
    url = f"{base}?max_events=4"
    reader = threading.Thread(target=lambda: got.extend(read_events(url, opened=opened)))
    reader.start()
    assert opened.acquire(timeout=10)
    produce(luong, "sse-t", [b"plain text", b"[1]", b"2", b"{}"], partitions=1)
    reader.join(20)
    assert [e["data"]["value"] for e in got] == ["plain text", [1], 2, {}]
    assert [e["data"]["offset"] for e in got] == [5, 6, 7, 8]


def test_many_subscribers_each_get_every_record(luong: LuongProcess) -> None:
    create(luong, "sse-fan", 1)
    results: list[list[dict[str, Any]]] = [[] for _ in range(20)]
    url = f"{luong.http_url}/topics/sse-fan/events?max_events=50&format=text"
    opened = threading.Semaphore(0)
    readers = [
        threading.Thread(target=lambda r=r: r.extend(read_events(url, opened=opened)))
        for r in results
    ]
    for reader in readers:
        reader.start()
    for _ in readers:
        assert opened.acquire(timeout=10)
    produce(luong, "sse-fan", [f"v{i}".encode() for i in range(50)])
    for reader in readers:
        reader.join(20)
    expected = [f"v{i}" for i in range(50)]
    assert all([e["data"]["value"] for e in r] == expected for r in results)


def test_bounded_streams_and_bad_requests(luong: LuongProcess) -> None:
    create(luong, "sse-bad", 1)
    produce(luong, "sse-bad", [b"a", b"b"])
    base = f"{luong.http_url}/topics/sse-bad/events"
    assert read_events(f"{base}?timeout_ms=300") == []  # nothing new: ends on time
    from_offset = read_events(f"{base}?partition=0&offset=1&timeout_ms=500&format=binary")
    assert [(e["data"]["offset"], e["data"]["value"]) for e in from_offset] == [(1, "Yg==")]
    for path, status, code in [
        ("/topics/none/events", 404, 40401),
        ("/topics/sse-bad/events?partition=3", 404, 40402),
        ("/topics/sse-bad/events?format=xml", 422, 422),
        ("/topics/sse-bad/events?from=middle", 422, 422),
        ("/topics/sse-bad/events?offset=1", 422, 422),
        ("/topics/sse-bad/events?max_events=-1", 422, 422),
        ("/topics/sse-bad/events?last_event_id=zz", 422, 422),
        ("/topics/sse-bad/events?last_event_id=7:1", 422, 422),
    ]:
        got_status, body = http_call(luong.http_url, "GET", path)
        assert (got_status, body["error_code"]) == (status, code), path


def test_filters_deliver_exactly_the_matching_records(luong: LuongProcess) -> None:
    create(luong, "sse-filter", 1)
    producer = Producer({"bootstrap.servers": luong.bootstrap})
    for i in range(40):
        kind = "order" if i % 2 else "view"
        value = json.dumps({"qty": i % 5, "city": "Hanoi" if i % 3 else "Hue"}).encode()
        producer.produce("sse-filter", value, partition=0, headers=[("type", kind.encode())])
    assert producer.flush(10) == 0
    query = "from=earliest&timeout_ms=1000&filter=header.type%3Dorder&filter=value.qty%3E%3D3"
    got = read_events(f"{luong.http_url}/topics/sse-filter/events?{query}")
    expected = [i for i in range(40) if i % 2 and i % 5 >= 3]
    assert [e["data"]["offset"] for e in got] == expected
    prefix = read_events(
        f"{luong.http_url}/topics/sse-filter/events?from=earliest&timeout_ms=1000"
        "&filter=value.city%5E%3DHu"
    )
    assert [e["data"]["offset"] for e in prefix] == [i for i in range(40) if i % 3 == 0]
    status, body = http_call(luong.http_url, "GET", "/topics/sse-filter/events?filter=qty%3E1")
    assert (status, body["error_code"]) == (422, 422) and "bad filter" in body["message"]


def test_a_group_stream_commits_what_it_sent_and_the_next_one_goes_on(luong: LuongProcess) -> None:
    create(luong, "sse-group", 1)
    produce(luong, "sse-group", [f"e{i}".encode() for i in range(10)])
    base = f"{luong.http_url}/topics/sse-group/events?group=sse-readers&format=text"
    first = read_events(f"{base}&from=earliest&max_events=4")
    assert [e["data"]["value"] for e in first] == ["e0", "e1", "e2", "e3"]
    assert first[-1]["id"] == "0:4"
    status, group = http_call(luong.http_url, "GET", "/admin/groups/sse-readers")
    assert status == 200 and group["offsets"][0]["committed"] == 4 and group["lag"] == 6
    # a later member of the group starts where the first one stopped, filters included
    rest = read_events(f"{base}&max_events=3&filter=key^%3Dnothing&timeout_ms=1500")
    assert rest == []  # the filter took none, but they were handled
    assert http_call(luong.http_url, "GET", "/admin/groups/sse-readers")[1]["lag"] == 0
    produce(luong, "sse-group", [b"e10"])
    last = read_events(f"{base}&max_events=1")
    assert [(e["data"]["offset"], e["data"]["value"]) for e in last] == [(10, "e10")]
    status, body = http_call(luong.http_url, "GET", "/topics/sse-group/events?group=g&from=x")
    assert (status, body["error_code"]) == (422, 422)


def test_a_stream_can_start_at_a_timestamp(luong: LuongProcess) -> None:
    create(luong, "sse-time", 1)
    producer = Producer({"bootstrap.servers": luong.bootstrap})
    for i in range(6):
        producer.produce("sse-time", f"t{i}".encode(), partition=0, timestamp=1_000_000 + i * 1000)
    assert producer.flush(10) == 0
    url = f"{luong.http_url}/topics/sse-time/events?timestamp=1002500&timeout_ms=800&format=text"
    got = read_events(url)
    assert [(e["data"]["offset"], e["data"]["timestamp"]) for e in got] == [
        (3, 1_003_000),
        (4, 1_004_000),
        (5, 1_005_000),
    ]
    assert read_events(url.replace("1002500", "9999999")) == []  # past the last: from the end
