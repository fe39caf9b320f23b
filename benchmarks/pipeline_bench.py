"""Stream-processing benchmark: luong's pipelines beside Quix Streams and Bytewax.

Three workloads, each under exactly-once (eos) and at-least-once (alos), run by each
framework as a worker subprocess against one luong broker, in one run of this script:

- filter_map (W1, stateless): input {"id", "user": "u<N>", "amount", "ts"} keyed by user;
  keep amount >= 50 (about half) and write {"id", "user", "amount_cents": int(amount*100)}.
- window_count (W2): input as W1 (10,000 users, keyed by user, spread over --event-minutes
  of event time); 1-minute tumbling event-time windows, count per user per window,
  emitted when the window closes as {"user", "start", "end", "count"} (start/end in ms).
  A user's window closes when that user has a record at or past its end (per-key closing,
  the rule both Quix's default strategy and Bytewax's per-key event clock follow), so the
  expected output is every (user, window) except each user's last window.
- table_join (W3): a compacted "customers" topic keyed by str(customer id), value
  {"id", "name", "country"} (10,000 customers, stamped before every order), read as a
  table; the "orders" stream {"id", "customer", "amount", "ts"}, keyed by str(customer),
  is written out enriched as {...order, "name", "country"}.

Every input record's Kafka timestamp is its "ts" (event time, ms). Each (framework,
workload, guarantee) cell runs two phases, each on fresh topics (unique names) and a fresh
worker process:

- throughput: preload N input records, start the worker, and time from the first output
  record to the output being complete (every expected output seen and correct; the
  orchestrator knows the expected output exactly). records/s = N / that time; "wall" is
  N / (worker start to complete), which includes startup and the first commit. The
  output is checked record by record (values, duplicates, missing, unexpected).
- latency: after a warm-up (records at 20/s until one comes out), a producer writes at
  --latency-rate records/s for --latency-seconds, each record carrying its send time
  ("sent", epoch seconds; its "ts" is the send time in ms); the orchestrator consumes the
  output (read_committed) and takes, for each output, its arrival time minus its input's
  send time (looked up by id; for W2 the c-th update of a window is matched with that
  window's c-th input). W2 uses update emission (Quix `.current()`) where the framework
  has one; otherwise the cell says why not.

Each worker's CPU time (user + system of its process tree, from /proc) is recorded at the
end of each phase, and so is the broker's when this script started the broker.

Reading the numbers:
- Under eos, output is visible only when a transaction commits, so "first output" is
  taken from a read_uncommitted probe (when the worker first wrote output) and "complete"
  from the read_committed reader: the throughput includes the wait for the last commit
  (up to one commit interval; Quix's default is 5 s), and eos latency is dominated by it
  (p50 ~ half an interval). --commit-interval-ms sets it for every framework.
- W2 latency needs update emission; Bytewax has none (its cell says so). In the W2
  throughput check, "last_windows" counts a user's last window emitted although no later
  record of that user came: a framework that closes windows on the partition's stream time
  (the latest timestamp over all keys, like Quix's closing_strategy="partition") or on a
  clock that follows system time (Bytewax's default EventClock; the Bytewax app runs on
  event time only, see its docstring) does that. Their counts are checked too, but they
  are outside the expected set, which every framework must produce.
- Each framework's join is the one its users would write (see the apps' docstrings):
  Quix Streams `join_asof` (a state store fed by the table topic, timestamp-aligned
  consumption, which costs it a 1 s poll timeout per 10,000 records: see quix_app.py),
  Bytewax a `stateful_flat_map` over both topics keyed by customer.
- Everything shares 2 cores with the broker (a Python process) and this script: the
  broker's CPU column shows its share. Other load on the machine shows up as noise; each
  cell records the load average before it ran.

    python benchmarks/pipeline_bench.py [--bootstrap HOST:PORT]
        [--frameworks quix,bytewax,luong] [--workloads filter_map,window_count,table_join]
        [--guarantees eos,alos] [--records N] [--phases throughput,latency]
        [--json OUT] [--keep]

Without --bootstrap it starts its own `luong serve` (from .venv/bin/luong, a free port, a
temporary data directory, no HTTP gateway). Peer frameworks run from
benchmarks/.venv-peers (make it with `bash benchmarks/setup_peers.sh`); luong's from this
project's .venv. Logs of the broker and of every worker go to a run directory that is
printed at the start and kept.

The app contract (how a framework plugs in: benchmarks/pipeline_apps/<name>_app.py)
----------------------------------------------------------------------------------
The orchestrator runs `<python> <name>_app.py ARGS` with the working directory set to a
fresh, empty per-worker directory, stdout and stderr going to a log file. A new
framework is one entry in FRAMEWORKS below (its interpreter and app path).

    <name>_app.py --capabilities
        Print one line of JSON and exit 0, without touching Kafka:
        {"framework": str, "version": str,
         "unsupported": {FEATURE: reason, ...},   # FEATURE: "eos", "alos",
                                                  # "window_count:update", or a workload
         "defaults": {"commit_interval_ms": int}, # optional
         "notes": {name: str, ...}}               # optional: the choices made, shown in --json
        A cell whose guarantee (or workload) is listed is reported "not supported" with
        the reason and not run; "window_count:update" makes W2's latency "n/a" with it.

    <name>_app.py --workload filter_map|window_count|table_join --guarantee eos|alos
                  --bootstrap HOST:PORT --input TOPIC --output TOPIC
                  [--table CUSTOMERS_TOPIC] --group GROUP
                  [--emit final|update] [--state-dir DIR] [--commit-interval-ms MS]
        Run the workload until SIGTERM, then exit (0) within 15 s (else SIGKILL).
        - Topics exist already (input, output, table; --partitions of them, default 1, the
          table compacted), hold JSON values and UTF-8 keys, and are fresh: read from the
          earliest offset. GROUP is fresh and unique to the worker (use it as the consumer
          group / application id, and as a prefix for any internal topics).
        - --table is given for table_join only: the customers table topic.
        - --emit (window_count only): "final" emits a window once it closes (throughput);
          "update" emits the window's running count after every input record (latency).
        - --guarantee eos: output and input offsets committed atomically (transactions);
          the orchestrator reads output with isolation.level=read_committed. alos: the
          framework's at-least-once mode.
        - --state-dir: a directory for local state (default: the working directory).
        - --commit-interval-ms: only when the user passes it; else the framework default.
        - Output values are JSON objects as above (extra fields are ignored); keys are
          str(user) for W1/W2 and str(customer) for W3 (not checked).
        - Failing: exit non-zero with the reason on stderr (the log's tail is reported).
          Exit 3 with a line "UNSUPPORTED: reason" marks an unsupported combination.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
APPS = HERE / "pipeline_apps"
PEERS_PYTHON = HERE / ".venv-peers" / "bin" / "python"
MAIN_VENV = ROOT / ".venv"


@dataclass(frozen=True)
class Framework:
    python: Path
    app: Path
    setup_hint: str = ""


FRAMEWORKS: dict[str, Framework] = {
    "quix": Framework(PEERS_PYTHON, APPS / "quix_app.py", "run benchmarks/setup_peers.sh"),
    "bytewax": Framework(PEERS_PYTHON, APPS / "bytewax_app.py", "run benchmarks/setup_peers.sh"),
    "luong": Framework(MAIN_VENV / "bin" / "python", APPS / "luong_app.py"),
}
WORKLOADS = ("filter_map", "window_count", "table_join")
ALIASES = {"w1": "filter_map", "w2": "window_count", "w3": "table_join"}
GUARANTEES = ("eos", "alos")
# sized so that the slowest framework here spends ~30 s per throughput run on this 2-core box
DEFAULT_RECORDS = {"filter_map": 500_000, "window_count": 300_000, "table_join": 200_000}
USERS = 10_000
CUSTOMERS = 10_000
COUNTRIES = ("VN", "DE", "US", "BR", "JP", "IN", "FR", "NG", "AU", "CA")
WINDOW_MS = 60_000
WARMUP_RATE = 20
CHECK_FLAGS = ("duplicates", "bad", "unexpected", "last_windows")
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- process helpers


def _proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its live descendants (/proc)."""
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
    return total


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _notable_lines(path: Path, limit: int = 20) -> list[str]:
    """Log lines that look like errors or warnings (deduplicated, first `limit`)."""
    marks = ("ERROR", "Error", "error", "WARN", "Traceback", "Exception", "FAIL")
    seen: dict[str, None] = {}
    try:
        for line in path.read_text(errors="replace").splitlines():
            if any(m in line for m in marks):
                seen.setdefault(line.strip()[:400], None)
                if len(seen) >= limit:
                    break
    except OSError:
        pass
    return list(seen)


