"""Consumer groups on a real `luong serve`: rebalance time and offset-commit throughput.

Run from the repository root with the project's virtualenv:

    python benchmarks/group_bench.py [--quick] [--runs N] [--json OUT]
                                     [--bootstrap HOST:PORT] [--heartbeat-ms MS]
                                     [--delays 3000,0] [--committers N]
                                     [--commit-seconds S] [--only rebalance|commits]

Without `--bootstrap` the script starts its own brokers (LuongProcess: a free port, a
fresh data directory, default settings but the one under test), one after the other:
for the rebalances one with group.initial.rebalance.delay.ms=3000 (Kafka's and luong's
default) and one with 0 (`--delays`); for the commits one with default settings and
one with luong.log.flush.policy=os. With `--bootstrap` every measurement runs against
that broker as it is configured (and the flush=os comparison is skipped). The topic
`group-bench` has 30 partitions. Every figure is measured `--runs` times (default 3)
and printed as the median with the spread (min-max); cases are interleaved run by run
so that load from anything else on the machine spreads over all of them.

1. Rebalance time, 10 confluent-kafka consumers subscribed to the topic, for
   partition.assignment.strategy=range (eager) and cooperative-sticky, with
   heartbeat.interval.ms=1000 (`--heartbeat-ms`), session.timeout.ms=45000 and
   max.poll.interval.ms=300000 (librdkafka's defaults; the JoinGroup's rebalance
   timeout), a fresh group per run:
   - cold: from the moment the 10 consumers subscribe (together, released by one
     event) to the moment every one of them holds a non-empty assignment and the 10
     assignments cover the 30 partitions disjointly;
   - leave: one member close()s (a LeaveGroup); until the remaining 9 again hold
     non-empty, disjoint assignments covering the 30 partitions;
   - join: a member subscribes to the established group of 10 (back at 10 after the
     leave: one member is added first, untimed); until the 11 hold such assignments.
   "Held" is what the rebalance callbacks (on_assign, on_revoke, on_lost) handed the
   application, stamped in the callback; the assignment takes effect when it returns.
   A member learns of a rebalance that another member started (a leave, a join) from
   its next Heartbeat (answered REBALANCE_IN_PROGRESS), so these times depend on where
   in the heartbeat interval the change happens. The members' heartbeats run roughly
   in step from their last SyncGroup, so the leave and the timed join are triggered
   2 + (k + 0.5) / runs heartbeat intervals after the previous assignment in run k
   (0-based): the runs sample the interval evenly, the median is the middle of it and
   the spread is mostly this phase, by design.
   For the eager protocol the script also reports "noticed": when the last member
   that stays in the group was told to revoke (the rebalance reached it through a
   Heartbeat answered REBALANCE_IN_PROGRESS, or a JoinGroup/SyncGroup answer);
   what follows is JoinGroup, SyncGroup and the callbacks.

   Harness: one thread per consumer, each blocked in poll(0.05). librdkafka runs the
   group protocol (FindCoordinator, JoinGroup, SyncGroup, Heartbeat) on its own C
   threads; the application thread only serves the rebalance callbacks, and in the
   eager protocol a member rejoins only after its application has served the revoke.
   A consumer blocked in poll() holds no GIL and wakes as soon as librdkafka queues the
   event, so the harness adds microseconds and burns no CPU; one thread polling the
   10 round-robin would either spin (taking one of the 2 cores from the broker) or add
   up to its sleep per member, and subprocesses would add nothing over threads but a
   clock shared across processes.

2. Commit throughput (OffsetCommit answered only once its records are appended to
   `__consumer_offsets` and made durable under the broker's flush policy; the default
   is group commit, an fdatasync the commit waits for), each case for
   `--commit-seconds` (default 5 s) after a warm-up:
   - confluent-kafka, commit(offsets=..., asynchronous=False) in a loop, from
     consumers that assign nothing (simple commits, generation -1): one partition per
     commit (the next one of the 30 each time) or all 30 partitions per commit; one
     committer, or 8 committers (`--committers`) each in its own thread and group;
   - the same loops against librdkafka's mock cluster (in this process, no disk): the
     client's own ceiling on these 2 cores;
   - raw wire (luong.testing.wire, OffsetCommit v8 frames built beforehand, one
     connection per thread, one request in flight per connection): the broker's own
     ceiling without librdkafka; on 1 and on 8 connections;
   - the raw-wire cases once more against a broker started with
     luong.log.flush.policy=os (no fsync before the answer): what the fsync costs;
   - ceiling: a 150-byte write (about one single-partition commit's batch) followed by
     fdatasync, in a loop, on the brokers' file system (3 s, `--runs` times).
   Figures: commits (requests) per second, partitions committed per second, the
   median and p99 latency of a commit, and the broker's CPU per commit (from
   /proc/<pid>/stat, own brokers only).

`--quick` is one run, 1 s per commit case, the range strategy only (a smoke test, not
numbers to quote).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

# confluent-kafka's admin package re-exports these without `__all__` (mypy: attr-defined)
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # type: ignore[attr-defined]
from kio.index import load_response_schema
from kio.serial import entity_reader

from luong.testing.node import LuongProcess
from luong.testing.wire import WireClient, request_frame

TOPIC = "group-bench"
POLL_S = 0.05
SCENARIO_TIMEOUT_S = 120.0
WIRE_FRAMES = 512  # distinct pre-built commit frames per connection, sent in a cycle
FSYNC_WRITE = 150  # bytes: about one single-partition commit's batch in __consumer_offsets
WIRE_CHECK_EVERY = 256  # decode one answer in this many and check its error codes


# -- helpers ---------------------------------------------------------------------------


def spread(values: Sequence[float], digits: int = 3) -> dict[str, float | int]:
    """Median, min and max of a series (n the number of runs)."""
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "n": len(values),
    }


def fmt(s: dict[str, float | int], unit: str = "", scale: float = 1.0, digits: int = 2) -> str:
    def num(v: float | int) -> str:
        return f"{v * scale:,.{digits}f}"

    return f"{num(s['median'])}{unit} ({num(s['min'])}-{num(s['max'])})"


def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 3})
    futures = admin.create_topics([NewTopic(name, partitions, 1)], operation_timeout=10)
    try:
        futures[name].result(15)
    except KafkaException as error:
        if "TOPIC_ALREADY_EXISTS" not in str(error):
            raise
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        topic = admin.list_topics(name, timeout=5).topics.get(name)
        if topic is not None and topic.error is None and len(topic.partitions) == partitions:
            return
        time.sleep(0.05)
    raise RuntimeError(f"topic {name} with {partitions} partitions did not appear")


def broker_setting(bootstrap: str, name: str) -> str:
    """A broker setting as DescribeConfigs shows it ("?" when it cannot be read)."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 3})
    try:
        node = next(iter(admin.list_topics(timeout=5).brokers))
        resource = ConfigResource(ConfigResource.Type.BROKER, str(node))
        configs = admin.describe_configs([resource])[resource].result(10)
        entry = configs.get(name)
        return "?" if entry is None or entry.value is None else str(entry.value)
    except (KafkaException, StopIteration):
        return "?"


