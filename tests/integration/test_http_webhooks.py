"""Push subscriptions against a real broker and real receiver servers: retries until
a 2xx, signed bodies, dead letters after the last attempt, other subscriptions never
held up, filters, persistence across a restart, bad input refused whole."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from confluent_kafka import Consumer, Producer, TopicPartition

from luong.testing.http import V2, http_call
from luong.testing.node import LuongProcess, free_port, wait_until


class Receiver:
    """An HTTP server in a thread: answers `fail_first` attempts of each delivery with
    503 (all of them when it is None, after `delay_s`), then 200; keeps what came."""

    def __init__(self, fail_first: int | None = 0, delay_s: float = 0.0) -> None:
        self.fail_first, self.delay_s = fail_first, delay_s
        self.attempts: Counter[str] = Counter()
        self.accepted: list[tuple[dict[str, str], bytes]] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(started,), daemon=True)
        self.thread.start()
        assert started.wait(10)

    def _serve(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        runner = web.AppRunner(app, shutdown_timeout=0.1)
        self.loop.run_until_complete(runner.setup())
        self.loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        started.set()
        self.loop.run_forever()
        self.loop.run_until_complete(runner.cleanup())
        self.loop.close()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        delivery = request.headers["X-Luong-Delivery"]
        self.attempts[delivery] += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail_first is None or self.attempts[delivery] <= self.fail_first:
            return web.Response(status=503)
        self.accepted.append((dict(request.headers), body))
        return web.Response(status=204)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    made: list[Receiver] = []
    yield made
    for receiver in made:
        receiver.close()


def subscribe(node: LuongProcess, **body: Any) -> dict[str, Any]:
    status, answer = http_call(node.http_url, "POST", "/webhooks", body, content_type=V2)
    assert status == 201, answer
    return answer  # type: ignore[no-any-return]


def produce(node: LuongProcess, topic: str, values: list[dict[str, Any]]) -> None:
    producer = Producer({"bootstrap.servers": node.bootstrap})
    for value in values:
        producer.produce(topic, json.dumps(value).encode(), partition=0)
    assert producer.flush(10) == 0


def create(node: LuongProcess, topic: str) -> None:
    body = {"name": topic, "partitions": 1}
    assert http_call(node.http_url, "POST", "/admin/topics", body, content_type=V2)[0] == 201


def test_retries_until_accepted_signed_filtered_and_committed(
    luong: LuongProcess, receivers: list[Receiver]
) -> None:
    create(luong, "wh-flaky")
    receivers.append(receiver := Receiver(fail_first=2))
    hook = subscribe(
        luong,
        topic="wh-flaky",
        url=receiver.url,
        secret="s3cret",
        backoff_ms=20,
        filter=["value.kind=keep"],
        **{"from": "earliest"},
    )
    produce(
        luong, "wh-flaky", [{"kind": "keep" if i % 2 == 0 else "drop", "n": i} for i in range(6)]
    )
    wait_until(lambda: len(receiver.accepted) == 3, 20, "three accepted deliveries")
    bodies = [json.loads(body) for _, body in receiver.accepted]
    assert [(b["offset"], b["value"]["n"]) for b in bodies] == [(0, 0), (2, 2), (4, 4)]
    for headers, body in receiver.accepted:
        expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert headers["X-Luong-Signature"] == f"sha256={expected}"
        assert headers["X-Luong-Subscription"] == hook["id"]
    assert sorted(receiver.attempts.values()) == [3, 3, 3]  # two 503s, then accepted
    state = http_call(luong.http_url, "GET", f"/webhooks/{hook['id']}")[1]
    assert (state["delivered"], state["failed_attempts"], state["dead_lettered"]) == (3, 6, 0)
    group = f"/admin/groups/luong-webhook-{hook['id']}"
    wait_until(lambda: http_call(luong.http_url, "GET", group)[1].get("lag") == 0, 10, "commit")
    assert http_call(luong.http_url, "GET", group)[1]["offsets"][0]["committed"] == 6


def test_dead_letters_and_a_bad_receiver_never_holds_up_a_good_one(
    luong: LuongProcess, receivers: list[Receiver]
) -> None:
    create(luong, "wh-dead")
    receivers.append(failing := Receiver(fail_first=None))
    receivers.append(hanging := Receiver(fail_first=None, delay_s=60))
    receivers.append(good := Receiver())
    start = {"from": "earliest"}
    subscribe(luong, topic="wh-dead", url=failing.url, max_attempts=2, backoff_ms=10, **start)
    subscribe(
        luong,
        topic="wh-dead",
        url=hanging.url,
        max_attempts=2,
        backoff_ms=10,
        dead_letter_topic="wh-dead-hung",
        **start,
    )
    subscribe(luong, topic="wh-dead", url=good.url, **start)
    produce(luong, "wh-dead", [{"n": i} for i in range(4)])
    wait_until(lambda: len(good.accepted) == 4, 10, "the good receiver's four")
    consumer = Consumer({"bootstrap.servers": luong.bootstrap, "group.id": "unused"})
    consumer.assign([TopicPartition("wh-dead.dlq", 0, 0)])
    dead: list[Any] = []
    wait_until(lambda: bool(dead.extend(consumer.consume(4, 0.2))) or len(dead) >= 4, 20, "dlq")
    consumer.close()
    assert [json.loads(m.value())["n"] for m in dead] == [0, 1, 2, 3]
    headers = dict(dead[0].headers())
    assert headers["luong.dlq.reason"] == b"HTTP 503"
    assert headers["luong.dlq.attempts"] == b"2"
    assert (headers["luong.dlq.topic"], headers["luong.dlq.offset"]) == (b"wh-dead", b"0")
    assert all(count == 2 for count in failing.attempts.values())


def test_subscriptions_survive_a_restart_paused_or_not(
    tmp_path: Path, receivers: list[Receiver]
) -> None:
    receivers.append(receiver := Receiver())
    node = LuongProcess(tmp_path / "data").start()
    create(node, "wh-persist")
    live = subscribe(node, topic="wh-persist", url=receiver.url)
    paused = subscribe(node, topic="wh-persist", url=receiver.url, **{"from": "earliest"})
    assert (
        http_call(node.http_url, "POST", f"/webhooks/{paused['id']}/pause")[1]["state"] == "paused"
    )
    produce(node, "wh-persist", [{"n": 0}, {"n": 1}])
    wait_until(lambda: len(receiver.accepted) == 2, 10, "the live one's two")
    assert node.stop() == 0
    node = LuongProcess(tmp_path / "data", port=node.port)
    node.http_port = free_port()
    node.start()
    try:
        listed = {h["id"]: h for h in http_call(node.http_url, "GET", "/webhooks")[1]}
        assert (
            listed[live["id"]]["state"] == "running" and listed[paused["id"]]["state"] == "paused"
        )
        produce(node, "wh-persist", [{"n": 2}])
        wait_until(lambda: len(receiver.accepted) == 3, 10, "the live one's third")
        assert http_call(node.http_url, "POST", f"/webhooks/{paused['id']}/resume")[0] == 200
        wait_until(lambda: len(receiver.accepted) == 6, 10, "the resumed one from the start")
        by_hook: dict[str, list[int]] = {}
        for headers, body in receiver.accepted:
            by_hook.setdefault(headers["X-Luong-Subscription"], []).append(
                json.loads(body)["offset"]
            )
        assert by_hook == {live["id"]: [0, 1, 2], paused["id"]: [0, 1, 2]}  # none twice
        assert http_call(node.http_url, "DELETE", f"/webhooks/{live['id']}")[0] == 204
        assert live["id"] not in {h["id"] for h in http_call(node.http_url, "GET", "/webhooks")[1]}
    finally:
        node.stop()


def test_bad_subscriptions_are_refused(luong: LuongProcess) -> None:
    create(luong, "wh-bad")
    before = http_call(luong.http_url, "GET", "/webhooks")[1]
    for body, status, code, words in [
        ({"topic": "wh-bad", "url": "ftp://example.com/x"}, 422, 422, "http or https"),
        ({"topic": "wh-bad", "url": "not a url"}, 422, 422, "http or https"),
        ({"topic": "wh-none", "url": "http://127.0.0.1:9/x"}, 404, 40401, "wh-none"),
        (
            {"topic": "wh-bad", "url": "http://127.0.0.1:9/x", "filter": ["nope"]},
            422,
            422,
            "bad filter",
        ),
        (
            {"topic": "wh-bad", "url": "http://127.0.0.1:9/x", "max_attempts": 0},
            422,
            422,
            "max_attempts",
        ),
        ({"topic": "wh-bad", "url": "http://127.0.0.1:9/x", "extra": 1}, 422, 422, "extra"),
        ({"topic": "wh-bad", "url": "http://127.0.0.1:9/x", "from": "soon"}, 422, 422, "from"),
        (
            {"topic": "wh-bad", "url": "http://127.0.0.1:9/x", "batch_size": 0},
            422,
            422,
            "batch_size",
        ),
        (
            {"topic": "wh-bad", "url": "http://127.0.0.1:9/x", "concurrency": -1},
            422,
            422,
            "concurrency",
        ),
        (
            {"topic": "wh-bad", "url": "http://h/", "dead_letter_topic": "__consumer_offsets"},
            422,
            422,
            "internal topic",
        ),
        (
            {"topic": "wh-bad", "url": "http://h/", "dead_letter_topic": "no such name!"},
            422,
            422,
            "dead_letter_topic",
        ),
    ]:
        got, answer = http_call(luong.http_url, "POST", "/webhooks", body, content_type=V2)
        assert (got, answer["error_code"]) == (status, code), (body, answer)
        assert words in answer["message"]
    assert http_call(luong.http_url, "GET", "/webhooks")[1] == before
    assert http_call(luong.http_url, "GET", "/webhooks/nope")[0] == 404


def test_batches_arrive_as_arrays_in_order(luong: LuongProcess, receivers: list[Receiver]) -> None:
    body = {"name": "wh-batch", "partitions": 2}
    assert http_call(luong.http_url, "POST", "/admin/topics", body, content_type=V2)[0] == 201
    producer = Producer({"bootstrap.servers": luong.bootstrap, "linger.ms": 50})
    for i in range(14):
        producer.produce("wh-batch", json.dumps({"n": i}).encode(), partition=i % 2)
    assert producer.flush(10) == 0
    receivers.append(receiver := Receiver())
    hook = subscribe(
        luong,
        topic="wh-batch",
        url=receiver.url,
        batch_size=3,
        concurrency=1,
        **{"from": "earliest"},
    )
    wait_until(lambda: sum(len(json.loads(b)) for _, b in receiver.accepted) == 14, 10, "all 14")
    by_partition: dict[int, list[int]] = {0: [], 1: []}
    for headers, raw in receiver.accepted:
        batch = json.loads(raw)
        assert isinstance(batch, list) and 1 <= len(batch) <= 3
        first, last = batch[0], batch[-1]
        assert headers["X-Luong-Delivery"].endswith(
            f"/{first['partition']}/{first['offset']}"
            + (f"-{last['offset']}" if len(batch) > 1 else "")
        )
        by_partition[first["partition"]] += [r["offset"] for r in batch]
    assert by_partition == {0: list(range(7)), 1: list(range(7))}
    state = http_call(luong.http_url, "GET", f"/webhooks/{hook['id']}")[1]
    assert state["delivered"] == 14 and state["batch_size"] == 3 and state["concurrency"] == 1
