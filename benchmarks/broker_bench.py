"""Produce and consume throughput of a real `luong serve`, through confluent-kafka.

Runs the peer harness (`../shared/bench/peers.py`, its `kafka` adapter: W1 produce
of 100 B and 1 KiB messages with acks=all, idempotent, linger.ms=5; W2 consume;
W3 end-to-end latency) against a luong broker this script starts on a free port
with a fresh data directory, and the same workloads against librdkafka's in-process
mock cluster: the client's own ceiling, since client and broker share 2 cores.
The storage ceilings come from `benchmarks/storage_bench.py`.

The harness's W3 consumer calls `consume(num_messages=1000, timeout=0.1)`, which
waits for 1,000 messages or 100 ms, so its latency figures measure that wait;
this script also measures W3 with a consumer that polls message by message:
a producer at 5,000 msg/s for 10 s (100 B, acks=all, linger.ms=0) in its own
process, each payload carrying its send time.

    python benchmarks/broker_bench.py [--quick] [--runs N] [--json OUT]

Needs `psutil` (server CPU accounting) besides the test dependencies.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from luong.testing.node import LuongProcess

PEERS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "peers.py"


def run_peers(bootstrap: str, extra: list[str], out: Path, pid: int = 0) -> dict[str, object]:
    command = [
        sys.executable,
        str(PEERS),
        "suite",
        "--systems",
        "kafka",
        "--kafka-bootstrap",
        bootstrap,
        "--no-ceilings",
        "--json",
        str(out),
        *extra,
    ]
    if pid:
        command += ["--kafka-server-pid", str(pid)]
    # the harness also writes peers-results.md into its working directory: keep it with `out`
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    subprocess.run(command, check=True, env=env, cwd=out.parent)
    result: dict[str, object] = json.loads(out.read_text())
    return result


def _latency_producer(bootstrap: str, rate: int, seconds: float) -> None:
    """Send what is due every millisecond (as the harness does), sleeping in between."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0})
    producer.list_topics("latency", timeout=10)  # connected before the clock starts
    pad = b"x" * 92
    total = int(rate * seconds)
    sent = 0
    start = time.perf_counter()
    while sent < total:
        due = min(total, int((time.perf_counter() - start) * rate) + 1)
        for _ in range(due - sent):
            producer.produce("latency", struct.pack(">q", time.time_ns()) + pad, partition=0)
        sent = due
        producer.poll(0)
        time.sleep(0.001)
    producer.flush(30)


def measure_latency(bootstrap: str, rate: int = 5000, seconds: float = 10.0) -> dict[str, float]:
    """p50/p99/p99.9/max end-to-end milliseconds with a per-message polling consumer."""
    from confluent_kafka import Consumer, Producer, TopicPartition

    warm = Producer({"bootstrap.servers": bootstrap})
    warm.produce("latency", b"warm-up", partition=0)
    warm.flush(10)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "unused",
            "fetch.wait.max.ms": 50,
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition("latency", 0, 1)])
    consumer.poll(1.0)
    writer = multiprocessing.get_context("spawn").Process(
        target=_latency_producer, args=(bootstrap, rate, seconds)
    )
    writer.start()
    latencies: list[float] = []
    deadline = time.monotonic() + seconds + 30
    while len(latencies) < rate * seconds and time.monotonic() < deadline:
        message = consumer.poll(0.1)
        if message is not None and message.error() is None:
            sent = struct.unpack_from(">q", message.value())[0]
            latencies.append((time.time_ns() - sent) / 1e6)
    writer.join()
    consumer.close()
    latencies.sort()

    def at(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 3)

    return {
        "received": len(latencies),
        "p50_ms": at(0.5),
        "p99_ms": at(0.99),
        "p999_ms": at(0.999),
        "max_ms": round(latencies[-1], 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts, a few seconds")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--json", default=None, help="write both results here")
    args = parser.parse_args()
    extra = ["--runs", str(args.runs)]
    if args.quick:
        extra += [
            "--n-small",
            "20000",
            "--n-large",
            "20000",
            "--lat-seconds",
            "3",
            "--no-fsync-check",
        ]
    with tempfile.TemporaryDirectory(prefix="luong-broker-bench-") as scratch:
        root = Path(scratch)
        with LuongProcess(root / "data") as node:
            assert node.process is not None
            luong = run_peers(node.bootstrap, extra, root / "luong.json", node.process.pid)
            latency = measure_latency(node.bootstrap, seconds=3.0 if args.quick else 10.0)
            print(f"W3 polled per message: {latency}", flush=True)
        mock = run_peers("mock", extra, root / "mock.json")
    if args.json:
        results = {"luong": luong, "mock": mock, "latency_polled": latency}
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