def cpu_seconds(pid: int | None) -> float:
    """utime + stime of a process, from /proc (0 when there is no process to read)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- rebalance ---------------------------------------------------------------------------


class Tracker:
    """What each member holds, from its rebalance callbacks, and when the group first
    reaches the expected shape (the members expected, each non-empty, disjoint, every
    partition covered)."""

    def __init__(self, partitions: int) -> None:
        self.partitions = set(range(partitions))
        self.lock = threading.Lock()
        self.owned: dict[str, set[int]] = {}
        self.expected: list[str] = []
        self.balanced = threading.Event()
        self.balanced_at = 0.0
        self.events: list[tuple[float, str, str, int]] = []  # (time, member, kind, count)

    def expect(self, members: Sequence[str]) -> None:
        with self.lock:
            self.expected = list(members)
            self.balanced.clear()
            self.balanced_at = 0.0
            self.events = []

    def update(self, member: str, kind: str, partitions: Sequence[TopicPartition]) -> None:
        now = time.perf_counter()
        numbers = {tp.partition for tp in partitions}
        with self.lock:
            owned = self.owned.setdefault(member, set())
            if kind == "assign":
                owned |= numbers
            else:
                owned -= numbers
            self.events.append((now, member, kind, len(numbers)))
            if not self.balanced.is_set() and self._is_balanced():
                self.balanced_at = now
                self.balanced.set()

    def _is_balanced(self) -> bool:
        if not self.expected:
            return False
        sets = [self.owned.get(m, set()) for m in self.expected]
        if not all(sets):
            return False
        union = set().union(*sets)
        return union == self.partitions and sum(map(len, sets)) == len(union)

    def wait(self, what: str) -> float:
        if not self.balanced.wait(SCENARIO_TIMEOUT_S):
            with self.lock:
                shape = {m: sorted(self.owned.get(m, ())) for m in self.expected}
            raise RuntimeError(f"{what}: not balanced after {SCENARIO_TIMEOUT_S} s: {shape}")
        return self.balanced_at

    def last_first_revoke(self, members: Sequence[str], after: float) -> float | None:
        """When the last of `members` got its first revoke after `after` (eager only)."""
        firsts: dict[str, float] = {}
        with self.lock:
            for at, member, kind, _ in self.events:
                if kind != "assign" and at >= after and member in members:
                    firsts.setdefault(member, at)
        if len(firsts) < len(members):
            return None
        return max(firsts.values())


class Member(threading.Thread):
    """One consumer in its own thread: created, subscribed when released, polled until
    told to leave, then closed."""

    def __init__(self, name: str, config: dict[str, Any], tracker: Tracker) -> None:
        super().__init__(name=name, daemon=True)
        self.config = config
        self.tracker = tracker
        self.ready = threading.Event()
        self.go = threading.Event()
        self.leave = threading.Event()
        self.subscribed_at = 0.0
        self.close_started = 0.0
        self.close_done = 0.0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            consumer = Consumer(self.config)
            self.ready.set()
            self.go.wait()
            self.subscribed_at = time.perf_counter()
            consumer.subscribe(
                [TOPIC],
                on_assign=self._callback("assign"),
                on_revoke=self._callback("revoke"),
                on_lost=self._callback("lost"),
            )
            while not self.leave.is_set():
                consumer.poll(POLL_S)
            self.close_started = time.perf_counter()
            consumer.close()
            self.close_done = time.perf_counter()
        except BaseException as error:
            self.error = error
            self.ready.set()

    def _callback(self, kind: str) -> Callable[[Any, list[TopicPartition]], None]:
        def callback(_consumer: Any, partitions: list[TopicPartition]) -> None:
            self.tracker.update(self.name, kind, partitions)

        return callback

    def subscribed(self) -> float:
        return self.subscribed_at

    def start_ready(self) -> Member:
        self.start()
        self.ready.wait(30)
        if self.error is not None:
            raise RuntimeError(f"{self.name} failed to start") from self.error
        return self

    def stop(self) -> None:
        self.leave.set()
        self.join(30)


@dataclass
class RebalanceRun:
    cold_s: float
    leave_s: float
    join_s: float
    leave_noticed_s: float | None
    join_noticed_s: float | None
    close_s: float
    callbacks: dict[str, dict[str, int]] = field(default_factory=dict)


def consumer_config(bootstrap: str, group: str, strategy: str, heartbeat_ms: int) -> dict[str, Any]:
    return {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "partition.assignment.strategy": strategy,
        "heartbeat.interval.ms": heartbeat_ms,
        "session.timeout.ms": 45000,
        "max.poll.interval.ms": 300000,
        "enable.auto.commit": False,
        "log_level": 3,
    }


def rebalance_run(
    bootstrap: str,
    strategy: str,
    heartbeat_ms: int,
    consumers: int,
    partitions: int,
    phase: float,
) -> RebalanceRun:
    """Cold start, leave and join in one fresh group. The leave and the timed join are
    triggered 2 + `phase` heartbeat intervals after the group's previous assignment:
    the members' heartbeats run roughly in step from then (they got their assignment
    from the same SyncGroup round), so `phase` decides how long the rebalance waits
    for the next heartbeat to reach them."""
    group = f"rebalance-{strategy}-{uuid.uuid4().hex[:8]}"
    config = consumer_config(bootstrap, group, strategy, heartbeat_ms)
    tracker = Tracker(partitions)
    eager = strategy != "cooperative-sticky"
    heartbeat_s = heartbeat_ms / 1000
    members = [Member(f"m{i:02d}", config, tracker) for i in range(consumers)]
    callbacks: dict[str, dict[str, int]] = {}

    def settled(name: str, since: Callable[[], float], extra: float) -> float:
        """Wait for balance, count the callbacks, sleep until 2 + `extra` heartbeats later;
        the time from `since()` (read once balanced) to balance."""
        done = tracker.wait(name)
        counts: dict[str, int] = {}
        for _, _, kind, _ in tracker.events:
            counts[kind] = counts.get(kind, 0) + 1
        callbacks[name] = counts
        time.sleep(max(0.0, done + (2 + extra) * heartbeat_s - time.perf_counter()))
        return done - since()

    try:
        for member in members:
            member.start_ready()
        tracker.expect([m.name for m in members])
        for member in members:
            member.go.set()  # cold: all subscribe together
        cold = settled("cold", lambda: min(m.subscribed_at for m in members), phase)

        leaving = members.pop()  # the last member closes
        stayers = [m.name for m in members]
        tracker.expect(stayers)
        leaving.stop()
        leave = settled("leave", lambda: leaving.close_started, 0.0)
        leave_noticed = tracker.last_first_revoke(stayers, leaving.close_started)

        for count, extra in ((consumers, phase), (consumers + 1, 0.0)):
            joining = Member(f"m{count:02d}", config, tracker).start_ready()
            stayers = [m.name for m in members]
            members.append(joining)
            tracker.expect([m.name for m in members])
            joining.go.set()  # the first (back to the full group) is untimed
            join = settled(f"join {count}", joining.subscribed, extra)
        join_noticed = tracker.last_first_revoke(stayers, joining.subscribed_at)
        return RebalanceRun(
            cold_s=cold,
            leave_s=leave,
            join_s=join,
            leave_noticed_s=leave_noticed - leaving.close_started
            if eager and leave_noticed
            else None,
            join_noticed_s=join_noticed - joining.subscribed_at if eager and join_noticed else None,
            close_s=leaving.close_done - leaving.close_started,
            callbacks=callbacks,
        )
    finally:
        for member in members:
            member.leave.set()
        for member in members:
            member.join(30)


def summarize_rebalance(runs: list[RebalanceRun]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("cold_s", "leave_s", "join_s", "leave_noticed_s", "join_noticed_s", "close_s"):
        values = [v for r in runs if (v := getattr(r, key)) is not None]
        if values:
            out[key] = spread(values)
    for kind in ("leave", "join"):  # eager: from the last member noticing to all assigned
        after = [
            getattr(r, f"{kind}_s") - noticed
            for r in runs
            if (noticed := getattr(r, f"{kind}_noticed_s")) is not None
        ]
        if after:
            out[f"{kind}_after_notice_s"] = spread(after, 4)
    out["runs"] = [r.__dict__ for r in runs]
    return out


# -- commits -----------------------------------------------------------------------------


@dataclass
class CommitResult:
    requests: int
    partitions: int
    seconds: float
    latencies: list[float]
    broker_cpu_s: float = 0.0

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds

    @property
    def partitions_per_s(self) -> float:
        return self.partitions / self.seconds


# A worker: set up by (index) -> (one request (n), close); set-up and close are untimed.
Worker = tuple[Callable[[int], None], Callable[[], None]]


def timed_loops(
    workers: int, seconds: float, batch: int, pid: int | None, make: Callable[[int], Worker]
) -> CommitResult:
    """`workers` threads each repeating its request for `seconds`, started together by a
    barrier; the broker's CPU is read as the window opens and once every loop is done."""
    window = [0.0, 0.0, 0.0, 0.0]  # start, deadline, end, broker CPU at start

    def opened() -> None:
        window[3] = cpu_seconds(pid)
        window[0] = time.perf_counter()
        window[1] = window[0] + seconds

    def closed() -> None:
        window[2] = time.perf_counter()
        window[3] = cpu_seconds(pid) - window[3]

    start = threading.Barrier(workers + 1, action=opened)
    end = threading.Barrier(workers, action=closed)
    counts: list[int] = []
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def loop(index: int) -> None:
        mine: list[float] = []
        count = 0
        try:
            request, close = make(index)
        except BaseException as error:
            errors.append(error)
            start.abort()
            return
        try:
            start.wait()
            while time.perf_counter() < window[1]:
                began = time.perf_counter()
                request(count)
                mine.append(time.perf_counter() - began)
                count += 1
        except threading.BrokenBarrierError:
            pass
        except BaseException as error:
            errors.append(error)
            start.abort()
        finally:
            with suppress(threading.BrokenBarrierError):
                end.wait(60)
            close()
            with lock:
                counts.append(count)
                latencies.extend(mine)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    try:
        start.wait(60)
    except threading.BrokenBarrierError:
        end.abort()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"commit loop failed: {errors[0]!r}") from errors[0]
    requests = sum(counts)
    return CommitResult(requests, requests * batch, window[2] - window[0], latencies, window[3])


