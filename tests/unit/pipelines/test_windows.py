"""Every window kind with out-of-order and late records, against results worked out
by hand (times in ms; `grace` is the grace period; "closes at" is the stream time
at which a window's final result is emitted)."""

from __future__ import annotations

from typing import Any

import pytest

from luong.pipelines import (
    Collect,
    Count,
    Pipeline,
    PipelineTestDriver,
    Sum,
    hopping,
    session,
    sliding,
    tumbling,
)
from luong.pipelines.windows import Window, WindowSpec


def windowed(spec: WindowSpec, grace_ms: int, emit: str = "close", agg: Any = None):
    p = Pipeline("w", state_store="memory")
    results = p.source("in").window(spec, grace_ms=grace_ms).aggregate(agg or Count(), emit=emit)
    results.to("out")
    results.late().to("late")
    return p, PipelineTestDriver(p)


def feed(driver: PipelineTestDriver, events: list[tuple[str, int]], value: Any = None) -> None:
    for key, ts in events:
        driver.send("in", {"v": ts} if value is None else value, key=key, timestamp=ts)


def rows(driver: PipelineTestDriver) -> list[tuple[str, int, int, Any]]:
    return [(k, v["start"], v["end"], v["value"]) for k, v in driver.keyed_output("out")]


def late_times(driver: PipelineTestDriver) -> list[int]:
    return [r.timestamp for r in driver.output_records("late")]


def test_tumbling_windows_close_after_grace_and_late_records_go_to_the_side_output() -> None:
    _, d = windowed(tumbling(10), grace_ms=5)
    # a@1, a@7, b@3: window [0,10); a@12 opens [10,20); a@4 is 8 behind but [0,10)
    # closes only at 10 + 5 = 15: still counts. a@15 closes [0,10): a=3, b=1.
    # a@2 then is late (its window closed). a@30 closes [10,20) (at 25): a=2 (12, 15).
    feed(d, [("a", 1), ("a", 7), ("b", 3), ("a", 12), ("a", 4), ("a", 15), ("a", 2), ("a", 30)])
    assert rows(d) == [("a", 0, 10, 3), ("b", 0, 10, 1), ("a", 10, 20, 2)]
    assert late_times(d) == [2]


def test_tumbling_window_results_are_timestamped_at_their_last_instant() -> None:
    _, d = windowed(tumbling(10), grace_ms=0)
    feed(d, [("a", 3), ("a", 10)])
    (record,) = d.output_records("out")
    assert record.timestamp == 9 and record.key == "a"


def test_emit_on_update_gives_every_intermediate_result() -> None:
    _, d = windowed(tumbling(10), grace_ms=0, emit="update", agg=Sum("v"))
    feed(d, [("a", 1), ("a", 2), ("a", 11), ("a", 5)])
    # 5 arrives when stream time is 11: [0,10) closed at 10, so 5 is late
    assert rows(d) == [("a", 0, 10, 1), ("a", 0, 10, 3), ("a", 10, 20, 11)]
    assert late_times(d) == [5]


def test_hopping_windows_count_a_record_in_each_window_that_holds_it() -> None:
    assert hopping(10, 5).windows_for(7) == (Window(0, 10), Window(5, 15))
    assert hopping(10, 3).windows_for(7) == (Window(0, 10), Window(3, 13), Window(6, 16))
    _, d = windowed(hopping(10, 5), grace_ms=0)
    # a@7 -> [0,10) [5,15); a@3 at stream time 7 -> [0,10) only ([-5,5) closed at 5);
    # a@12 -> [5,15) [10,20) and closes [0,10) with 2 (7, 3).
    # a@4 at stream time 12: its windows [-5,5), [0,10) are closed -> late.
    # a@25 closes [5,15) (2: 7, 12) and [10,20) (1: 12).
    feed(d, [("a", 7), ("a", 3), ("a", 12), ("a", 4), ("a", 25)])
    assert rows(d) == [("a", 0, 10, 2), ("a", 5, 15, 2), ("a", 10, 20, 1)]
    assert late_times(d) == [4]


def test_a_hopping_record_late_for_one_window_still_counts_in_the_open_one() -> None:
    _, d = windowed(hopping(10, 5), grace_ms=0)
    # stream time 11 closes [0,10) only; a@8 belongs to [0,10) (closed) and [5,15) (open)
    feed(d, [("a", 6), ("a", 11), ("a", 8), ("a", 30)])
    assert rows(d) == [("a", 0, 10, 1), ("a", 5, 15, 3), ("a", 10, 20, 1)]
    assert late_times(d) == []


