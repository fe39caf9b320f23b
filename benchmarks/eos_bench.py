"""What exactly-once costs: plain vs idempotent vs transactional produce throughput.

Against a real `luong serve` (fresh data directory, default settings: group commit),
one confluent-kafka producer in its own process sends N messages of SIZE bytes to a
topic of 3 partitions, acks=all, linger.ms=5, in three modes:

- plain:          enable.idempotence=false
- plain-5:        the same with max.in.flight.requests.per.connection=5, the limit
                  idempotence imposes on librdkafka (so plain-5 vs idempotent is the
                  broker's cost of deduplication, plain vs plain-5 the client's)
- idempotent:     enable.idempotence=true (sequence numbers, deduplicated by the broker)
- transactional:  a transactional.id, a transaction committed every 100 ms

Each mode runs RUNS times in turn (interleaved, so drift hits all alike); the
figures are the median msgs/s and the broker's CPU time per million messages
(psutil: user + system of the `luong serve` process), which is what the broker's
deduplication itself costs. Idempotence should cost under 10% of plain.

    python benchmarks/eos_bench.py [--messages N] [--size BYTES] [--runs RUNS] [--json OUT]

Needs `psutil` besides the test dependencies.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from luong.testing.node import LuongProcess

MODES = ("plain", "plain-5", "idempotent", "transactional")
COMMIT_EVERY_S = 0.1


def _produce(bootstrap: str, topic: str, mode: str, messages: int, size: int, out: Any) -> None:
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "acks": "all",
        "linger.ms": 5,
        "enable.idempotence": not mode.startswith("plain"),
        "queue.buffering.max.messages": 1_000_000,
    }
    if mode == "plain-5":
        config["max.in.flight.requests.per.connection"] = 5
    if mode == "transactional":
        config["transactional.id"] = f"bench-{topic}"
    producer = Producer(config)
    payload = b"x" * size
    transactional = mode == "transactional"
    if transactional:
        producer.init_transactions(30)
        producer.begin_transaction()
    commits = 0
    start = last_commit = time.perf_counter()
    for i in range(messages):
        while True:
            try:
                producer.produce(topic, payload)
                break
            except BufferError:
                producer.poll(0.001)
        if i % 1000 == 0:
            producer.poll(0)
            now = time.perf_counter()
            if transactional and now - last_commit >= COMMIT_EVERY_S:
                producer.commit_transaction(30)
                producer.begin_transaction()
                commits, last_commit = commits + 1, now
    if transactional:
        producer.commit_transaction(30)
        commits += 1
    assert producer.flush(60) == 0
    elapsed = time.perf_counter() - start
    out.put({"mode": mode, "msgs_per_s": messages / elapsed, "commits": commits})


def run_once(node: LuongProcess, topic: str, mode: str, messages: int, size: int) -> dict[str, Any]:
    assert node.process is not None
    server = psutil.Process(node.process.pid)
    queue: multiprocessing.Queue[dict[str, Any]] = multiprocessing.Queue()
    process = multiprocessing.Process(
        target=_produce, args=(node.bootstrap, topic, mode, messages, size, queue)
    )
    before = server.cpu_times()
    process.start()
    result = queue.get(timeout=600)
    process.join(60)
    after = server.cpu_times()
    cpu = (after.user - before.user) + (after.system - before.system)
    return {**result, "server_cpu_s_per_million": cpu / messages * 1e6}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2_000_000)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory() as scratch, LuongProcess(Path(scratch) / "data") as node:
        admin = AdminClient({"bootstrap.servers": node.bootstrap})
        for run in range(args.runs):
            for mode in MODES:
                topic = f"eos-{mode}-{run}"
                admin.create_topics([NewTopic(topic, 3, 1)])[topic].result(10)
                result = run_once(node, topic, mode, args.messages, args.size)
                results[mode].append(result)
                rate, cpu = result["msgs_per_s"], result["server_cpu_s_per_million"]
                print(f"run {run + 1} {mode:>13}: {rate:>10,.0f} msg/s, broker {cpu:.2f} CPU s/M")
    plain = statistics.median(r["msgs_per_s"] for r in results["plain"])
    print(f"\n{args.messages:,} messages of {args.size} B, median of {args.runs} runs:")
    summary = {}
    for mode in MODES:
        rates = [r["msgs_per_s"] for r in results[mode]]
        cpus = [r["server_cpu_s_per_million"] for r in results[mode]]
        median, cpu = statistics.median(rates), statistics.median(cpus)
        summary[mode] = {
            "median_msgs_per_s": median,
            "runs": rates,
            "server_cpu_s_per_million": cpus,
        }
        cost = (1 - median / plain) * 100
        print(
            f"  {mode:>13}: {median:>10,.0f} msg/s ({min(rates):,.0f}-{max(rates):,.0f}, "
            f"{cost:+.1f}% vs plain), broker {cpu:.2f} CPU s per million messages"
        )
    commits = statistics.median(r["commits"] for r in results["transactional"])
    print(
        f"  transactional commits per run: {commits:.0f} (one per {COMMIT_EVERY_S * 1000:.0f} ms)"
    )
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