Partition = tuple[str, int]


def _partition_sets(batch: int, partitions: Sequence[Partition]) -> list[list[Partition]]:
    """One partition per commit, rotating ([p0], [p1], ...), or the first `batch` together."""
    if batch == 1:
        return [[tp] for tp in partitions]
    return [list(partitions[:batch])]


def client_commits(
    config: dict[str, Any],
    committers: int,
    batch: int,
    partitions: Sequence[Partition],
    seconds: float,
    pid: int | None,
) -> CommitResult:
    """`committers` threads, each with its own consumer and group, committing with
    commit(offsets=..., asynchronous=False)."""
    sets = _partition_sets(batch, partitions)

    def make(index: int) -> Worker:
        consumer = Consumer({**config, "group.id": f"commits-{index}-{uuid.uuid4().hex[:8]}"})

        def request(n: int) -> None:
            offsets = [TopicPartition(t, p, n) for t, p in sets[n % len(sets)]]
            consumer.commit(offsets=offsets, asynchronous=False)

        for n in range(20):  # warm-up: coordinator found, connection up
            request(n)
        return request, consumer.close

    return timed_loops(committers, seconds, batch, pid, make)


def _wire_frames(group: str, batch: int, partitions: int) -> list[bytes]:
    """OffsetCommit v8 frames committing offset n (simple commits, generation -1)."""
    sets = _partition_sets(batch, [(TOPIC, p) for p in range(partitions)])
    return [
        request_frame(
            8,
            8,
            {
                "group_id": group,
                "generation_id_or_member_epoch": -1,
                "member_id": "",
                "topics": [
                    {
                        "name": TOPIC,
                        "partitions": [
                            {"partition_index": p, "committed_offset": n, "committed_metadata": ""}
                            for _, p in sets[n % len(sets)]
                        ],
                    }
                ],
            },
            correlation_id=n + 1,
        )
        for n in range(WIRE_FRAMES)
    ]


