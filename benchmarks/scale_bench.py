"""How luong grows: partitions, producer connections, consumers, stored data.

    python benchmarks/scale_bench.py [--quick] [--only SECTION,...] [--gib 10] [--json OUT]

Sections (each starts its own `luong serve` with a fresh data directory and the
default settings, so every acks=all answer waits for its fsync):

- partitions: for 1, 16, 256 and 2,048 partitions, produce at full speed for
  `--seconds` (8 connections x 5 requests in flight, 100 records of 100 B per
  request, partitions round robin; benchmarks/loadgen.py), then at a paced
  5,000 msg/s (10 records per request) for the ack latency without queueing,
  then read everything back with kcat (a C consumer, all partitions). Broker
  RSS idle and after, broker CPU seconds per GB written.
- connections: 1, 8 and 64 producer connections on a 16-partition topic, 5
  requests in flight each (as a Kafka producer's default), full speed and paced.
- consumers: resident memory with 1, 64 and 512 idle long-polling consumers, and
  with 1, 8 and 64 consumers each reading a whole partition at once (peak RSS).
- restart: 2,048 partitions filled to `--gib` GiB with 1 KiB records; start-up
  time after a clean stop (SIGTERM) and recovery time after a SIGKILL, at a tenth
  of the data and at all of it, and the broker's RSS once it answers Metadata.

Needs kcat and psutil besides the test dependencies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from loadgen import consume, kcat_read, process_cpu_s, produce
from luong.testing.node import LuongProcess

MB = 1_000_000
HOST = "127.0.0.1"


def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(name, partitions, 1)]).values():
        future.result(60)


def end_offsets(bootstrap: str, topic: str, partitions: int) -> list[int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "scale-bench"})
    try:
        ends = [
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(partitions)
        ]
    finally:
        consumer.close()
    return ends


def rss_mb(node: LuongProcess) -> float:
    assert node.process is not None
    return round(psutil.Process(node.process.pid).memory_info().rss / 2**20, 1)


def cpu_s(node: LuongProcess) -> float:
    assert node.process is not None
    return process_cpu_s(node.process.pid)


@contextmanager
def peak_rss(node: LuongProcess) -> Iterator[list[float]]:
    """Samples the broker's RSS every 50 ms; the list holds the peak in MiB."""
    peak = [rss_mb(node)]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], rss_mb(node))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join()


def load(node: LuongProcess, topic: str, **kwargs: Any) -> dict[str, float]:
    """One loadgen produce run: msg/s, MB/s, ack latency, broker CPU per GB."""
    before = cpu_s(node)
    result = asyncio.run(produce(HOST, node.port, topic, **kwargs))
    cpu = cpu_s(node) - before
    assert result.errors == 0, f"{result.errors} produce errors"
    return {
        "msgs_s": round(result.records / result.seconds),
        "mb_s": round(result.payload_bytes / result.seconds / MB, 1),
        "ack_p50_ms": round(result.percentile(0.5) * 1e3, 2),
        "ack_p99_ms": round(result.percentile(0.99) * 1e3, 2),
        "cpu_s_per_gb": round(cpu / max(result.payload_bytes, 1) * 1e9, 2),
        "records": result.records,
    }


def paced(node: LuongProcess, topic: str, partitions: int, connections: int) -> dict[str, float]:
    """5,000 msg/s in requests of 10 records spread over `connections`."""
    rate = 500 / connections
    run = load(
        node,
        topic,
        partitions=partitions,
        connections=connections,
        in_flight=64,
        seconds=5.0,
        batch_records=10,
        rate=rate,
    )
    return {
        "paced_p50_ms": run["ack_p50_ms"],
        "paced_p99_ms": run["ack_p99_ms"],
        "paced_records": run["records"],
    }


def kcat_read_all(node: LuongProcess, topic: str, expected: int) -> dict[str, float]:
    """Read the whole topic with kcat (all partitions) and time it."""
    before = cpu_s(node)
    start = time.monotonic()
    out = subprocess.run(
        kcat_read(node.bootstrap, topic, "-f", "\n"), check=True, capture_output=True
    ).stdout
    elapsed = time.monotonic() - start
    read = out.count(b"\n")
    assert read == expected, f"kcat read {read} of {expected}"
    return {
        "read_msgs_s": round(read / elapsed),
        "read_cpu_s_per_gb": round((cpu_s(node) - before) / (read * 100) * 1e9, 2),
    }


def section_partitions(root: Path, seconds: float, counts: list[int]) -> list[dict[str, Any]]:
    rows = []
    for partitions in counts:
        with LuongProcess(root / f"partitions-{partitions}") as node:
            start_rss = rss_mb(node)
            create_topic(node.bootstrap, "t", partitions)
            row: dict[str, Any] = {
                "partitions": partitions,
                "rss_start_mb": start_rss,
                "rss_idle_mb": rss_mb(node),
            }
            full = load(
                node, "t", partitions=partitions, connections=8, in_flight=5, seconds=seconds
            )
            row |= full | paced(node, "t", partitions, 8)
            row |= kcat_read_all(node, "t", full["records"] + row["paced_records"])
            row["rss_after_mb"] = rss_mb(node)
        shutil.rmtree(root / f"partitions-{partitions}")
        print(row, flush=True)
        rows.append(row)
    return rows


