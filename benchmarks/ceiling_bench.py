"""The broker's own ceiling, measured with a C client: kcat in and out.

    python benchmarks/ceiling_bench.py [--runs 3] [--messages 2000000] [--json OUT]

Starts `luong serve` (fresh data directory, default settings: every acks=all
answer waits for its fsync), writes a file of pre-made lines (2,000,000 x 100 B
and a fifth as many of 1 KiB, newline included) and, per run and size, into a new
one-partition topic:

- produce: `kcat -P -l FILE` with acks=all (librdkafka's default), linger.ms=5,
  up to 10,000 messages per batch; checked by the partition's high watermark;
- consume: `kcat -C -e` from the beginning to the end, output discarded, with
  queued.min.messages=1000000 and 8 MiB per partition fetch (librdkafka's
  defaults pause fetching for up to fetch.queue.backoff.ms=1 s whenever 100,000
  messages wait in its queue, which caps a fast reader at ~440k msg/s).

Prints msg/s and MB/s (10^6 B of payload) and the broker's CPU seconds (user +
system, psutil) per GB of payload. Medians over the runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from confluent_kafka.admin import AdminClient, NewTopic

from loadgen import kcat_read, process_cpu_s
from luong.testing.node import LuongProcess

MB = 1_000_000


def make_lines(path: Path, count: int, size: int) -> None:
    line = b"x" * (size - 1) + b"\n"
    with open(path, "wb") as out:
        for _ in range(count // 100_000):
            out.write(line * 100_000)
        out.write(line * (count % 100_000))


def broker_cpu(node: LuongProcess) -> float:
    assert node.process is not None
    return process_cpu_s(node.process.pid)


def timed(node: LuongProcess, command: list[str]) -> tuple[float, float]:
    """Run `command`; its wall seconds and the broker's CPU seconds meanwhile."""
    cpu, start = broker_cpu(node), time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - start, broker_cpu(node) - cpu


def high_watermark(node: LuongProcess, topic: str) -> int:
    out = subprocess.run(
        ["kcat", "-Q", "-b", node.bootstrap, "-t", f"{topic}:0:-1"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(out.split()[-1])


def one_run(node: LuongProcess, lines: Path, count: int, size: int, run: int) -> dict[str, float]:
    topic = f"ceiling-{size}-{run}"
    admin = AdminClient({"bootstrap.servers": node.bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
    seconds, cpu = timed(
        node,
        [
            "kcat",
            "-P",
            "-b",
            node.bootstrap,
            "-t",
            topic,
            "-p",
            "0",
            "-X",
            "acks=all",
            "-X",
            "linger.ms=5",
            "-X",
            "batch.num.messages=10000",
            "-X",
            "queue.buffering.max.messages=1000000",
            "-l",
            str(lines),
        ],
    )
    assert high_watermark(node, topic) == count, "not every message arrived"
    read_seconds, read_cpu = timed(node, kcat_read(node.bootstrap, topic, "-p", "0"))
    gb = count * size / 1e9
    return {
        "produce_msgs_s": count / seconds,
        "produce_mb_s": count * size / seconds / MB,
        "produce_cpu_s_per_gb": cpu / gb,
        "consume_msgs_s": count / read_seconds,
        "consume_mb_s": count * size / read_seconds / MB,
        "consume_cpu_s_per_gb": read_cpu / gb,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--messages", type=int, default=2_000_000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="luong-ceiling-", dir="/var/tmp") as scratch:
        root = Path(scratch)
        with LuongProcess(root / "data", settings={"num.partitions": "1"}) as node:
            for size, count in ((100, args.messages), (1024, args.messages // 5)):
                lines = root / f"lines-{size}"
                make_lines(lines, count, size)
                runs = [one_run(node, lines, count, size, run) for run in range(args.runs)]
                results[f"{size}B"] = {
                    key: round(statistics.median(r[key] for r in runs), 2) for key in runs[0]
                }
                print(
                    f"{count:,} x {size} B, median of {args.runs}: {results[f'{size}B']}",
                    flush=True,
                )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