def wire_commits(
    bootstrap: str,
    connections: int,
    batch: int,
    partitions: int,
    seconds: float,
    pid: int | None,
) -> CommitResult:
    """Raw OffsetCommit v8 frames, one request in flight per connection."""
    host, port = bootstrap.rsplit(":", 1)
    read = entity_reader(load_response_schema(8, 8))

    def make(index: int) -> Worker:
        frames = _wire_frames(f"wire-{index}-{uuid.uuid4().hex[:8]}", batch, partitions)
        wire = WireClient(host, int(port))

        def request(n: int) -> None:
            wire.send_raw(frames[n % WIRE_FRAMES])
            payload = wire.recv_frame()
            if n % WIRE_CHECK_EVERY == 0:
                answer: Any = read(payload, 5)[0]  # after the correlation id and tagged fields
                codes = {p.error_code for t in answer.topics for p in t.partitions}
                if codes != {0}:
                    raise RuntimeError(f"OffsetCommit answered error codes {codes}")

        for n in range(20):
            request(n)
        return request, wire.close

    return timed_loops(connections, seconds, batch, pid, make)


def fsync_ceiling(directory: Path, seconds: float) -> float:
    """Appends of one commit-sized batch, each followed by fdatasync, in a new file in
    `directory` (the brokers' file system): what one-commit-per-fsync can reach."""
    path = directory / "fsync-ceiling"
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o644)
    try:
        count, block = 0, b"x" * FSYNC_WRITE
        end = time.perf_counter() + seconds
        began = time.perf_counter()
        while time.perf_counter() < end:
            os.write(fd, block)
            os.fdatasync(fd)
            count += 1
        return count / (time.perf_counter() - began)
    finally:
        os.close(fd)
        path.unlink()