class Broker:
    """A `luong serve` of our own on a free port with a temporary data directory."""

    def __init__(self, run_dir: Path, settings: list[str]) -> None:
        self.port = _free_port()
        self.data_dir = run_dir / "broker-data"
        self.log_path = run_dir / "broker.log"
        self.settings = settings
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> Broker:
        luong = MAIN_VENV / "bin" / "luong"
        command = [str(luong), "serve", "--listen", self.bootstrap, "--no-http"]
        command += ["--data-dir", str(self.data_dir)]
        for setting in self.settings:
            command += ["--set", setting]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"luong serve exited: {_tail(self.log_path)}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError as error:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"luong serve did not listen: {_tail(self.log_path)}"
                    ) from error
                time.sleep(0.05)

    def cpu_s(self) -> float | None:
        return _proc_cpu_s(self.process.pid) if self.process else None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


class Worker:
    """One framework app process."""

    def __init__(self, framework: Framework, args: list[str], work_dir: Path) -> None:
        work_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = work_dir / "worker.log"
        self.command = [str(framework.python), str(framework.app), *args]
        (work_dir / "command.txt").write_text(" ".join(self.command) + "\n")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=work_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        self.started = time.time()
        self.last_cpu_s = 0.0

    def alive(self) -> bool:
        return self.process.poll() is None

    def cpu_s(self) -> float:
        if self.alive():
            self.last_cpu_s = _proc_cpu_s(self.process.pid)
        return self.last_cpu_s

    def failure(self) -> str:
        code = self.process.returncode
        return f"worker exited with {code}:\n{_tail(self.log_path)}"

    def stop(self) -> int | None:
        self.cpu_s()
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        return self.process.returncode


