"""Pipelines that crash: kill -9 with exactly-once (every input reflected exactly once
in the committed output) and at-least-once (nothing lost), and two workers sharing
a topic, one killed, the other taking over its partitions and their state."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pipeline_kit import create_topics, produce, read, write_app

from luong.testing.node import LuongProcess, wait_until
from luong.testing.pipelines import PipelineProcess

BASE_TS = 1_764_806_400_000
TOTAL = 30_000
KEYS = 100


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LuongProcess]:
    settings = {"num.partitions": "3", "group.min.session.timeout.ms": "1000"}
    with LuongProcess(tmp_path_factory.mktemp("failover") / "data", settings=settings) as n:
        yield n


def counting_app(path: Path, name: str, source: str, guarantee: str) -> Path:
    return write_app(
        path,
        f"""
        from luong.pipelines import Count, Pipeline
        config = {{"consumer.session.timeout.ms": 3000}}
        p = Pipeline("{name}", guarantee="{guarantee}", config=config)
        s = p.source("{source}")
        s.aggregate(Count(), name="counts").to("{name}-counts")
        s.map(lambda v: v["id"]).to("{name}-copies")
    """,
    )


def records(start: int, stop: int) -> list[tuple[str, dict[str, int], int]]:
    return [(f"k{i % KEYS}", {"id": i}, BASE_TS + i) for i in range(start, stop)]


def produce_slowly(bootstrap: str, topic: str, total: int, per_s: int) -> threading.Thread:
    def run() -> None:
        step = per_s // 10
        for start in range(0, total, step):
            produce(bootstrap, topic, records(start, min(total, start + step)))
            time.sleep(0.1)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def processed(worker: PipelineProcess) -> int:
    try:
        return int(worker.status()["records_in"])
    except (OSError, ValueError):
        return 0


def caught_up(workers: list[PipelineProcess], topic: str, total: int) -> bool:
    try:
        statuses = [w.status() for w in workers]
    except (OSError, ValueError):
        return False
    parts = [p for s in statuses for p in s["partitions"] if p["topic"] == topic]
    return sum(p["position"] for p in parts) >= total and all(p["lag"] == 0 for p in parts)


def count_sequences(counts: list[Any]) -> dict[str, list[int]]:
    sequences: dict[str, list[int]] = defaultdict(list)
    for key, value, _ in counts:
        sequences[key].append(value)
    return sequences


def crash_and_finish(node: LuongProcess, tmp_path: Path, name: str, guarantee: str) -> tuple:
    topic = f"{name}-in"
    create_topics(node.bootstrap, (topic, 3))
    app = counting_app(tmp_path / "app.py", name, topic, guarantee)
    worker = PipelineProcess(app, node.bootstrap, tmp_path / "state").start()
    writer = produce_slowly(node.bootstrap, topic, TOTAL, 6000)
    wait_until(lambda: processed(worker) >= 6000, 60, "the worker to get going")
    assert worker.kill() == -9
    time.sleep(0.5)
    restarted = PipelineProcess(app, node.bootstrap, tmp_path / "state").start()
    try:
        writer.join(60)
        wait_until(lambda: caught_up([restarted], topic, TOTAL), 90, "the restarted worker")
        copies = read(node.bootstrap, f"{name}-copies", expect=TOTAL)
        counts = read(node.bootstrap, f"{name}-counts", expect=TOTAL)
    finally:
        assert restarted.stop() == 0
    return copies, counts, restarted


def test_kill_9_with_exactly_once_reflects_every_input_exactly_once(
    node: LuongProcess, tmp_path: Path
) -> None:
    copies, counts, _ = crash_and_finish(node, tmp_path, "eos", "exactly_once")
    assert sorted(v for _, v, _ in copies) == list(range(TOTAL))
    sequences = count_sequences(counts)
    assert len(sequences) == KEYS
    for key, sequence in sequences.items():
        assert sequence == list(range(1, TOTAL // KEYS + 1)), key


def test_kill_9_with_at_least_once_loses_nothing(node: LuongProcess, tmp_path: Path) -> None:
    copies, counts, _ = crash_and_finish(node, tmp_path, "alos", "at_least_once")
    seen = Counter(v for _, v, _ in copies)
    assert set(seen) == set(range(TOTAL))
    for key, sequence in count_sequences(counts).items():
        assert sequence[-1] >= TOTAL // KEYS, key


def test_a_surviving_worker_takes_over_the_partitions_and_state_of_a_killed_one(
    node: LuongProcess, tmp_path: Path
) -> None:
    create_topics(node.bootstrap, ("share-in", 4))
    app = counting_app(tmp_path / "app.py", "share", "share-in", "exactly_once")
    state = tmp_path / "state"  # one state directory: each worker takes its own slot
    first = PipelineProcess(app, node.bootstrap, state).start()
    second = PipelineProcess(app, node.bootstrap, state).start()
    try:
        wait_until(
            lambda: len(first.status()["partitions"]) == 2 == len(second.status()["partitions"]),
            30,
            "the partitions to be shared",
        )
        produce(node.bootstrap, "share-in", records(0, 8000))
        wait_until(lambda: caught_up([first, second], "share-in", 8000), 60, "both workers")
        killed_at = time.monotonic()
        first.kill()
        wait_until(
            lambda: (
                len(second.status()["partitions"]) == 4 and second.status()["state"] == "running"
            ),
            30,
            "the takeover",
        )
        takeover_s = time.monotonic() - killed_at
        assert second.status()["restore"]["records"] > 0  # the dead worker's state came along
        produce(node.bootstrap, "share-in", records(8000, 12000))
        wait_until(lambda: caught_up([second], "share-in", 12000), 60, "the survivor")
        counts = read(node.bootstrap, "share-counts", expect=12000)
        for key in ("k0", "k1", "k42"):
            code, body = second.get(f"/stores/counts/keys/{key}")
            assert (code, body["rows"][0]["value"]) == (200, 120)
    finally:
        assert second.stop() == 0
    for key, sequence in count_sequences(counts).items():
        assert sequence == list(range(1, 121)), key
    print(f"takeover in {takeover_s:.1f} s (session timeout 3 s)")
    assert takeover_s < 30
