"""How fast a pipeline worker with a large state is back to processing.

A keyed count over KEYS distinct keys (one record each, so KEYS keys of state and
KEYS changelog records) runs until caught up; then three measurements, each from the
moment the old worker is gone to the moment a probe record's count comes out of the
output topic (read_committed):

- restart: SIGTERM, start again on the same state directory (the local store is
  current: nothing to restore);
- crash: SIGKILL, start again on the same state directory (the store is at its last
  commit: the changelog tail after it, up to a commit interval, is read);
- takeover: two workers share the partitions; one is killed; the survivor, whose
  own state directory has none of those partitions, reads their changelogs whole
  (after the session timeout, 6 s here, has told the group).

    python benchmarks/pipeline_restore_bench.py [--keys 1000000] [--partitions 4]

Starts its own `luong serve` on a free port (data in a temporary directory).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from luong.protocol.records.partitioner import partition_for_key
from luong.testing.node import LuongProcess, wait_until
from luong.testing.pipelines import PipelineProcess

APP = """
from luong.pipelines import Count, Pipeline
p = Pipeline("restore-bench", config={"consumer.session.timeout.ms": 6000})
p.source("restore-in").aggregate(Count(), name="counts").to("restore-out")
"""


def produce_keys(bootstrap: str, keys: int) -> None:
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 20,
            "partitioner": "murmur2_random",
            "batch.size": 1_000_000,
        }
    )
    started = time.monotonic()
    for i in range(keys):
        while True:
            try:
                producer.produce("restore-in", b"{}", f"key-{i}".encode())
                break
            except BufferError:
                producer.poll(0.05)
    producer.flush(120)
    print(f"produced {keys:,} keys in {time.monotonic() - started:.1f} s")


class Probe:
    """Sends a record with a fresh key and waits for its count to come out."""

    def __init__(self, bootstrap: str, partitions: int) -> None:
        self.producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": "probe",
                "isolation.level": "read_committed",
            }
        )
        self.count = 0
        self.sent = 0
        self.partitions = partitions

    def round_trip(
        self, started: float, partitions: set[int] | None = None, timeout_s: float = 300
    ) -> float:
        """Seconds from `started` to the probe's count coming out; the probe's key
        lands on one of `partitions` when given."""
        self.count += 1
        key = f"probe-{self.count}".encode()
        while partitions is not None and partition_for_key(key, self.partitions) not in partitions:
            self.count += 1
            key = f"probe-{self.count}".encode()
        topic = self.consumer.list_topics("restore-out", timeout=10).topics["restore-out"]
        ends = [TopicPartition("restore-out", p) for p in topic.partitions]
        for tp in ends:  # read from the output's current end (an explicit offset)
            tp.offset = self.consumer.get_watermark_offsets(tp, timeout=10)[1]
        self.consumer.assign(ends)
        self.producer.produce("restore-in", b"{}", key)
        self.producer.flush(10)
        self.sent += 1
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for message in self.consumer.consume(100, 0.1):
                if message.error() is None and message.key() == key:
                    return time.monotonic() - started
        raise RuntimeError("the probe's count never came out")


def caught_up(workers: list[PipelineProcess], total: int) -> bool:
    try:
        parts = [p for w in workers for p in w.status()["partitions"] if p["topic"] == "restore-in"]
    except (OSError, ValueError, KeyError):
        return False
    return sum(p["position"] for p in parts) >= total and all(p["lag"] == 0 for p in parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="restore-bench-"))
    with LuongProcess(work / "data", settings={"group.min.session.timeout.ms": "1000"}) as node:
        admin = AdminClient({"bootstrap.servers": node.bootstrap})
        new = NewTopic("restore-in", num_partitions=args.partitions)
        admin.create_topics([new])["restore-in"].result(10)
        produce_keys(node.bootstrap, args.keys)
        app = work / "app.py"
        app.write_text(APP)
        started = time.monotonic()
        worker = PipelineProcess(app, node.bootstrap, work / "a").start()
        wait_until(lambda: caught_up([worker], args.keys), 1800, "the first run")
        first = time.monotonic() - started
        print(
            f"first run: {args.keys:,} records in {first:.1f} s "
            f"({args.keys / first:,.0f} records/s, state and changelog included)"
        )
        probe = Probe(node.bootstrap, args.partitions)
        probe.round_trip(time.monotonic())

        worker.stop()
        started = time.monotonic()
        worker = PipelineProcess(app, node.bootstrap, work / "a").start(600)
        restart = probe.round_trip(started)
        print(
            f"restart (clean stop, same state dir): processing again after {restart:.2f} s, "
            f"restored {worker.status()['restore']['records']:,} changelog records"
        )

        worker.kill()
        started = time.monotonic()
        worker = PipelineProcess(app, node.bootstrap, work / "a").start(600)
        crash = probe.round_trip(started)
        print(
            f"crash (kill -9, same state dir): processing again after {crash:.2f} s, "
            f"restored {worker.status()['restore']['records']:,} changelog records"
        )

        other = PipelineProcess(app, node.bootstrap, work / "b").start(600)
        wait_until(
            lambda: (
                len(other.status()["partitions"]) > 0
                and caught_up([worker, other], args.keys + probe.sent)
            ),
            600,
            "the partitions to be shared",
        )
        before = other.status()["restore"]
        theirs = {
            p["partition"] for p in worker.status()["partitions"] if p["topic"] == "restore-in"
        }
        worker.kill()
        started = time.monotonic()
        takeover = probe.round_trip(started, theirs)
        after = other.status()["restore"]
        print(
            f"takeover (kill -9 of one of two workers): processing again after "
            f"{takeover:.2f} s (session timeout 6 s), the survivor restored "
            f"{after['records'] - before['records']:,} changelog records in "
            f"{after['seconds'] - before['seconds']:.1f} s"
        )
        other.stop()


if __name__ == "__main__":
    main()