# ---------------------------------------------------------------- data and checks


@dataclass
class Check:
    """What came out against what should have: counts, first/complete arrival times."""

    expected: int
    outputs: int = 0
    matched: int = 0
    duplicates: int = 0
    bad: int = 0
    unexpected: int = 0
    ignored: int = 0  # warm-up outputs
    last_windows: int = 0  # W2: a key's last window, closed by partition or system time
    bad_examples: list[str] = field(default_factory=list)
    first_at: float | None = None
    complete_at: float | None = None
    last_at: float | None = None
    latencies: list[float] = field(default_factory=list)
    sends: list[float] = field(default_factory=list)  # the send time of each latency sample

    def note_bad(self, value: Any, why: str) -> None:
        self.bad += 1
        if len(self.bad_examples) < 5:
            self.bad_examples.append(f"{why}: {value!r}"[:300])

    @property
    def complete(self) -> bool:
        return self.matched >= self.expected

    def summary(self) -> dict[str, Any]:
        return {
            "expected": self.expected,
            "outputs": self.outputs,
            "matched": self.matched,
            "missing": self.expected - self.matched,
            "duplicates": self.duplicates,
            "bad": self.bad,
            "unexpected": self.unexpected,
            "last_windows": self.last_windows,
            "bad_examples": self.bad_examples,
        }


class Dataset:
    """The input of one phase: produced rows, and the check of the output they imply."""

    workload: str

    def __init__(self, workload: str, seed: int, update_mode: bool = False) -> None:
        self.workload = workload
        self.update_mode = update_mode  # W2: every update is an output, not only closes
        self.rng = random.Random(seed)
        self.keys = array("i")  # user index (W1/W2) or customer id (W3)
        self.amounts = array("d")
        self.ts = array("q")
        self.sent = array("d")  # latency phase: send time per id
        self.check = Check(expected=0)
        self.seen: set[Any] = set()
        # W2: (user, window start) -> count; user -> max ts; (user, start) -> send times
        self.window_counts: dict[tuple[int, int], int] = defaultdict(int)
        self.user_max_ts: dict[int, int] = {}
        self.window_sends: dict[tuple[int, int], list[float]] = defaultdict(list)

    # -- rows

    def row(self, i: int, ts: int, sent: float | None = None) -> tuple[bytes, bytes]:
        amount = round(self.rng.uniform(0, 100), 2)
        if self.workload == "table_join":
            k = self.rng.randrange(CUSTOMERS)
            value: dict[str, Any] = {"id": i, "customer": k, "amount": amount, "ts": ts}
            key = str(k)
        else:
            k = self.rng.randrange(USERS)
            value = {"id": i, "user": f"u{k}", "amount": amount, "ts": ts}
            key = f"u{k}"
        if sent is not None:
            value["sent"] = sent
            self.sent.append(sent)
        self.keys.append(k)
        self.amounts.append(amount)
        self.ts.append(ts)
        if self.workload == "window_count":
            start = ts - ts % WINDOW_MS
            self.window_counts[(k, start)] += 1
            self.user_max_ts[k] = max(ts, self.user_max_ts.get(k, ts))
            if sent is not None:
                self.window_sends[(k, start)].append(sent)
        return key.encode(), json.dumps(value).encode()

    @staticmethod
    def warmup_row(workload: str, i: int, ts: int) -> tuple[bytes, bytes]:
        """Warm-up records: negative ids (W1/W3) or user "warmup" (W2); ignored by the check."""
        if workload == "table_join":
            value: dict[str, Any] = {"id": -i - 1, "customer": 0, "amount": 99.0, "ts": ts}
            return b"0", json.dumps(value).encode()
        value = {"id": -i - 1, "user": "warmup", "amount": 99.0, "ts": ts}
        return b"warmup", json.dumps(value).encode()

    @staticmethod
    def customer_rows(ts: int) -> Iterator[tuple[bytes, bytes, int]]:
        for c in range(CUSTOMERS):
            value = {"id": c, "name": f"customer-{c}", "country": COUNTRIES[c % len(COUNTRIES)]}
            yield str(c).encode(), json.dumps(value).encode(), ts

    def finish(self) -> None:
        """Fix the expected output once every row is generated."""
        if self.workload == "filter_map":
            self.check.expected = sum(1 for a in self.amounts if a >= 50)
        elif self.workload == "table_join" or self.update_mode:
            self.check.expected = len(self.amounts)
        else:
            self.check.expected = sum(
                1 for (u, start) in self.window_counts if start + WINDOW_MS <= self.user_max_ts[u]
            )

    # -- output

    def accept(self, value: Any, at: float) -> None:
        check = self.check
        check.outputs += 1
        check.last_at = at
        key = self._verify(value)
        if key is None:
            return
        if key in self.seen:
            check.duplicates += 1
            return
        self.seen.add(key)
        check.matched += 1
        if check.first_at is None:
            check.first_at = at
        if check.matched == check.expected:
            check.complete_at = at
        if self.sent:
            sent = self._send_time(key)
            check.latencies.append(at - sent)
            check.sends.append(sent)

    def _verify(self, v: Any) -> Any:
        """The output's identity if it is a correct expected output, else None (counted)."""
        try:
            if self.workload == "window_count":
                return self._verify_window(v)
            return self._verify_record(v)
        except (KeyError, TypeError, ValueError) as error:
            self.check.note_bad(v, f"malformed ({error!r})")
            return None

    def _verify_window(self, v: Any) -> Any:
        check = self.check
        user = v["user"]
        if user == "warmup":
            check.ignored += 1
            return None
        u, start, count = int(user[1:]), int(v["start"]), int(v["count"])
        want = self.window_counts.get((u, start))
        if want is None:
            check.unexpected += 1
            return None
        if not self.update_mode and start + WINDOW_MS > self.user_max_ts[u]:
            # the user's last window: no later record of the user closes it, but stream
            # time over the partition, or a clock following system time, closes it anyway
            if count == want:
                check.last_windows += 1
            else:
                check.note_bad(v, f"last window, want count {want}")
            return None
        ok_count = 1 <= count <= want if self.update_mode else count == want
        if v["end"] != start + WINDOW_MS or not ok_count:
            check.note_bad(v, f"want count {want}")
            return None
        return (u, start, count) if self.update_mode else (u, start)

    def _verify_record(self, v: Any) -> Any:
        check = self.check
        i = int(v["id"])
        if i < 0:
            check.ignored += 1
            return None
        if i >= len(self.amounts):
            check.unexpected += 1
            return None
        amount = self.amounts[i]
        if self.workload == "filter_map":
            ok = (
                amount >= 50
                and v["user"] == f"u{self.keys[i]}"
                and v["amount_cents"] == int(amount * 100)
            )
        else:
            c = self.keys[i]
            ok = (
                v["customer"] == c
                and v["amount"] == amount
                and v["name"] == f"customer-{c}"
                and v["country"] == COUNTRIES[c % len(COUNTRIES)]
            )
        if not ok:
            check.note_bad(v, "wrong values")
            return None
        return i

    def _send_time(self, key: Any) -> float:
        if self.workload == "window_count":
            u, start, count = key
            return self.window_sends[(u, start)][count - 1]
        return self.sent[key]


