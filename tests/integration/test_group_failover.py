"""Group failover with real clients in separate processes: three members share a
6-partition topic while messages flow; one is killed with SIGKILL and its partitions
move to the others within the session timeout; a newcomer joins and gets a share.
Each member writes what it processed to a file before committing it, so in the end
every message was consumed at least once and no offset of any partition was skipped.
Run for confluent-kafka, kafka-python and aiokafka groups (see group_worker.py)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from luong.testing.node import LuongProcess, wait_until

WORKER = Path(__file__).with_name("group_worker.py")
PARTITIONS = 6
MESSAGES = 3000
RATE = 300  # messages a second
BEFORE_JOIN = 2000  # the feed sends these, then the rest once the newcomer has its share
SESSION_TIMEOUT_S = 6.0  # as group_worker.py sets it
FAILOVER_SLACK_S = 5.0

Record = tuple[int, int, str]  # partition, offset, value


class Worker:
    """One group_worker.py process and the files it writes."""

    def __init__(self, kind: str, node: LuongProcess, topic: str, group: str, out: Path) -> None:
        self.name = out.name
        self.out = out
        self.log_path = out.with_suffix(".log")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(WORKER), kind, node.bootstrap, topic, group, str(out)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def _lines(self, suffix: str) -> list[str]:
        """The complete lines of an output file (a killed worker may leave half a line)."""
        path = self.out.with_name(self.out.name + suffix)
        if not path.exists():
            return []
        text = path.read_text()
        return text[: text.rfind("\n") + 1].splitlines()

    def assignment(self) -> set[int]:
        """The partitions the worker last reported it owns (none before its first report)."""
        lines = self._lines(".assignment")
        return {int(p) for p in lines[-1].split(",") if p} if lines else set()

    def records(self) -> list[Record]:
        out = []
        for line in self._lines(".records"):
            partition, offset, value = line.split(" ")
            out.append((int(partition), int(offset), value))
        return out

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int:
        """SIGTERM: the worker closes its consumer (leaving the group) and exits."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(20)

    def describe(self) -> str:
        log = self.log_path.read_text() if self.log_path.exists() else ""
        return f"{self.name}: exit {self.process.poll()}, owns {self.assignment()}\n{log[-1500:]}"


def share_everything(workers: Sequence[Worker]) -> bool:
    """Every worker owns partitions, and together they own each partition exactly once."""
    owned = [w.assignment() for w in workers]
    every = Counter(p for partitions in owned for p in partitions)
    return all(owned) and every == Counter(range(PARTITIONS))


class Feed(threading.Thread):
    """Produces MESSAGES keyed values "0".."N-1" at RATE a second, noting where each landed;
    after BEFORE_JOIN of them it waits for `resume` (the newcomer has its share)."""

    def __init__(self, node: LuongProcess, topic: str) -> None:
        super().__init__(daemon=True)
        self.node, self.topic = node, topic
        self.sent = 0
        self.landed: dict[str, tuple[int, int]] = {}  # value -> (partition, offset)
        self.failures: list[str] = []
        self.resume = threading.Event()

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self.failures.append(str(error))
            return
        value, partition, offset = message.value(), message.partition(), message.offset()
        assert value is not None and partition is not None and offset is not None
        self.landed[value.decode()] = (partition, offset)

    def run(self) -> None:
        try:
            producer = Producer(
                {"bootstrap.servers": self.node.bootstrap, "acks": "all", "linger.ms": 5}
            )
            start = time.monotonic()
            for i in range(MESSAGES):
                if i == BEFORE_JOIN:
                    if not self.resume.wait(60):
                        raise TimeoutError("never resumed")
                    start = time.monotonic() - i / RATE
                ahead = start + i / RATE - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)  # pacing the feed, not waiting for anything
                value = b"%d" % i
                producer.produce(self.topic, key=value, value=value, on_delivery=self._delivered)
                producer.poll(0)
                self.sent = i + 1
            if producer.flush(20):
                self.failures.append("messages still in flight after 20 s")
        except Exception as error:
            self.failures.append(repr(error))


