"""Pipelines against a real `luong serve`: live workers, bounded runs over history,
interactive queries, dead letters, status, and restarts that restore only a tail."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from pipeline_kit import create_topics, produce, read, read_raw, write_app

from luong.pipelines import Count, Pipeline, PipelineTestDriver, tumbling
from luong.testing.node import LuongProcess, wait_until
from luong.testing.pipelines import PipelineProcess

BASE_TS = 1_764_806_400_000  # 2025-12-04T00:00:00Z


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LuongProcess]:
    settings = {"num.partitions": "3", "group.min.session.timeout.ms": "1000"}
    with LuongProcess(tmp_path_factory.mktemp("pipelines") / "data", settings=settings) as n:
        yield n


def caught_up(worker: PipelineProcess, records_in: int) -> bool:
    status = worker.status()
    return status["records_in"] >= records_in and all(p["lag"] == 0 for p in status["partitions"])


CLICKS_APP = """
from luong.pipelines import Count, Pipeline, tumbling

p = Pipeline("clicks-app")
clicks = p.source("clicks")
clicks.filter(lambda v: v["n"] % 2 == 0).map(lambda v: {"n": v["n"], "page": v["page"]}).to("even")
(
    clicks.key_by(lambda v: v["page"])
    .window(tumbling(1000), grace_ms=60_000)
    .aggregate(Count())
    .to("per-page")
)
"""


def test_a_live_worker_gives_what_the_test_driver_computes(
    node: LuongProcess, tmp_path: Path
) -> None:
    create_topics(node.bootstrap, ("clicks", 3))
    records = [
        (f"u{i % 30}", {"n": i, "page": f"p{i % 10}"}, BASE_TS + i * 10) for i in range(3000)
    ]
    # then one record per page, far later, closes every window of the 30 s above
    # (written once the rest is processed: through the repartition topic, records of
    # several upstream partitions interleave, and these must come last)
    closers = [(f"u{i}", {"n": -1, "page": f"p{i}"}, BASE_TS + 200_000) for i in range(10)]
    produce(node.bootstrap, "clicks", records)
    app = write_app(tmp_path / "app.py", CLICKS_APP)
    worker = PipelineProcess(app, node.bootstrap, tmp_path / "state").start()
    try:
        wait_until(lambda: caught_up(worker, 3000 + 3000), 60, "the worker to catch up")
        produce(node.bootstrap, "clicks", closers)
        records += closers
        wait_until(lambda: caught_up(worker, 3010 + 3010), 60, "the worker to catch up")
        per_page = read(node.bootstrap, "per-page", expect=300)
        even = read(node.bootstrap, "even", expect=1506)
    finally:
        assert worker.stop() == 0

    import runpy

    pipeline = runpy.run_path(str(app))["p"]
    driver = PipelineTestDriver(pipeline, partitions={"clicks": 3})
    for key, value, ts in records:
        driver.send("clicks", value, key=key, timestamp=ts)
    assert sorted((k, json.dumps(v)) for k, v, _ in per_page) == sorted(
        (k, json.dumps(v)) for k, v in driver.keyed_output("per-page")
    )
    assert len(per_page) == 300  # 30 one-second windows x 10 pages, each closed
    assert {v["value"] for _, v, _ in per_page} == {10}
    assert sorted(v["n"] for _, v, _ in even) == sorted(v["n"] for v in driver.output("even"))


HISTORY_APP = """
from luong.pipelines import Count, Pipeline, Sum, session, tumbling