class Collector(threading.Thread):
    """Consumes the output topic (read_committed) into a Dataset's check."""

    def __init__(self, bootstrap: str, topic: str, partitions: int, data: Dataset) -> None:
        super().__init__(daemon=True)
        self.data = data
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.error: str | None = None
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"bench-collector-{uuid.uuid4().hex[:8]}",
                "isolation.level": "read_committed",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            }
        )
        self.consumer.assign(
            [TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)]
        )
        self.probe = FirstWrite(bootstrap, topic, partitions, self.stopping)

    def start(self) -> None:
        self.probe.start()
        super().start()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                # consume() waits for its timeout unless the batch fills: keep it short so
                # arrival times stay within a few ms of the real arrival.
                messages = self.consumer.consume(500, 0.005)
                if not messages:
                    continue
                at = time.time()
                with self.lock:
                    for message in messages:
                        if message.error():
                            if message.error().code() != KafkaError._PARTITION_EOF:
                                self.error = str(message.error())
                            continue
                        try:
                            value = json.loads(message.value())
                        except (TypeError, ValueError):
                            self.data.check.note_bad(message.value(), "not JSON")
                            continue
                        self.data.accept(value, at)
        finally:
            self.consumer.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(10)
        self.probe.join(10)


class FirstWrite(threading.Thread):
    """When the first output record was written, committed or not (read_uncommitted).

    Under exactly-once the read_committed output shows up only at each transaction commit,
    so the first committed record comes one commit interval after processing began; this
    probe sees the first record as soon as it is written.
    """

    def __init__(self, bootstrap: str, topic: str, partitions: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.stopping = stop
        self.at: float | None = None
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"bench-probe-{uuid.uuid4().hex[:8]}",
                "isolation.level": "read_uncommitted",
                "enable.auto.commit": False,
            }
        )
        self.consumer.assign(
            [TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)]
        )

    def run(self) -> None:
        try:
            while self.at is None and not self.stopping.is_set():
                message = self.consumer.poll(0.1)
                if message is not None and not message.error():
                    self.at = time.time()
        finally:
            self.consumer.close()


# ---------------------------------------------------------------- the run


@dataclass
class Options:
    bootstrap: str
    partitions: int
    event_minutes: int
    latency_rate: int
    latency_seconds: float
    commit_interval_ms: int | None
    startup_timeout: float
    idle_timeout: float
    phase_timeout: float
    seed: int
    keep_topics: bool