def create_topic(node: LuongProcess, topic: str) -> None:
    admin = AdminClient({"bootstrap.servers": node.bootstrap})  # gone before the node stops
    admin.create_topics([NewTopic(topic, PARTITIONS, 1)])[topic].result(10)


def committed(checker: Consumer, topic: str) -> dict[int, int]:
    wanted = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    return {tp.partition: tp.offset for tp in checker.committed(wanted, timeout=10)}


@pytest.mark.parametrize("kind", ["confluent", "kafka-python", "aiokafka"])
def test_a_killed_member_hands_over_and_nothing_is_skipped(kind: str, tmp_path: Path) -> None:
    began = time.monotonic()
    with LuongProcess(tmp_path / "data", settings={"num.partitions": str(PARTITIONS)}) as node:
        topic, group = f"fo-{uuid.uuid4().hex[:8]}", f"fo-{kind}-{uuid.uuid4().hex[:6]}"
        create_topic(node, topic)

        def spawn(name: str) -> Worker:
            return Worker(kind, node, topic, group, tmp_path / name)

        workers = [spawn(name) for name in ("a", "b", "c")]
        checker = Consumer({"bootstrap.servers": node.bootstrap, "group.id": group})
        feed = Feed(node, topic)
        try:

            def explain() -> str:
                return "\n".join(w.describe() for w in workers)

            try:
                wait_until(lambda: share_everything(workers), 30, "three members sharing")
                feed.start()
                doomed, *survivors = workers
                wait_until(
                    lambda: feed.sent >= MESSAGES // 5 and all(w.records() for w in workers),
                    20,
                    "every member processing the feed",
                )
                held = doomed.assignment()
                doomed.kill()
                killed_at = time.monotonic()
                wait_until(
                    lambda: share_everything(survivors),
                    SESSION_TIMEOUT_S + 15,
                    "the survivors taking over the killed member's partitions",
                )
                failover_s = time.monotonic() - killed_at
                newcomer = spawn("d")
                workers.append(newcomer)
                live = [*survivors, newcomer]
                joined_at = time.monotonic()
                wait_until(lambda: share_everything(live), 30, "the newcomer getting a share")
                join_s = time.monotonic() - joined_at
                feed.resume.set()
                feed.join(MESSAGES / RATE + 30)
                assert not feed.is_alive() and feed.failures == []
                assert len(feed.landed) == MESSAGES
                ends = Counter(partition for partition, _ in feed.landed.values())
                wait_until(
                    lambda: {v for w in workers for _, _, v in w.records()} >= feed.landed.keys(),
                    30,
                    "every message consumed",
                )
                wait_until(
                    lambda: committed(checker, topic) == dict(ends),
                    15,
                    "commits reaching the end of every partition",
                )
                codes = {w.name: w.stop() for w in live}
                assert codes == {w.name: 0 for w in live}
            except AssertionError as failure:
                raise AssertionError(f"{failure}\n{explain()}") from failure
            assert committed(checker, topic) == dict(ends)  # leaving the group kept them
        finally:
            feed.resume.set()
            checker.close()
            for worker in workers:
                if worker.alive():
                    worker.kill()

    # landed: what the broker acknowledged, at consecutive offsets in each partition
    for partition in range(PARTITIONS):
        offsets = sorted(o for p, o in feed.landed.values() if p == partition)
        assert offsets == list(range(ends[partition]))
    assert held and len(held) < PARTITIONS
    assert failover_s < SESSION_TIMEOUT_S + FAILOVER_SLACK_S
    processed = [record for w in workers for record in w.records()]
    for partition, offset, value in processed:
        assert feed.landed[value] == (partition, offset)  # each line is the real record
    # at least once: every value; nothing skipped: every offset of every partition
    assert {value for _, _, value in processed} == feed.landed.keys()
    for partition in range(PARTITIONS):
        seen = {o for p, o, _ in processed if p == partition}
        assert seen == set(range(ends[partition])), f"partition {partition} has gaps"
    assert newcomer.records(), "the newcomer processed none of its share"
    duplicates = len(processed) - MESSAGES
    print(
        f"\n{kind}: failover {failover_s:.1f} s, newcomer's share after {join_s:.1f} s, "
        f"{duplicates} duplicates, {time.monotonic() - began:.1f} s in all"
    )
