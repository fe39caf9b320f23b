"""The examples in examples/, each over sample data through a real broker (a bounded
run over the data, which gives what a live worker gives)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pipeline_kit import create_topics, produce, read

from luong.testing.node import LuongProcess

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
T0 = 1_764_806_400_000
MIN = 60_000


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LuongProcess]:
    with LuongProcess(
        tmp_path_factory.mktemp("examples") / "data", settings={"num.partitions": "3"}
    ) as n:
        yield n


def run_example(node: LuongProcess, name: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "luong",
            "pipeline",
            "run",
            str(EXAMPLES / f"{name}.py"),
            "--from",
            "earliest",
            "--bootstrap",
            node.bootstrap,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def in_time_order(records: list[tuple[Any, Any, int]]) -> list[tuple[Any, Any, int]]:
    return sorted(records, key=lambda r: r[2])


def test_fraud_flags_a_card_used_in_two_countries_within_ten_minutes(node: LuongProcess):
    create_topics(node.bootstrap, ("payments", 3))
    payments = [
        ("card-a", {"country": "VN", "amount": 10}, T0),
        ("card-a", {"country": "VN", "amount": 12}, T0 + 1 * MIN),
        ("card-a", {"country": "US", "amount": 99}, T0 + 5 * MIN),  # 2 countries in 10 min
        ("card-a", {"country": "SG", "amount": 5}, T0 + 30 * MIN),  # alone by then
        ("card-b", {"country": "VN", "amount": 7}, T0),
        ("card-b", {"country": "US", "amount": 7}, T0 + 11 * MIN),  # 11 minutes apart
        ("card-c", {"country": "FR", "amount": 1}, T0 + 20 * MIN),
        ("card-c", {"country": "DE", "amount": 2}, T0 + 20 * MIN + 30_000),
    ]
    produce(node.bootstrap, "payments", in_time_order(payments))
    run_example(node, "fraud")
    alerts = read(node.bootstrap, "fraud-alerts")
    assert sorted((v["card"], v["countries"], v["payments"], v["to"]) for _, v, _ in alerts) == [
        ("card-a", 2, 3, T0 + 5 * MIN),
        ("card-c", 2, 2, T0 + 20 * MIN + 30_000),
    ]


def test_iot_alerts_on_hot_minutes_and_keeps_late_readings(node: LuongProcess):
    create_topics(node.bootstrap, ("readings", 3))
    readings = [
        ("s1", {"room": "lab-1", "celsius": 24.0}, T0 + 1_000),
        ("s2", {"room": "lab-1", "celsius": 26.0}, T0 + 20_000),
        ("s1", {"room": "lab-1", "celsius": 27.0}, T0 + 40_000),  # mean 25.67
        ("s3", {"room": "lab-2", "celsius": 22.0}, T0 + 5_000),
        ("s1", {"room": "lab-1", "celsius": 20.0}, T0 + MIN + 1_000),
        ("s2", {"room": "lab-1", "celsius": 21.0}, T0 + MIN + 2_000),
        ("s3", {"room": "lab-2", "celsius": 30.0}, T0 + MIN + 3_000),
        ("s1", {"room": "lab-1", "celsius": 21.0}, T0 + 5 * MIN),  # closes lab-1's minutes
        ("s3", {"room": "lab-2", "celsius": 21.0}, T0 + 5 * MIN),  # and lab-2's
    ]
    late = [("s2", {"room": "lab-1", "celsius": 90.0}, T0 + 10_000)]  # 5 minutes late
    produce(node.bootstrap, "readings", in_time_order(readings) + late)
    run_example(node, "iot")
    alerts = read(node.bootstrap, "temperature-alerts")
    assert sorted((v["room"], v["minute"], v["mean"], v["readings"]) for _, v, _ in alerts) == [
        ("lab-1", T0, 25.67, 3),
        ("lab-2", T0 + MIN, 30.0, 1),
    ]
    assert [v["celsius"] for _, v, _ in read(node.bootstrap, "readings-late")] == [90.0]


def test_clickstream_ranks_the_top_pages_of_every_minute(node: LuongProcess):
    create_topics(node.bootstrap, ("clicks", 3))
    pages = ["/a", "/b", "/a", "/static/x.css", "/c", "/a", "/b", "/static/y.js"]
    clicks = [(f"u{i}", {"page": p}, T0 + i * 1000) for i, p in enumerate(pages)]
    clicks += [("u9", {"page": "/b"}, T0 + MIN + 1), ("u9", {"page": "/z"}, T0 + 3 * MIN)]
    produce(node.bootstrap, "clicks", in_time_order(clicks))
    run_example(node, "clickstream")
    assert [v for _, v, _ in read(node.bootstrap, "top-pages")] == [
        {"minute": T0, "top": [["/a", 3], ["/b", 2], ["/c", 1]]},
        {"minute": T0 + MIN, "top": [["/b", 1]]},
    ]


def test_enrichment_joins_orders_with_the_profile_of_their_time(node: LuongProcess):
    create_topics(node.bootstrap, ("customers", 1), compact=True)
    create_topics(node.bootstrap, ("orders", 3))
    produce(
        node.bootstrap,
        "customers",
        [
            ("c1", {"name": "Lan", "tier": "gold"}, T0),
            ("c2", {"name": "Minh", "tier": "silver"}, T0),
            ("c1", {"name": "Lan", "tier": "platinum"}, T0 + 10 * MIN),
        ],
    )
    produce(
        node.bootstrap,
        "orders",
        [
            (f"o{i}", {"order": f"o{i}", "customer": c, "amount": 10 * i}, T0 + m * MIN)
            for i, (c, m) in enumerate([("c1", 5), ("c1", 15), ("c2", 1), ("c9", 2)], start=1)
        ],
    )
    run_example(node, "enrichment")
    enriched = sorted(
        (v["order"], v["name"], v["tier"]) for _, v, _ in read(node.bootstrap, "orders-enriched")
    )
    assert enriched == [
        ("o1", "Lan", "gold"),
        ("o2", "Lan", "platinum"),
        ("o3", "Minh", "silver"),
        ("o4", None, None),
    ]


def test_sessions_measures_user_sessions_with_a_thirty_minute_gap(node: LuongProcess):
    create_topics(node.bootstrap, ("page-views", 3))
    views = [("u1", {"page": "/"}, T0 + m * MIN) for m in (0, 10, 25, 70, 300)]
    views += [("u2", {"page": "/"}, T0 + m * MIN) for m in (5, 300)]
    produce(node.bootstrap, "page-views", in_time_order(views))
    run_example(node, "sessions")
    sessions = sorted(
        (v["user"], v["start"] - T0, v["length_ms"], v["views"])
        for _, v, _ in read(node.bootstrap, "user-sessions")
    )
    assert sessions == [("u1", 0, 25 * MIN, 3), ("u1", 70 * MIN, 0, 1), ("u2", 5 * MIN, 0, 1)]