class Bench:
    def __init__(self, options: Options, run_dir: Path, broker: Broker | None) -> None:
        self.o = options
        self.run_dir = run_dir
        self.broker = broker
        self.admin = AdminClient({"bootstrap.servers": options.bootstrap})
        self.run_id = uuid.uuid4().hex[:6]

    # -- topics

    def create_topics(self, names: list[str], compacted: tuple[str, ...] = ()) -> None:
        topics = [
            NewTopic(
                n,
                num_partitions=self.o.partitions,
                replication_factor=1,
                config={"cleanup.policy": "compact"} if n in compacted else {},
            )
            for n in names
        ]
        for name, future in self.admin.create_topics(topics, request_timeout=30).items():
            try:
                future.result(30)
            except KafkaException as error:
                raise RuntimeError(f"create topic {name}: {error}") from error

    def delete_topics_with(self, tag: str) -> None:
        if self.o.keep_topics:
            return
        with contextlib.suppress(Exception):
            names = [t for t in self.admin.list_topics(timeout=10).topics if tag in t]
            if names:
                for future in self.admin.delete_topics(names, request_timeout=30).values():
                    with contextlib.suppress(Exception):
                        future.result(30)

    # -- producing

    def producer(self, latency: bool = False, errors: list[str] | None = None) -> Producer:
        config: dict[str, Any] = {"bootstrap.servers": self.o.bootstrap, "acks": "all"}
        if latency:
            config["linger.ms"] = 5  # librdkafka's default; fewer, fuller requests
        else:
            config.update({"linger.ms": 20, "batch.size": 1_000_000})
            config["queue.buffering.max.messages"] = 500_000
        if errors is not None:

            def on_delivery(error: Any, _message: Any) -> None:
                if error is not None:
                    errors.append(str(error))

            config["on_delivery"] = on_delivery
        return Producer(config)

    @staticmethod
    def send(producer: Producer, topic: str, key: bytes, value: bytes, ts: int) -> None:
        while True:
            try:
                producer.produce(topic, value, key, timestamp=ts)
                return
            except BufferError:
                producer.poll(0.01)

    def preload(self, topic: str, rows: Callable[[], Iterator[tuple[bytes, bytes, int]]]) -> int:
        errors: list[str] = []
        producer = self.producer(errors=errors)
        count = 0
        for key, value, ts in rows():
            self.send(producer, topic, key, value, ts)
            count += 1
            if count % 1000 == 0:
                producer.poll(0)
        left = producer.flush(120)
        if left or errors:
            raise RuntimeError(f"preload of {topic}: {left} unsent, errors {errors[:3]}")
        return count

    # -- one cell

    def run_cell(
        self,
        name: str,
        fw: Framework,
        caps: dict[str, Any],
        workload: str,
        guarantee: str,
        records: int,
        phases: list[str],
    ) -> dict[str, Any]:
        cell: dict[str, Any] = {
            "framework": name,
            "workload": workload,
            "guarantee": guarantee,
            "status": "ok",
            "load_average_before": os.getloadavg()[0],
        }
        unsupported = caps.get("unsupported", {})
        for feature in (guarantee, workload):
            if feature in unsupported:
                cell.update(status="unsupported", reason=unsupported[feature])
                return cell
        for phase in phases:
            tag = f"pb{self.run_id}-{name}-{workload[:6]}-{guarantee}-{phase[:3]}"
            print(f"  {name} {workload} {guarantee} {phase} ...", flush=True)
            try:
                if phase == "throughput":
                    cell[phase] = self.throughput(tag, fw, workload, guarantee, records)
                elif workload == "window_count" and "window_count:update" in unsupported:
                    cell[phase] = {"status": "n/a", "reason": unsupported["window_count:update"]}
                else:
                    cell[phase] = self.latency(tag, fw, workload, guarantee)
            except Exception as error:  # report, go on with the next cell
                cell[phase] = {"status": "error", "error": str(error)[-3000:]}
            finally:
                self.delete_topics_with(tag)
            result = cell[phase]
            if result.get("status") not in ("ok", "n/a"):
                cell["status"] = result.get("status", "error")
            print(f"    -> {_one_line(result)}", flush=True)
        return cell

    def _app_args(
        self, tag: str, workload: str, guarantee: str, emit: str, work_dir: Path
    ) -> tuple[list[str], dict[str, str]]:
        topics = {"input": f"{tag}-in", "output": f"{tag}-out"}
        if workload == "table_join":
            topics["table"] = f"{tag}-customers"
        args = ["--workload", workload, "--guarantee", guarantee]
        args += ["--bootstrap", self.o.bootstrap, "--group", f"{tag}-g"]
        for role, topic in topics.items():
            args += [f"--{role}", topic]
        args += ["--emit", emit, "--state-dir", str(work_dir / "state")]
        if self.o.commit_interval_ms is not None:
            args += ["--commit-interval-ms", str(self.o.commit_interval_ms)]
        return args, topics

    def _setup_topics(self, topics: dict[str, str], base_ms: int) -> None:
        table = topics.get("table")
        self.create_topics(list(topics.values()), compacted=(table,) if table else ())
        if table:
            self.preload(table, lambda: Dataset.customer_rows(base_ms - WINDOW_MS))

    def _worker_cpu(self, worker: Worker, broker_cpu0: float | None) -> dict[str, Any]:
        out: dict[str, Any] = {"worker_cpu_s": round(worker.cpu_s(), 2)}
        if self.broker and broker_cpu0 is not None:
            out["broker_cpu_s"] = round((self.broker.cpu_s() or 0) - broker_cpu0, 2)
        return out

    def throughput(
        self, tag: str, fw: Framework, workload: str, guarantee: str, records: int
    ) -> dict[str, Any]:
        work_dir = self.run_dir / tag
        args, topics = self._app_args(tag, workload, guarantee, "final", work_dir)
        span_ms = self.o.event_minutes * WINDOW_MS
        now_ms = int(time.time() * 1000)
        base_ms = now_ms - now_ms % WINDOW_MS - span_ms - WINDOW_MS
        self._setup_topics(topics, base_ms)
        data = Dataset(workload, self.o.seed)

        def rows() -> Iterator[tuple[bytes, bytes, int]]:
            for i in range(records):
                ts = base_ms + i * span_ms // records
                yield (*data.row(i, ts), ts)

        t0 = time.time()
        self.preload(topics["input"], rows)
        data.finish()
        preload_s = time.time() - t0
        collector = Collector(self.o.bootstrap, topics["output"], self.o.partitions, data)
        collector.start()
        broker_cpu0 = self.broker.cpu_s() if self.broker else None
        worker = Worker(fw, args, work_dir)
        try:
            status = self._wait(worker, collector, data.check, self.o.phase_timeout)
            cpu = self._worker_cpu(worker, broker_cpu0)
        finally:
            code = worker.stop()
            time.sleep(0.5)  # late outputs (duplicates, unexpected) still get counted
            collector.stop()
        check = data.check
        result: dict[str, Any] = {"status": status, "records": records}
        result["preload_s"] = round(preload_s, 2)
        result.update(cpu)
        firsts = [t for t in (check.first_at, collector.probe.at) if t is not None]
        first = min(firsts, default=None)
        if first is not None:
            result["first_output_s"] = round(first - worker.started, 2)
        if check.first_at is not None:
            result["first_committed_output_s"] = round(check.first_at - worker.started, 2)
        if check.complete_at is not None and first is not None:
            elapsed = max(check.complete_at - first, 1e-6)
            result["elapsed_s"] = round(elapsed, 2)
            result["records_per_s"] = round(records / elapsed)
            result["records_per_s_wall"] = round(records / (check.complete_at - worker.started))
            result["records_per_cpu_s"] = round(records / max(cpu["worker_cpu_s"], 1e-6))
        result["check"] = check.summary()
        result["worker_exit"] = code
        result["worker_log_notable"] = _notable_lines(worker.log_path)
        if status != "ok":
            result["error"] = self._explain(status, worker, collector, check)
        return result

    def latency(self, tag: str, fw: Framework, workload: str, guarantee: str) -> dict[str, Any]:
        work_dir = self.run_dir / tag
        emit = "update" if workload == "window_count" else "final"
        args, topics = self._app_args(tag, workload, guarantee, emit, work_dir)
        now_ms = int(time.time() * 1000)
        self._setup_topics(topics, now_ms - 3_600_000)
        data = Dataset(workload, self.o.seed + 1, update_mode=emit == "update")
        total = int(self.o.latency_rate * self.o.latency_seconds)
        collector = Collector(self.o.bootstrap, topics["output"], self.o.partitions, data)
        collector.start()
        broker_cpu0 = self.broker.cpu_s() if self.broker else None
        worker = Worker(fw, args, work_dir)
        producer = self.producer(latency=True)
        status = "ok"
        try:
            # warm-up: a trickle until the first output shows the worker is running
            deadline = time.time() + self.o.startup_timeout
            i = 0
            while data.check.ignored == 0:
                if not worker.alive():
                    raise RuntimeError(worker.failure())
                if time.time() > deadline:
                    raise RuntimeError(
                        f"no output within {self.o.startup_timeout} s of warm-up:\n"
                        + _tail(worker.log_path)
                    )
                ts = int(time.time() * 1000)
                self.send(producer, topics["input"], *Dataset.warmup_row(workload, i, ts), ts)
                producer.poll(0)
                i += 1
                time.sleep(1 / WARMUP_RATE)
            time.sleep(0.5)
            # the measured phase: fixed rate, send time embedded
            tick = 0.005
            per_tick = self.o.latency_rate * tick
            start = time.time()
            sent = 0
            while sent < total:
                due = min(total, int((time.time() - start) / tick * per_tick) + 1)
                with collector.lock:  # rows and expectations change together
                    while sent < due:
                        now = time.time()
                        ts = int(now * 1000)
                        key, value = data.row(sent, ts, sent=now)
                        self.send(producer, topics["input"], key, value, ts)
                        sent += 1
                producer.poll(0)
                time.sleep(max(0.0, start + (sent / self.o.latency_rate) - time.time()))
            producer.flush(30)
            produce_s = time.time() - start
            with collector.lock:
                data.finish()
            drain = (self.o.commit_interval_ms or 10_000) / 1000 + self.o.idle_timeout
            status = self._wait(worker, collector, data.check, drain, started=True)
            cpu = self._worker_cpu(worker, broker_cpu0)
        finally:
            producer.flush(5)
            code = worker.stop()
            collector.stop()
        check = data.check
        lat = sorted(check.latencies)
        result: dict[str, Any] = {"status": status, "mode": emit, "rate": self.o.latency_rate}
        result["records"] = total
        result["achieved_rate"] = round(total / produce_s)
        result.update(cpu)
        if lat:
            result["samples"] = len(lat)
            result["p50_ms"] = round(_percentile(lat, 50) * 1000, 1)
            result["p99_ms"] = round(_percentile(lat, 99) * 1000, 1)
            result["max_ms"] = round(lat[-1] * 1000, 1)
            result["mean_ms"] = round(statistics.fmean(lat) * 1000, 1)
            result["p50_ms_by_second"] = _by_second(check.sends, check.latencies)
        result["check"] = check.summary()
        result["worker_exit"] = code
        result["worker_log_notable"] = _notable_lines(worker.log_path)
        if status != "ok":
            result["error"] = self._explain(status, worker, collector, check)
        return result

    def _wait(
        self,
        worker: Worker,
        collector: Collector,
        check: Check,
        timeout: float,
        started: bool = False,
    ) -> str:
        """Until the output is complete ("ok"), or why not."""
        begin = time.time()
        while True:
            time.sleep(0.05)
            with collector.lock:
                if check.complete:
                    return "ok"
                last = check.last_at
            now = time.time()
            if not worker.alive():
                return "failed"
            if collector.error:
                return "collector-error"
            if last is None and not started and now - begin > self.o.startup_timeout:
                return "no-output"
            if last is not None and now - last > self.o.idle_timeout:
                return "stalled"
            if started and last is None and now - begin > timeout:
                return "no-output"
            if now - begin > timeout:
                return "timeout"

    @staticmethod
    def _explain(status: str, worker: Worker, collector: Collector, check: Check) -> str:
        if status == "failed":
            return worker.failure()
        if status == "collector-error":
            return f"output consumer: {collector.error}"
        return (
            f"{check.matched}/{check.expected} expected outputs "
            f"({check.outputs} received); worker log tail:\n{_tail(worker.log_path, 15)}"
        )