def section_connections(root: Path, seconds: float, counts: list[int]) -> list[dict[str, Any]]:
    rows = []
    with LuongProcess(root / "connections") as node:
        create_topic(node.bootstrap, "t", 16)
        for connections in counts:
            row: dict[str, Any] = {"connections": connections}
            row |= load(
                node, "t", partitions=16, connections=connections, in_flight=5, seconds=seconds
            )
            row |= paced(node, "t", 16, connections)
            row["rss_mb"] = rss_mb(node)
            print(row, flush=True)
            rows.append(row)
    return rows


def section_consumers(root: Path, seconds: float) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with LuongProcess(root / "consumers") as node:
        create_topic(node.bootstrap, "t", 16)
        filled = load(node, "t", partitions=16, connections=8, in_flight=5, seconds=seconds)
        ends = end_offsets(node.bootstrap, "t", 16)
        rows.append({"filled_records": filled["records"], "rss_mb": rss_mb(node)})
        for idle in (1, 64, 512):
            rows.append(idle_consumers(node, idle, ends))
            print(rows[-1], flush=True)
        for active in (1, 8, 64):
            with peak_rss(node) as peak:
                start = time.monotonic()
                read, _ = asyncio.run(
                    consume(
                        HOST, node.port, "t", partitions=16, consumers=active, until_offset=ends
                    )
                )
                elapsed = time.monotonic() - start
            rows.append(
                {
                    "active_consumers": active,
                    "peak_rss_mb": peak[0],
                    "read_msgs_s": round(read / elapsed),
                }
            )
            print(rows[-1], flush=True)
    return rows


def idle_consumers(node: LuongProcess, count: int, ends: list[int]) -> dict[str, Any]:
    """RSS while `count` consumers long-poll at the end of the log."""

    async def run() -> float:
        stop = asyncio.Event()
        task = asyncio.ensure_future(
            consume(
                HOST,
                node.port,
                "t",
                partitions=16,
                consumers=count,
                until_offset=ends,
                idle=True,
                stop=stop,
            )
        )
        await asyncio.sleep(2.0)
        rss = rss_mb(node)
        stop.set()
        await task
        return rss

    return {"idle_consumers": count, "rss_mb": asyncio.run(run())}


def section_restart(root: Path, gib: float) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    node = LuongProcess(root / "restart").start()
    create_topic(node.bootstrap, "big", 2048)
    written = 0
    for target in (gib / 10, gib):
        start, before = time.monotonic(), written
        while written < target * 2**30:
            chunk = min(5.0, max(0.5, (target * 2**30 - written) / 250e6))
            run = load(
                node,
                "big",
                partitions=2048,
                connections=8,
                in_flight=4,
                seconds=chunk,
                record_bytes=1024,
            )
            written += run["records"] * 1024
        rate = (written - before) / (time.monotonic() - start) / MB
        row: dict[str, Any] = {"stored_gib": round(written / 2**30, 2), "fill_mb_s": round(rate)}
        node.stop()
        row["clean_start_s"], row["rss_clean_start_mb"] = timed_start(node)
        load(
            node, "big", partitions=2048, connections=8, in_flight=4, seconds=2.0, record_bytes=1024
        )
        node.kill()
        row["recovery_s"], row["rss_recovered_mb"] = timed_start(node)
        print(row, flush=True)
        rows.append(row)
    node.stop()
    return rows


def timed_start(node: LuongProcess) -> tuple[float, float]:
    """Seconds from spawn to a Metadata answer for the big topic, and RSS then."""
    start = time.monotonic()
    node.start(timeout_s=600)
    AdminClient({"bootstrap.servers": node.bootstrap}).list_topics("big", timeout=600)
    return round(time.monotonic() - start, 2), rss_mb(node)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs, 0.5 GiB")
    parser.add_argument("--only", default="partitions,connections,consumers,restart")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--gib", type=float, default=10.0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    seconds, gib = (2.0, 0.5) if args.quick else (args.seconds, args.gib)
    sections: dict[str, Callable[[Path], list[dict[str, Any]]]] = {
        "partitions": lambda root: section_partitions(root, seconds, [1, 16, 256, 2048]),
        "connections": lambda root: section_connections(root, seconds, [1, 8, 64]),
        "consumers": lambda root: section_consumers(root, seconds / 2),
        "restart": lambda root: section_restart(root, gib),
    }
    results = {}
    with tempfile.TemporaryDirectory(prefix="luong-scale-", dir="/var/tmp") as scratch:
        for name in args.only.split(","):
            print(f"== {name}", flush=True)
            results[name] = sections[name](Path(scratch))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
