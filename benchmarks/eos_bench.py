"""What exactly-once costs: plain vs idempotent vs transactional produce throughput.

Against a real `luong serve` (fresh data directory, default settings: group commit),
one confluent-kafka producer in its own process sends N messages of SIZE bytes to a
topic of 3 partitions, acks=all, linger.ms=5, in three modes:

- plain:          enable.idempotence=false
- idempotent:     enable.idempotence=true (sequence numbers, deduplicated by the broker)
- transactional:  a transactional.id, a transaction committed every 100 ms

Each mode runs RUNS times in turn (interleaved, so drift hits all alike); the
figure is the median msgs/s. Idempotence should cost under 10% of plain.

    python benchmarks/eos_bench.py [--messages N] [--size BYTES] [--runs RUNS] [--json OUT]
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

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from luong.testing.node import LuongProcess

MODES = ("plain", "idempotent", "transactional")
COMMIT_EVERY_S = 0.1


def _produce(bootstrap: str, topic: str, mode: str, messages: int, size: int, out: Any) -> None:
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "acks": "all",
        "linger.ms": 5,
        "enable.idempotence": mode != "plain",
        "queue.buffering.max.messages": 1_000_000,
    }
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


def run_once(bootstrap: str, topic: str, mode: str, messages: int, size: int) -> dict[str, Any]:
    queue: multiprocessing.Queue[dict[str, Any]] = multiprocessing.Queue()
    process = multiprocessing.Process(
        target=_produce, args=(bootstrap, topic, mode, messages, size, queue)
    )
    process.start()
    result = queue.get(timeout=600)
    process.join(60)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300_000)
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
                result = run_once(node.bootstrap, topic, mode, args.messages, args.size)
                results[mode].append(result)
                print(f"run {run + 1} {mode:>13}: {result['msgs_per_s']:>10,.0f} msg/s", flush=True)
    plain = statistics.median(r["msgs_per_s"] for r in results["plain"])
    print(f"\n{args.messages:,} messages of {args.size} B, median of {args.runs} runs:")
    summary = {}
    for mode in MODES:
        rates = [r["msgs_per_s"] for r in results[mode]]
        median = statistics.median(rates)
        summary[mode] = {"median_msgs_per_s": median, "runs": rates}
        cost = (1 - median / plain) * 100
        print(f"  {mode:>13}: {median:>10,.0f} msg/s  ({cost:+.1f}% below plain)")
    commits = statistics.median(r["commits"] for r in results["transactional"])
    print(
        f"  transactional commits per run: {commits:.0f} (one per {COMMIT_EVERY_S * 1000:.0f} ms)"
    )
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
