"""Windowed aggregations and interval joins against brute force, over random event
sequences with random out-of-orderness; and the same results when the pipeline is
restarted from its committed state at random points."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from luong.pipelines import (
    Count,
    Pipeline,
    PipelineTestDriver,
    Sum,
    hopping,
    session,
    sliding,
    tumbling,
)

Event = tuple[str, int, int]  # key, timestamp, value


@st.composite
def histories(draw: Any, sides: bool = False) -> list[Any]:
    """Timestamps that mostly advance, with random jumps back (out of order)."""
    n = draw(st.integers(1, 40))
    now, events = 0, []
    for i in range(n):
        now += draw(st.integers(0, 8))
        ts = max(0, now - draw(st.sampled_from([0, 0, 0, 1, 3, 7, 15, 30])))
        key = draw(st.sampled_from("abc"))
        event = (key, ts, i)
        events.append((draw(st.booleans()), *event) if sides else event)
    return events


def running_stream_time(events: list[Event]) -> list[int]:
    """The stream time after each event (the greatest timestamp so far)."""
    out, now = [], -(10**9)
    for _, ts, _ in events:
        now = max(now, ts)
        out.append(now)
    return out


def fixed_windows(starts_every: int, size: int, ts: int) -> list[tuple[int, int]]:
    first = (ts - size) // starts_every * starts_every
    return [(s, s + size) for s in range(first, ts + 1, starts_every) if s <= ts < s + size]


def brute_fixed(events: list[Event], size: int, every: int, grace: int) -> tuple[list, list]:
    """Final (key, start, end, sum) of every closed window, in emission order, and the
    late events. A window closes at the first event where stream time >= end + grace."""
    sums: dict[tuple[str, int, int], int] = {}
    late, closed_at = [], {}
    times = running_stream_time(events)
    for index, ((key, ts, value), now) in enumerate(zip(events, times, strict=True)):
        open_windows = [w for w in fixed_windows(every, size, ts) if w[1] + grace > now]
        if not open_windows:
            late.append(value)
        for start, end in open_windows:
            sums[(key, start, end)] = sums.get((key, start, end), 0) + value
        for k, s, e in sums:
            if (k, s, e) not in closed_at and e + grace <= now:
                closed_at[(k, s, e)] = index
    order = sorted(closed_at, key=lambda w: (closed_at[w], w[2], f'"{w[0]}"', w[1]))
    return [(k, s, e, sums[(k, s, e)]) for k, s, e in order], late


def brute_sliding(events: list[Event], size: int, grace: int) -> tuple[Counter, list]:
    times = running_stream_time(events)
    kept = [(k, ts, v) for (k, ts, v), now in zip(events, times, strict=True) if ts >= now - grace]
    late = [v for (k, ts, v), now in zip(events, times, strict=True) if ts < now - grace]
    final = times[-1]
    results = Counter()
    for key, t in {(k, ts) for k, ts, _ in kept}:
        if t + 1 + grace <= final:
            total = sum(v for k, ts, v in kept if k == key and t - size <= ts <= t)
            results[(key, t - size, t + 1, total)] += 1
    return results, late


def brute_sessions(events: list[Event], gap: int, grace: int) -> tuple[Counter, list]:
    times = running_stream_time(events)
    kept = [(k, ts, v) for (k, ts, v), now in zip(events, times, strict=True) if ts >= now - grace]
    late = [v for (k, ts, v), now in zip(events, times, strict=True) if ts < now - grace]
    results = Counter()
    for key in {k for k, _, _ in kept}:
        mine = sorted((ts, v) for k, ts, v in kept if k == key)
        runs = [[mine[0]]]
        for ts, v in mine[1:]:
            if ts - runs[-1][-1][0] < gap:
                runs[-1].append((ts, v))
            else:
                runs.append([(ts, v)])
        for run in runs:
            if run[-1][0] + gap + grace <= times[-1]:
                results[(key, run[0][0], run[-1][0] + 1, sum(v for _, v in run))] += 1
    return results, late


def run_windows(spec: Any, grace: int, events: list[Event], restarts: set[int]) -> tuple:
    p = Pipeline("prop", state_store="memory")
    results = p.source("in").window(spec, grace_ms=grace).aggregate(Sum("v"))
    results.to("out")
    results.late().map(lambda v: v["v"]).to("late")
    driver = PipelineTestDriver(p)
    for index, (key, ts, value) in enumerate(events):
        if index in restarts:
            driver.restart()
        driver.send("in", {"v": value}, key=key, timestamp=ts)
    rows = [(k, v["start"], v["end"], v["value"]) for k, v in driver.keyed_output("out")]
    return rows, driver.output("late")


restart_points = st.sets(st.integers(0, 40), max_size=4)


@settings(max_examples=150, deadline=None)
@given(histories(), st.integers(1, 20), st.integers(0, 10), restart_points)
def test_tumbling_windows_match_brute_force(events: Any, size: int, grace: int, restarts: Any):
    rows, late = run_windows(tumbling(size), grace, events, restarts)
    assert (rows, late) == brute_fixed(events, size, size, grace)


@settings(max_examples=150, deadline=None)
@given(histories(), st.integers(2, 20), st.data(), st.integers(0, 10), restart_points)
def test_hopping_windows_match_brute_force(events, size, data, grace, restarts):
    advance = data.draw(st.integers(1, size))
    rows, late = run_windows(hopping(size, advance), grace, events, restarts)
    assert (rows, late) == brute_fixed(events, size, advance, grace)


@settings(max_examples=150, deadline=None)
@given(histories(), st.integers(1, 20), st.integers(0, 10), restart_points)
def test_sliding_windows_match_brute_force(events, size, grace, restarts):
    rows, late = run_windows(sliding(size), grace, events, restarts)
    expected, expected_late = brute_sliding(events, size, grace)
    assert (Counter(rows), late) == (expected, expected_late)


@settings(max_examples=150, deadline=None)
@given(histories(), st.integers(1, 20), st.integers(0, 10), restart_points)
def test_session_windows_match_brute_force(events, gap, grace, restarts):
    rows, late = run_windows(session(gap), grace, events, restarts)
    expected, expected_late = brute_sessions(events, gap, grace)
    assert (Counter(rows), late) == (expected, expected_late)


def brute_join(events: list[Any], within: int, grace: int, how: str) -> Counter:
    times = running_stream_time([(k, ts, v) for _, k, ts, v in events])
    kept = [e for e, now in zip(events, times, strict=True) if e[2] >= now - grace]
    lefts = [(k, ts, v) for is_left, k, ts, v in kept if is_left]
    rights = [(k, ts, v) for is_left, k, ts, v in kept if not is_left]
    out = Counter()
    for lk, lts, lv in lefts:
        for rk, rts, rv in rights:
            if lk == rk and abs(lts - rts) <= within:
                out[(lk, lv, rv)] += 1
    final = times[-1]

    def unmatched(side, others):
        for k, ts, v in side:
            alone = not any(ok == k and abs(ots - ts) <= within for ok, ots, _ in others)
            if alone and ts + grace + within + 1 <= final:
                yield k, ts, v

    if how in ("left", "outer"):
        for k, _, v in unmatched(lefts, rights):
            out[(k, v, None)] += 1
    if how == "outer":
        for k, _, v in unmatched(rights, lefts):
            out[(k, None, v)] += 1
    return out


@settings(max_examples=200, deadline=None)
@given(
    histories(sides=True),
    st.integers(1, 15),
    st.integers(0, 10),
    st.sampled_from(["inner", "left", "outer"]),
    restart_points,
)
def test_interval_joins_match_brute_force(events, within, grace, how, restarts):
    p = Pipeline("join", state_store="memory")
    left, right = p.source("left"), p.source("right")

    def values(a: Any, b: Any) -> list[Any]:
        return [None if a is None else a["v"], None if b is None else b["v"]]

    left.join_within(right, within, how=how, grace_ms=grace, combine=values).to("out")
    driver = PipelineTestDriver(p)
    for index, (is_left, key, ts, value) in enumerate(events):
        if index in restarts:
            driver.restart()
        driver.send("left" if is_left else "right", {"v": value}, key=key, timestamp=ts)
    got = Counter((k, v[0], v[1]) for k, v in driver.keyed_output("out"))
    assert got == brute_join(events, within, grace, how)


@settings(max_examples=60, deadline=None)
@given(histories(), restart_points)
def test_a_keyed_count_after_key_by_survives_restarts(events, restarts):
    p = Pipeline("count", state_store="memory")
    p.source("in").key_by(lambda v: v["v"] % 3).aggregate(Count()).to("out")
    driver = PipelineTestDriver(p, partitions={"in": 2})
    for index, (key, ts, value) in enumerate(events):
        if index in restarts:
            driver.restart()
        driver.send("in", {"v": value}, key=key, timestamp=ts)
    finals = dict(driver.keyed_output("out"))
    assert finals == {str(k): c for k, c in Counter(v % 3 for _, _, v in events).items()}