@contextmanager
def mock_cluster(partitions: int) -> Iterator[tuple[str, list[Partition]]]:
    """librdkafka's mock cluster, owned by a producer of this process: its bootstrap
    address, which other clients of this process can use, and `partitions` partitions.
    The mock has no CreateTopics and auto-creates topics of 4 partitions, so these are
    spread over several topics (the same number of partitions per OffsetCommit)."""
    holder = Producer({"test.mock.num.brokers": 1, "log_level": 3})
    broker = next(iter(holder.list_topics(timeout=5).brokers.values()))
    targets: list[Partition] = []
    for i in range((partitions + 3) // 4):
        name = f"{TOPIC}-{i}"
        topic = holder.list_topics(name, timeout=5).topics[name]  # auto-creates it
        targets += [(name, p) for p in sorted(topic.partitions)]
    try:
        yield f"{broker.host}:{broker.port}", targets[:partitions]
    finally:
        holder.flush(1)


def summarize_commits(results: list[CommitResult]) -> dict[str, Any]:
    latencies = sorted(x for r in results for x in r.latencies)
    out: dict[str, Any] = {
        "commits_per_s": spread([r.per_s for r in results], 1),
        "partitions_per_s": spread([r.partitions_per_s for r in results], 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 3) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 3) if latencies else None,
        "runs": [{"requests": r.requests, "seconds": round(r.seconds, 3)} for r in results],
    }
    if any(r.broker_cpu_s for r in results):
        out["broker_cpu_us_per_commit"] = spread(
            [r.broker_cpu_s / r.requests * 1e6 for r in results if r.requests], 1
        )
        out["broker_cpu_share"] = spread([r.broker_cpu_s / r.seconds for r in results], 2)
    return out