def _percentile(sorted_values: list[float], pct: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def _by_second(sends: list[float], latencies: list[float]) -> list[float]:
    """p50 latency (ms) of the records sent in each second of the phase: a drift shows."""
    if not sends:
        return []
    start = min(sends)
    buckets: dict[int, list[float]] = defaultdict(list)
    for sent, latency in zip(sends, latencies, strict=True):
        buckets[int(sent - start)].append(latency)
    return [
        round(statistics.median(buckets[b]) * 1000, 1) if b in buckets else -1.0
        for b in range(max(buckets) + 1)
    ]


def _brief(text: str, width: int = 160) -> str:
    """The first and the last line of an error (a log tail's last line says the most)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    brief = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"
    return brief[:width]


def _one_line(result: dict[str, Any]) -> str:
    keys = ("status", "records_per_s", "records_per_s_wall", "p50_ms", "p99_ms", "worker_cpu_s")
    parts = [f"{k}={result[k]}" for k in keys if k in result]
    check = result.get("check")
    if check:
        parts.append(
            f"matched={check['matched']}/{check['expected']} dup={check['duplicates']} "
            f"bad={check['bad']} unexpected={check['unexpected']}"
        )
    if "error" in result or "reason" in result:
        parts.append(_brief(result.get("error") or result.get("reason", "")))
    return " ".join(parts)


def capabilities(name: str, fw: Framework) -> dict[str, Any]:
    if not fw.python.exists():
        raise RuntimeError(
            f"no interpreter {fw.python}" + (f": {fw.setup_hint}" if fw.setup_hint else "")
        )
    if not fw.app.exists():
        raise RuntimeError(f"{fw.app.relative_to(ROOT)} does not exist (yet)")
    out = subprocess.run(
        [str(fw.python), str(fw.app), "--capabilities"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{name} --capabilities exited {out.returncode}: {out.stderr[-2000:]}")
    caps: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return caps


def print_table(cells: list[dict[str, Any]]) -> None:
    header = (
        f"{'framework':<9} {'workload':<12} {'guar':<4} {'rec/s':>8} {'wall/s':>8} "
        f"{'cpu s':>6} {'brk s':>6} {'rec/cpu-s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'lat cpu':>7}  check / note"
    )
    print(header)
    print("-" * len(header))
    for c in cells:
        lead = f"{c['framework']:<9} {c['workload']:<12} {c['guarantee']:<4}"
        if c["status"] == "unsupported" or ("throughput" not in c and "latency" not in c):
            print(
                f"{lead} {'':>8} {'':>8} {'':>6} {'':>6} {'':>9} {'':>8} {'':>8} {'':>7}  "
                f"{c['status']}: {c.get('reason') or c.get('error', '')}"[:400]
            )
            continue
        t = c.get("throughput", {})
        lat = c.get("latency", {})
        notes = []
        for phase, r in (("tp", t), ("lat", lat)):
            if not r:
                continue
            if r.get("status") == "ok":
                ch = r["check"]
                extra = [f"{k}={ch[k]}" for k in CHECK_FLAGS if ch.get(k)]
                notes.append(
                    f"{phase} ok {ch['matched']}/{ch['expected']}"
                    + (f" ({', '.join(extra)})" if extra else "")
                )
            elif r.get("status") == "n/a":
                notes.append(f"{phase} n/a: {r['reason'][:70]}...")
            else:
                notes.append(f"{phase} {r.get('status')}: {_brief(r.get('error') or '', 200)}")
        if lat.get("mode") == "update":
            notes.append("lat=update emission")
        print(
            f"{lead} {_fmt(t.get('records_per_s')):>8} {_fmt(t.get('records_per_s_wall')):>8} "
            f"{_fmt(t.get('worker_cpu_s')):>6} {_fmt(t.get('broker_cpu_s')):>6} "
            f"{_fmt(t.get('records_per_cpu_s')):>9} {_fmt(lat.get('p50_ms')):>8} "
            f"{_fmt(lat.get('p99_ms')):>8} {_fmt(lat.get('worker_cpu_s')):>7}  {'; '.join(notes)}"
        )


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}" if value < 1000 else f"{value:.0f}"
    return str(value)


def _names(text: str, allowed: tuple[str, ...] | list[str], what: str) -> list[str]:
    names = [ALIASES.get(n.strip(), n.strip()) for n in text.split(",") if n.strip()]
    for n in names:
        if n not in allowed:
            raise SystemExit(f"unknown {what} {n!r}: choose from {', '.join(allowed)}")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", help="an existing broker (default: start luong serve)")
    parser.add_argument("--frameworks", default="quix,bytewax,luong")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--guarantees", default=",".join(GUARANTEES))
    parser.add_argument("--phases", default="throughput,latency")
    parser.add_argument(
        "--records", type=int, help=f"input records per throughput run (default {DEFAULT_RECORDS})"
    )
    parser.add_argument("--partitions", type=int, default=1)
    parser.add_argument("--event-minutes", type=int, default=10, help="W2 event-time span")
    parser.add_argument("--latency-rate", type=int, default=2000, help="records/s")
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    parser.add_argument("--commit-interval-ms", type=int, help="default: each framework's own")
    parser.add_argument("--startup-timeout", type=float, default=120.0)
    parser.add_argument("--idle-timeout", type=float, default=60.0)
    parser.add_argument("--phase-timeout", type=float, default=900.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--broker-set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--json", type=Path, help="write machine-readable results here")
    parser.add_argument("--keep", action="store_true", help="keep topics and broker data")
    args = parser.parse_args(argv)

    frameworks = _names(args.frameworks, list(FRAMEWORKS), "framework")
    workloads = _names(args.workloads, WORKLOADS, "workload")
    guarantees = _names(args.guarantees, GUARANTEES, "guarantee")
    phases = _names(args.phases, ("throughput", "latency"), "phase")
    run_dir = Path(tempfile.mkdtemp(prefix="pipeline-bench-"))
    print(f"run directory (logs): {run_dir}", flush=True)

    broker: Broker | None = None
    if args.bootstrap:
        bootstrap = args.bootstrap
    else:
        settings = ["group.initial.rebalance.delay.ms=0", *args.broker_set]
        broker = Broker(run_dir, settings).start()
        bootstrap = broker.bootstrap
        print(f"luong serve on {bootstrap} (log {broker.log_path})", flush=True)
    options = Options(
        bootstrap=bootstrap,
        partitions=args.partitions,
        event_minutes=args.event_minutes,
        latency_rate=args.latency_rate,
        latency_seconds=args.latency_seconds,
        commit_interval_ms=args.commit_interval_ms,
        startup_timeout=args.startup_timeout,
        idle_timeout=args.idle_timeout,
        phase_timeout=args.phase_timeout,
        seed=args.seed,
        keep_topics=args.keep,
    )
    bench = Bench(options, run_dir, broker)
    cells: list[dict[str, Any]] = []
    frameworks_info: dict[str, Any] = {}
    started = time.time()
    try:
        for name in frameworks:
            fw = FRAMEWORKS[name]
            try:
                caps = capabilities(name, fw)
            except Exception as error:
                print(f"{name}: {error}", flush=True)
                frameworks_info[name] = {"error": str(error)}
                cells.extend(
                    {
                        "framework": name,
                        "workload": w,
                        "guarantee": g,
                        "status": "error",
                        "error": str(error),
                    }
                    for w in workloads
                    for g in guarantees
                )
                continue
            frameworks_info[name] = caps
            print(f"{name}: {caps.get('framework')} {caps.get('version')}", flush=True)
            for workload in workloads:
                records = args.records or DEFAULT_RECORDS[workload]
                for guarantee in guarantees:
                    cells.append(
                        bench.run_cell(name, fw, caps, workload, guarantee, records, phases)
                    )
    finally:
        del bench  # its AdminClient holds a connection to the broker
        if broker:
            broker.stop()
    results = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "duration_s": round(time.time() - started, 1),
        "bootstrap": bootstrap if not broker else "own luong serve",
        "options": {k: v for k, v in vars(args).items() if k != "json"} | {"json": str(args.json)},
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
        "frameworks": frameworks_info,
        "run_dir": str(run_dir),
        "broker_log_notable": _notable_lines(broker.log_path, 40) if broker else [],
        "cells": cells,
    }
    if broker and not args.keep:
        shutil.rmtree(broker.data_dir, ignore_errors=True)
    print()
    print_table(cells)
    if results["broker_log_notable"]:
        print("\nbroker log (errors/warnings):")
        for line in results["broker_log_notable"]:
            print(f"  {line}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nresults: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