def test_sliding_windows_look_back_from_every_record() -> None:
    _, d = windowed(sliding(10), grace_ms=3, agg=Collect("v"))
    # windows end at each record's time t and hold [t-10, t]; grace 3, so the window
    # of t closes at stream time >= t + 1 + 3; lateness: ts < stream time - 3.
    # a@5; a@12 closes window 5; a@9 (9 >= 12 - 3: on time) is in windows 9 and 12;
    # a@20 closes 9 and 12; a@3 is late (3 < 17); a@40 closes 20.
    feed(d, [("a", 5), ("a", 12), ("a", 9), ("a", 20), ("a", 3), ("a", 40)])
    assert rows(d) == [
        ("a", -5, 6, [5]),
        ("a", -1, 10, [5, 9]),
        ("a", 2, 13, [5, 9, 12]),
        ("a", 10, 21, [12, 20]),
    ]
    assert late_times(d) == [3]


def test_sliding_windows_on_update_refresh_the_windows_a_late_comer_falls_in() -> None:
    _, d = windowed(sliding(10), grace_ms=6, emit="update", agg=Count())
    feed(d, [("a", 10), ("a", 14), ("a", 8)])
    # a@8 (on time with grace 6) updates its own window (8) and those ending at 10, 14
    assert rows(d) == [
        ("a", 0, 11, 1),
        ("a", 4, 15, 2),
        ("a", -2, 9, 1),
        ("a", 0, 11, 2),
        ("a", 4, 15, 3),
    ]


def test_session_windows_merge_and_close_after_the_gap() -> None:
    _, d = windowed(session(10), grace_ms=0, agg=Collect("v"))
    # a@0, a@5 -> [0,5]; a@30 -> new session (25 >= gap); b@31; a@17 is late
    # (17 < 31 - 0); a@38 joins [30,30] -> [30,38]; a@21 late.
    # closing: a session [s, last] closes when stream time >= last + gap + grace:
    # [0,5] at 15 (closed by a@30), [30,38] and b's [31,31] by a@60 (in key order).
    feed(d, [("a", 0), ("a", 5), ("a", 30), ("b", 31), ("a", 17), ("a", 38), ("a", 21), ("a", 60)])
    assert rows(d) == [("a", 0, 6, [0, 5]), ("a", 30, 39, [30, 38]), ("b", 31, 32, [31])]
    assert late_times(d) == [17, 21]


def test_a_record_between_two_sessions_merges_them() -> None:
    _, d = windowed(session(10), grace_ms=20, agg=Count())
    # [0,0] and [18,18] are 18 apart (>= gap 10); a@9 is within 10 of both -> one
    # session [0,18] of 3 records, closed at 18 + 10 + 20 = 48.
    feed(d, [("a", 0), ("a", 18), ("a", 9), ("a", 47)])
    assert rows(d) == []
    feed(d, [("a", 48)])
    assert rows(d) == [("a", 0, 19, 3)]


def test_session_gap_is_exclusive() -> None:
    _, d = windowed(session(10), grace_ms=0, agg=Count())
    feed(d, [("a", 0), ("a", 10), ("a", 40)])  # exactly a gap apart: two sessions
    assert rows(d) == [("a", 0, 1, 1), ("a", 10, 11, 1)]


def test_windows_are_kept_per_key() -> None:
    _, d = windowed(tumbling(10), grace_ms=0)
    feed(d, [("x", 1), ("y", 2), ("x", 3), ("y", 20)])
    assert sorted(rows(d)) == [("x", 0, 10, 2), ("y", 0, 10, 1)]


def test_window_state_survives_in_the_store_between_segments() -> None:
    _, d = windowed(tumbling(10), grace_ms=0)
    feed(d, [("a", 1), ("a", 2)])
    task = next(iter(d.engine.tasks.values()))
    task.discard()  # operators rebuilt from the committed store
    feed(d, [("a", 3), ("a", 11)])
    assert rows(d) == [("a", 0, 10, 3)]


@pytest.mark.parametrize(
    "make", [lambda: tumbling(0), lambda: hopping(10, 11), lambda: session(-1), lambda: sliding(0)]
)
def test_bad_window_definitions_are_refused(make: Any) -> None:
    with pytest.raises(ValueError):
        make()


def test_grace_must_not_be_negative() -> None:
    p = Pipeline("w")
    with pytest.raises(ValueError, match="grace_ms"):
        p.source("in").window(tumbling(10), grace_ms=-1)