# -- main ----------------------------------------------------------------------------------


@contextmanager
def broker(
    existing: str | None, scratch: Path, name: str, settings: dict[str, str]
) -> Iterator[tuple[str, int | None]]:
    """(bootstrap, pid) of the given broker, or of a fresh `luong serve`."""
    if existing:
        yield existing, None
        return
    with LuongProcess(scratch / name, settings=settings) as node:
        assert node.process is not None
        yield node.bootstrap, node.process.pid


def run_rebalances(
    args: argparse.Namespace, scratch: Path, strategies: list[str]
) -> dict[str, Any]:
    delays = ["broker"] if args.bootstrap else args.delays.split(",")
    out: dict[str, Any] = {}
    for wanted in delays:
        settings = {} if wanted == "broker" else {"group.initial.rebalance.delay.ms": wanted}
        with broker(args.bootstrap, scratch, f"rebalance-{wanted}", settings) as (bootstrap, _):
            delay = wanted
            if wanted == "broker":
                delay = broker_setting(bootstrap, "group.initial.rebalance.delay.ms")
            create_topic(bootstrap, TOPIC, args.partitions)
            runs: dict[str, list[RebalanceRun]] = {s: [] for s in strategies}
            for run in range(args.runs):
                for strategy in strategies:
                    phase = (run + 0.5) / args.runs  # stratified over the heartbeat interval
                    result = rebalance_run(
                        bootstrap,
                        strategy,
                        args.heartbeat_ms,
                        args.consumers,
                        args.partitions,
                        phase,
                    )
                    runs[strategy].append(result)
                    noticed = (
                        f", noticed leave {result.leave_noticed_s:.3f} s"
                        f" join {result.join_noticed_s:.3f} s"
                        if result.leave_noticed_s is not None and result.join_noticed_s is not None
                        else ""
                    )
                    print(
                        f"rebalance delay={delay} {strategy} run {run + 1}: "
                        f"cold {result.cold_s:.3f} s, leave {result.leave_s:.3f} s, "
                        f"join {result.join_s:.3f} s{noticed} (close {result.close_s:.3f} s)",
                        flush=True,
                    )
            for strategy, results in runs.items():
                out[f"delay={delay} {strategy}"] = summarize_rebalance(results)
    return out