p = Pipeline("history-app")
profiles = p.table("profiles")
events = p.source("events")
events.join(
    profiles, how="left", combine=lambda e, pr: {**e, "tier": pr and pr["tier"]}
).to("joined")
sums = events.window(tumbling(1000), grace_ms=300).aggregate(Sum("x"))
sums.to("sums")
sums.late().to("late")
events.window(session(400), grace_ms=200).aggregate(Count()).to("sessions")
"""


def random_history(seed: int, n: int) -> tuple[list[Any], list[Any]]:
    rng = random.Random(seed)
    profiles = [
        (f"k{k}", {"tier": f"t{v}"}, BASE_TS + v * 3000) for v in range(4) for k in range(6)
    ]
    now, events = BASE_TS, []
    for i in range(n):
        now += rng.randint(0, 40)
        ts = now - rng.choice([0, 0, 0, 50, 200, 600, 1500])
        events.append((f"k{rng.randrange(6)}", {"i": i, "x": rng.randint(1, 9)}, ts))
    return profiles, events


def by_key(records: list[Any]) -> dict[Any, list[Any]]:
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for key, value, ts in records:
        grouped[key].append((value, ts))
    return dict(grouped)


def test_a_bounded_run_over_history_gives_exactly_the_live_output(
    node: LuongProcess, tmp_path: Path
) -> None:
    create_topics(node.bootstrap, ("events", 3))
    create_topics(node.bootstrap, ("profiles", 1), compact=True)
    profiles, events = random_history(7, 3000)
    produce(node.bootstrap, "profiles", profiles)
    produce(node.bootstrap, "events", events)
    app = write_app(tmp_path / "app.py", HISTORY_APP)
    worker = PipelineProcess(app, node.bootstrap, tmp_path / "state").start()
    try:
        wait_until(lambda: caught_up(worker, len(events)), 60, "the worker to catch up")
        live = {t: read(node.bootstrap, t) for t in ("joined", "sums", "late", "sessions")}
    finally:
        assert worker.stop() == 0
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "luong",
            "pipeline",
            "run",
            str(app),
            "--from",
            "earliest",
            "--output-suffix=-replay",
            "--bootstrap",
            node.bootstrap,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"{len(events):,} records in" in done.stderr
    replay = {t: read(node.bootstrap, f"{t}-replay") for t in live}
    assert len(live["joined"]) == len(events)
    assert live["late"], "the history has late records"
    assert any(v["tier"] is None for _, v, _ in live["joined"])  # before any profile
    for topic, records in live.items():
        assert by_key(replay[topic]) == by_key(records), topic


def test_a_bounded_slice_by_time_matches_a_driver_run_of_that_slice(
    node: LuongProcess, tmp_path: Path
) -> None:
    create_topics(node.bootstrap, ("slice-in", 1))
    records = [("k", {"v": i}, BASE_TS + i * 100) for i in range(100)]
    produce(node.bootstrap, "slice-in", records)
    app = write_app(
        tmp_path / "app.py",
        """
        from luong.pipelines import Count, Pipeline, tumbling
        p = Pipeline("slice-app")
        p.source("slice-in").window(tumbling(1000)).aggregate(Count()).to("slice-out")
    """,
    )
    start, until = BASE_TS + 2_000, BASE_TS + 6_500
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "luong",
            "pipeline",
            "run",
            str(app),
            "--from",
            f"@{start}",
            "--until",
            f"@{until}",
            "--bootstrap",
            node.bootstrap,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = read(node.bootstrap, "slice-out")
    # records 20..64: windows [2000,3000) .. [5000,6000) closed, [6000,7000) still open
    assert [(v["start"] - BASE_TS, v["value"]) for _, v, _ in out] == [
        (2000, 10),
        (3000, 10),
        (4000, 10),
        (5000, 10),
    ]


def test_interactive_queries_answer_the_state_while_it_changes(
    node: LuongProcess, tmp_path: Path
) -> None:
    create_topics(node.bootstrap, ("payments", 2))
    app = write_app(
        tmp_path / "app.py",
        """
        from luong.pipelines import Count, Pipeline, Sum, tumbling
        p = Pipeline("iq-app")
        payments = p.source("payments")
        payments.aggregate(Count(), name="count-by-card").to("iq-counts")
        payments.window(tumbling(60_000), name="per-minute").aggregate(Sum("amount")).to("iq-w")
    """,
    )
    worker = PipelineProcess(app, node.bootstrap, tmp_path / "state").start()
    try:
        produce(
            node.bootstrap,
            "payments",
            [(f"card-{i % 3}", {"amount": 2}, BASE_TS + i) for i in range(90)],
        )

        def count(card: str) -> Any:
            code, body = worker.get(f"/stores/count-by-card/keys/{card}")
            return body["rows"][0]["value"] if code == 200 else None

        wait_until(lambda: count("card-1") == 30, 30, "card-1's count")
        produce(node.bootstrap, "payments", [("card-1", {"amount": 5}, BASE_TS + 500)] * 10)
        wait_until(lambda: count("card-1") == 40, 30, "card-1's new count")
        code, body = worker.get("/stores/per-minute/keys/card-1")
        assert code == 200
        assert body["rows"] == [
            {
                "key": "card-1",
                "start": BASE_TS - BASE_TS % 60_000,
                "end": BASE_TS - BASE_TS % 60_000 + 60_000,
                "value": 30 * 2 + 10 * 5,
            }
        ]
        code, body = worker.get("/stores/count-by-card?from=card-0&to=card-2")
        assert [(r["key"], r["value"]) for r in body["rows"]] == [("card-0", 30), ("card-1", 40)]
        assert worker.get("/stores/count-by-card/keys/card-9")[1]["error_code"] == 40403
        assert worker.get("/stores/nope/keys/x")[1]["error_code"] == 40402
        assert worker.get("/stores/count-by-card?limit=x")[1]["error_code"] == 40001
        _, stores = worker.get("/stores")
        assert [(s["name"], s["kind"], s["partitions"]) for s in stores] == [
            ("count-by-card", "aggregate", [0, 1]),
            ("per-minute", "window:tumbling", [0, 1]),
        ]
    finally:
        assert worker.stop() == 0


def test_undecodable_records_and_failing_code_go_to_the_dead_letter_topic(
    node: LuongProcess, tmp_path: Path
) -> None:
    create_topics(node.bootstrap, ("divide-in", 1))
    app = write_app(
        tmp_path / "app.py",
        """
        from luong.pipelines import Pipeline
        p = Pipeline("dlq-app")
        p.source("divide-in").map(lambda v: 100 // v["d"]).to("divide-out")
    """,
    )
    produce(
        node.bootstrap,
        "divide-in",
        [
            ("a", {"d": 5}, BASE_TS),
            ("b", b"not json", BASE_TS),
            ("c", {"d": 0}, BASE_TS),
            ("d", {"d": 10}, BASE_TS),
        ],
    )
    worker = PipelineProcess(app, node.bootstrap, tmp_path / "state").start()
    try:
        assert sorted(v for _, v, _ in read(node.bootstrap, "divide-out", expect=2)) == [10, 20]
        dead = read_raw(node.bootstrap, "dlq-app-dlq", expect=2)
        dead.sort(key=lambda m: int(dict(m.headers())["luong.dlq.offset"]))
        wait_until(lambda: worker.status()["dead_letters"] == 2, 10, "the dead-letter count")
    finally:
        assert worker.stop() == 0
    assert [m.value() for m in dead] == [b"not json", b'{"d":0}']
    headers = [dict(m.headers()) for m in dead]
    assert [
        (h["luong.dlq.topic"], h["luong.dlq.partition"], h["luong.dlq.offset"]) for h in headers
    ] == [(b"divide-in", b"0", b"1"), (b"divide-in", b"0", b"2")]
    assert b"not JSON" in headers[0]["luong.dlq.reason"]
    assert headers[1]["luong.dlq.reason"].startswith(b"ZeroDivisionError")


def test_status_list_and_a_restart_that_restores_only_the_tail(
    node: LuongProcess, tmp_path: Path
) -> None:
    create_topics(node.bootstrap, ("visits", 2))
    app = write_app(
        tmp_path / "app.py",
        """
        from luong.pipelines import Count, Pipeline
        p = Pipeline("visits-app")
        p.source("visits").aggregate(Count(), name="visits").to("visit-counts")
    """,
    )
    produce(node.bootstrap, "visits", [(f"user-{i % 500}", {}, BASE_TS) for i in range(2000)])
    worker = PipelineProcess(app, node.bootstrap, tmp_path / "state").start()
    wait_until(lambda: caught_up(worker, 2000), 30, "the worker to catch up")
    cli = [sys.executable, "-m", "luong", "pipeline"]

    def shown() -> list[Any]:
        command = [*cli, "status", "visits-app", "--json", "--bootstrap", node.bootstrap]
        answer = subprocess.run(command, capture_output=True, text=True, check=False)
        return list(json.loads(answer.stdout or "[]"))

    wait_until(lambda: shown() != [], 15, "a status record")
    (status,) = shown()
    assert status["state"] == "running" and status["http"] == worker.url
    assert sorted((p["topic"], p["partition"]) for p in status["partitions"]) == [
        ("visits", 0),
        ("visits", 1),
    ]
    listed = subprocess.run(
        [*cli, "list", "--bootstrap", node.bootstrap], capture_output=True, text=True, check=True
    ).stdout
    assert "visits-app" in listed
    assert worker.stop() == 0
    again = PipelineProcess(app, node.bootstrap, tmp_path / "state").start()
    try:
        assert again.status()["restore"]["records"] == 0  # the local store was current
        produce(node.bootstrap, "visits", [("user-1", {}, BASE_TS)])
        wait_until(
            lambda: (
                again.get("/stores/visits/keys/user-1")[1].get("rows", [{}])[0].get("value") == 5
            ),
            20,
            "user-1's count",
        )
    finally:
        assert again.stop() == 0
    fresh = PipelineProcess(app, node.bootstrap, tmp_path / "other-state").start()
    try:  # no local state: the whole changelog is read
        assert fresh.status()["restore"]["records"] >= 500
        assert fresh.get("/stores/visits/keys/user-2")[1]["rows"][0]["value"] == 4
    finally:
        assert fresh.stop() == 0


def test_the_driver_and_pipeline_api_import_cleanly() -> None:
    p = Pipeline("api")
    p.source("in").window(tumbling(1)).aggregate(Count()).to("out")
    assert [s.topics for s in p.subtopologies()] == [["in"]]


@pytest.mark.parametrize("guarantee", ["exactly_once", "at_least_once"])
def test_an_output_the_cluster_refuses_stops_the_worker_and_commits_nothing_past_it(
    node: LuongProcess, tmp_path: Path, guarantee: str
) -> None:
    source, output = f"big-in-{guarantee}", f"big-out-{guarantee}"
    create_topics(node.bootstrap, (source, 1))
    admin = AdminClient({"bootstrap.servers": node.bootstrap})
    config = {"max.message.bytes": "2000"}
    admin.create_topics([NewTopic(output, num_partitions=1, config=config)])[output].result(10)
    name = f"big-{guarantee}"
    app = write_app(
        tmp_path / "app.py",
        f"""
        from luong.pipelines import Pipeline
        p = Pipeline("{name}", guarantee="{guarantee}")
        p.source("{source}").map(lambda v: "x" * v["size"]).to("{output}")
    """,
    )
    produce(
        node.bootstrap, source, [("k", {"size": 10}, BASE_TS), ("k", {"size": 50_000}, BASE_TS)]
    )
    worker = PipelineProcess(app, node.bootstrap, tmp_path / "state")
    with open(worker.log_path, "ab") as log:
        process = subprocess.Popen(worker.command(), stdout=log, stderr=subprocess.STDOUT)
    assert process.wait(60) == 1
    assert "too large" in worker.log().lower() or "MSG_SIZE_TOO_LARGE" in worker.log()
    committed = (
        Consumer({"bootstrap.servers": node.bootstrap, "group.id": name})
        .committed([TopicPartition(source, 0)], timeout=10)[0]
        .offset
    )
    assert committed < 2  # the refused record's input is not committed
