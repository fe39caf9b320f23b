"""The HTTP gateway: REST produce throughput and Server-Sent Events fan-out.

    python benchmarks/http_bench.py [--seconds 5] [--subscribers 1,100,1000] [--json OUT]

Starts `luong serve` (fresh data directory, default settings: every produce answer
waits for its fsync) and drives its gateway with aiohttp from this process:

- produce: 16 requests in flight to `POST /topics/{t}` (binary embedded format),
  each with 100 records of 100 B, then each with 1 record: events/s and p50/p99
  request latency;
- webhooks: a receiver in this process answering 204, subscribed from the start
  of 5,000 stored records (1 partition; 4 partitions; 1 partition with batches of
  100): delivered events/s;
- fan-out: N subscribers on `GET /topics/{t}/events` (1 partition, from the end,
  JSON values) in this process, then a producer in its own process sending 1,000
  events/s for `--seconds` in requests of 10, each value starting with its send
  time: delivered events/s over all subscribers, and p50/p99 of the delivery
  latency (send to read by the subscriber, which parses only that time).

Client and broker share the machine's 2 cores: with many subscribers, reading
their streams in this one Python process is much of the work.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from luong.testing.node import LuongProcess, free_port

BINARY = "application/vnd.kafka.binary.v2+json"
JSON = "application/vnd.kafka.json.v2+json"


async def create_topic(node: LuongProcess, name: str) -> None:
    async with aiohttp.ClientSession() as session:
        body = {"name": name, "partitions": 1}
        async with session.post(f"{node.http_url}/admin/topics", json=body) as response:
            assert response.status == 201, await response.text()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2) if values else 0


async def produce_load(url: str, batch: int, seconds: float, in_flight: int = 16) -> dict[str, Any]:
    value = base64.b64encode(b"x" * 100).decode()
    body = json.dumps({"records": [{"value": value}] * batch})
    headers = {"Content-Type": BINARY}
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def worker(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < deadline:
            start = time.monotonic()
            async with session.post(url, data=body, headers=headers) as response:
                assert response.status == 200, await response.text()
                await response.read()
            latencies.append(time.monotonic() - start)

    async with aiohttp.ClientSession() as session:
        began = time.monotonic()
        await asyncio.gather(*(worker(session) for _ in range(in_flight)))
        elapsed = time.monotonic() - began
    return {
        "records_per_request": batch,
        "events_s": round(len(latencies) * batch / elapsed),
        "requests_s": round(len(latencies) / elapsed),
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
    }


async def subscriber(url: str, ready: asyncio.Event, got: list[float], stop: asyncio.Event) -> None:
    """Reads the stream, parsing only the send time that starts each value."""
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
        ready.set()
        async for line in response.content:
            at = line.find(b'"value":"')
            if at >= 0:
                got.append(time.time() - float(line[at + 9 : line.index(b" ", at)]))
            if stop.is_set():
                return


def paced_producer(url: str, rate: int, seconds: float, sent: Any) -> None:
    """In its own process: `rate` events/s in requests of 10, each value its send time."""
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        if int((time.monotonic() - began) * rate) - sent.value < 10:
            time.sleep(0.001)
            continue
        stamp = f"{time.time():.6f} "
        records = [{"value": stamp + "x" * (100 - len(stamp))} for _ in range(10)]
        request = urllib.request.Request(
            url, data=json.dumps({"records": records}).encode(), headers={"Content-Type": JSON}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
        sent.value += 10


async def fan_out(
    node: LuongProcess, count: int, seconds: float, rate: int = 1000
) -> dict[str, Any]:
    topic = f"fanout-{count}"
    await create_topic(node, topic)
    url = f"{node.http_url}/topics/{topic}/events"
    latencies: list[float] = []
    stop = asyncio.Event()
    readies = [asyncio.Event() for _ in range(count)]
    tasks = [asyncio.ensure_future(subscriber(url, r, latencies, stop)) for r in readies]
    await asyncio.gather(*(r.wait() for r in readies))
    context = multiprocessing.get_context("spawn")
    sent = context.Value("i", 0)
    producer = context.Process(
        target=paced_producer, args=(f"{node.http_url}/topics/{topic}", rate, seconds, sent)
    )
    began = time.monotonic()
    producer.start()
    while producer.is_alive():
        await asyncio.sleep(0.05)
    deadline = time.monotonic() + 30
    while len(latencies) < sent.value * count and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - began
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "subscribers": count,
        "sent": sent.value,
        "delivered": len(latencies),
        "delivered_events_s": round(len(latencies) / elapsed),
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
    }


async def webhook_rate(
    node: LuongProcess, partitions: int, batch_size: int, count: int = 5000
) -> dict[str, Any]:
    """Time until a local receiver (answering 204) has all of `count` stored records."""
    topic = f"hooks-{partitions}-{batch_size}"
    async with aiohttp.ClientSession() as session:
        body = {"name": topic, "partitions": partitions}
        async with session.post(f"{node.http_url}/admin/topics", json=body) as response:
            assert response.status == 201
        value = base64.b64encode(b"x" * 100).decode()
        for p in range(partitions):
            records = {"records": [{"value": value}] * (count // partitions)}
            url = f"{node.http_url}/topics/{topic}/partitions/{p}"
            async with session.post(url, json=records, headers={"Content-Type": BINARY}) as r:
                assert r.status == 200
        received = [0]
        done = asyncio.Event()

        async def hook(request: web.Request) -> web.Response:
            data = json.loads(await request.read())
            received[0] += len(data) if isinstance(data, list) else 1
            if received[0] >= count:
                done.set()
            return web.Response(status=204)

        app = web.Application()
        app.router.add_post("/hook", hook)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        began = time.monotonic()
        subscription = {
            "topic": topic,
            "url": f"http://127.0.0.1:{port}/hook",
            "from": "earliest",
            "batch_size": batch_size,
        }
        async with session.post(f"{node.http_url}/webhooks", json=subscription) as response:
            assert response.status == 201
        await asyncio.wait_for(done.wait(), 120)
        elapsed = time.monotonic() - began
        await runner.cleanup()
    return {
        "partitions": partitions,
        "batch_size": batch_size,
        "events_s": round(count / elapsed),
        "requests_s": round(count / batch_size / elapsed),
    }


async def run(node: LuongProcess, seconds: float, subscribers: list[int]) -> dict[str, Any]:
    await create_topic(node, "http-bench")
    url = f"{node.http_url}/topics/http-bench"
    results: dict[str, Any] = {"produce": [], "fan_out": []}
    for batch in (100, 1):
        results["produce"].append(await produce_load(url, batch, seconds))
        print(results["produce"][-1], flush=True)
    for count in subscribers:
        results["fan_out"].append(await fan_out(node, count, seconds))
        print(results["fan_out"][-1], flush=True)
    results["webhooks"] = []
    for partitions, batch_size in ((1, 1), (4, 1), (1, 100)):
        results["webhooks"].append(await webhook_rate(node, partitions, batch_size))
        print(results["webhooks"][-1], flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--subscribers", default="1,100,1000")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    subscribers = [int(n) for n in args.subscribers.split(",")]
    with (
        tempfile.TemporaryDirectory(prefix="luong-http-bench-") as scratch,
        LuongProcess(Path(scratch) / "data") as node,
    ):
        results = asyncio.run(run(node, args.seconds, subscribers))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