Case = Callable[[str, int | None, list[Partition]], CommitResult]  # bootstrap, pid, partitions


def run_commits(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    seconds = args.commit_seconds
    n, p = args.committers, args.partitions
    out: dict[str, Any] = {}

    def client(committers: int, batch: int) -> Case:
        def case(bootstrap: str, pid: int | None, targets: list[Partition]) -> CommitResult:
            config = {"bootstrap.servers": bootstrap, "enable.auto.commit": False, "log_level": 3}
            return client_commits(config, committers, batch, targets, seconds, pid)

        return case

    def wire(connections: int, batch: int) -> Case:
        def case(bootstrap: str, pid: int | None, _targets: list[Partition]) -> CommitResult:
            return wire_commits(bootstrap, connections, batch, p, seconds, pid)

        return case

    client_cases = [
        ("1 committer, 1 partition/commit", client(1, 1)),
        (f"{n} committers, 1 partition/commit", client(n, 1)),
        (f"1 committer, {p} partitions/commit", client(1, p)),
        (f"{n} committers, {p} partitions/commit", client(n, p)),
    ]
    wire_cases = [
        ("wire, 1 connection, 1 partition/commit", wire(1, 1)),
        (f"wire, {n} connections, 1 partition/commit", wire(n, 1)),
        (f"wire, {n} connections, {p} partitions/commit", wire(n, p)),
    ]

    def measure(
        label: str,
        cases: list[tuple[str, Case]],
        bootstrap: str,
        pid: int | None,
        targets: list[Partition] | None = None,
    ) -> None:
        if targets is None:
            create_topic(bootstrap, TOPIC, p)
            targets = [(TOPIC, i) for i in range(p)]
        results: dict[str, list[CommitResult]] = {name: [] for name, _ in cases}
        for run in range(args.runs):
            for name, case in cases:
                result = case(bootstrap, pid, targets)
                results[name].append(result)
                cpu = f", broker CPU {result.broker_cpu_s / result.seconds:.0%}" if pid else ""
                print(
                    f"commits [{label}] {name} run {run + 1}: {result.per_s:,.0f} commits/s, "
                    f"{result.partitions_per_s:,.0f} partitions/s{cpu}",
                    flush=True,
                )
        for name, series in results.items():
            out[f"{label}: {name}"] = summarize_commits(series)

    ceilings = [fsync_ceiling(scratch, min(seconds, 3.0)) for _ in range(args.runs)]
    for rate in ceilings:
        print(f"ceiling: {FSYNC_WRITE} B write + fdatasync, {rate:,.0f}/s", flush=True)
    out["ceiling: write + fdatasync"] = {"per_s": spread(ceilings, 1)}
    with broker(args.bootstrap, scratch, "commits", {}) as (bootstrap, pid):
        policy = broker_setting(bootstrap, "luong.log.flush.policy")
        measure(f"luong flush={policy}", [*client_cases, *wire_cases], bootstrap, pid)
    with mock_cluster(p) as (bootstrap, targets):
        measure("librdkafka mock", client_cases, bootstrap, None, targets)
    if not args.bootstrap:
        settings = {"luong.log.flush.policy": "os"}
        with broker(None, scratch, "commits-os", settings) as (bootstrap, pid):
            measure("luong flush=os", wire_cases, bootstrap, pid)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one run, short cases")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bootstrap", default=None, help="an existing broker (host:port)")
    parser.add_argument("--heartbeat-ms", type=int, default=1000)
    parser.add_argument(
        "--delays", default="3000,0", help="group.initial.rebalance.delay.ms of own brokers"
    )
    parser.add_argument("--consumers", type=int, default=10)
    parser.add_argument("--partitions", type=int, default=30)
    parser.add_argument("--committers", type=int, default=8)
    parser.add_argument("--commit-seconds", type=float, default=5.0)
    parser.add_argument("--only", choices=["rebalance", "commits"], default=None)
    parser.add_argument("--json", default=None, help="write every figure here")
    args = parser.parse_args()
    strategies = ["range", "cooperative-sticky"]
    if args.quick:
        args.runs, args.commit_seconds, strategies = 1, 1.0, ["range"]
    results: dict[str, Any] = {
        "heartbeat_ms": args.heartbeat_ms,
        "consumers": args.consumers,
        "partitions": args.partitions,
    }
    with tempfile.TemporaryDirectory(prefix="luong-group-bench-") as scratch:
        root = Path(scratch)
        if args.only in (None, "rebalance"):
            results["rebalance"] = run_rebalances(args, root, strategies)
        if args.only in (None, "commits"):
            results["commits"] = run_commits(args, root)

    print("\nmedian (min-max) over", args.runs, "runs")
    for name, figures in results.get("rebalance", {}).items():
        keys = ["cold_s", "leave_s", "join_s", "leave_noticed_s", "join_noticed_s"]
        line = ", ".join(
            f"{key.removesuffix('_s')} {fmt(figures[key], ' s', digits=3)}"
            for key in keys
            if key in figures
        )
        line += "".join(
            f", {kind} after notice {fmt(figures[key], ' ms', 1000, 1)}"
            for kind in ("leave", "join")
            if (key := f"{kind}_after_notice_s") in figures
        )
        print(f"rebalance {name}: {line}")
    for name, figures in results.get("commits", {}).items():
        if "per_s" in figures:
            print(f"commits {name}: {fmt(figures['per_s'], '/s', digits=0)}")
            continue
        cpu = figures.get("broker_cpu_us_per_commit")
        print(
            f"commits {name}: {fmt(figures['commits_per_s'], '/s', digits=0)}, "
            f"partitions {fmt(figures['partitions_per_s'], '/s', digits=0)}, "
            f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms"
            + (f", broker CPU {fmt(cpu, ' us', digits=0)}/commit" if cpu else "")
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
