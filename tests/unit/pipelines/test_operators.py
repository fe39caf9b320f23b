"""Each operator through PipelineTestDriver: stateless ones, keyed state, routing,
repartitioning, errors and what a failed record leaves behind (nothing)."""

from __future__ import annotations

from typing import Any

import pytest

from luong.pipelines import Count, KeyState, Pipeline, PipelineTestDriver, Record, Sum


def pipeline(**settings: Any) -> Pipeline:
    return Pipeline("ops", state_store="memory", **settings)


def test_filter_map_flat_map_peek_chain() -> None:
    p = pipeline()
    seen: list[int] = []
    (
        p.source("in")
        .filter(lambda v: v["n"] % 2 == 0)
        .map(lambda v: v["n"] * 10)
        .flat_map(lambda n: [n, n + 1])
        .peek(seen.append)
        .to("out")
    )
    d = PipelineTestDriver(p)
    for n in range(5):
        d.send("in", {"n": n})
    assert d.output("out") == [0, 1, 20, 21, 40, 41]
    assert seen == [0, 1, 20, 21, 40, 41]


def test_every_operator_can_see_the_whole_record() -> None:
    p = pipeline()
    (
        p.source("in")
        .filter(lambda r: r.header("kind") == b"x", record=True)
        .map(
            lambda r: {"key": r.key, "ts": r.timestamp, "at": [r.topic, r.partition, r.offset]},
            record=True,
        )
        .to("out")
    )
    d = PipelineTestDriver(p)
    d.send("in", 1, key="k1", timestamp=5, headers=[("kind", b"x")])
    d.send("in", 2, key="k2", timestamp=6, headers=[("kind", b"y")])
    d.send("in", 3, key="k3", timestamp=7, headers=[("kind", b"x")])
    assert d.output("out") == [
        {"key": "k1", "ts": 5, "at": ["in", 0, 0]},
        {"key": "k3", "ts": 7, "at": ["in", 0, 2]},
    ]


def test_a_map_returning_a_record_sets_key_time_and_headers() -> None:
    p = pipeline()
    p.source("in").map(
        lambda r: Record(r.value, key="new", timestamp=99, headers=[("h", b"1")]), record=True
    ).to("out")
    d = PipelineTestDriver(p)
    d.send("in", {"a": 1}, key="old", timestamp=1)
    (out,) = d.output_records("out")
    assert (out.key, out.timestamp, out.headers, out.value) == ("new", 99, [("h", b"1")], {"a": 1})


def test_outputs_keep_the_input_time_key_and_headers() -> None:
    p = pipeline()
    p.source("in").map(lambda v: v + 1).to("out")
    d = PipelineTestDriver(p)
    d.send("in", 1, key="k", timestamp=1234, headers=[("trace", b"t1")])
    (out,) = d.output_records("out")
    assert (out.value, out.key, out.timestamp, out.headers) == (2, "k", 1234, [("trace", b"t1")])


def test_branch_sends_each_record_to_the_first_match_and_the_rest_to_default() -> None:
    p = pipeline()
    small, medium, rest = p.source("in").branch(lambda n: n < 10, lambda n: n < 100, default=True)
    small.to("small")
    medium.to("medium")
    rest.to("rest")
    d = PipelineTestDriver(p)
    for n in (5, 50, 500, 7):
        d.send("in", n)
    assert (d.output("small"), d.output("medium"), d.output("rest")) == ([5, 7], [50], [500])


def test_merge_and_route() -> None:
    p = pipeline()
    a, b = p.source("a"), p.source("b")
    a.merge(b).route(lambda v: f"level-{v['level']}")
    d = PipelineTestDriver(p)
    d.send("a", {"level": "info"})
    d.send("b", {"level": "error"})
    d.send("a", {"level": "error"})
    assert d.output("level-info") == [{"level": "info"}]
    assert d.output("level-error") == [{"level": "error"}, {"level": "error"}]


def test_a_source_of_several_topics_merges_them() -> None:
    p = pipeline()
    p.source(["a", "b"]).map(lambda v: v * 2).to("out")
    d = PipelineTestDriver(p)
    d.send("a", 1)
    d.send("b", 2)
    assert d.output("out") == [2, 4]


def test_key_by_repartitions_before_state_is_kept_by_the_new_key() -> None:
    p = pipeline()
    p.source("in").key_by(lambda v: v["user"]).aggregate(Count()).to("counts")
    assert [n.topic for s in p.subtopologies() for n in s.repartitions] == [
        "ops-aggregate-1-repartition"
    ]
    d = PipelineTestDriver(p, partitions={"in": 4})
    for i in range(6):
        d.send("in", {"user": "u1" if i % 3 else "u2"}, key=str(i))
    assert dict(d.keyed_output("counts")) == {"u1": 4, "u2": 2}


def test_no_repartition_when_the_key_is_not_changed() -> None:
    p = pipeline()
    p.source("in").aggregate(Count()).to("counts")
    assert [s.repartitions for s in p.subtopologies()] == [[]]


def test_stateless_operators_after_key_by_do_not_repartition() -> None:
    p = pipeline()
    p.source("in").key_by(lambda v: v).map(lambda v: v).to("out")
    assert [s.repartitions for s in p.subtopologies()] == [[]]
    d = PipelineTestDriver(p)
    d.send("in", "x", key="orig")
    assert d.keyed_output("out") == [("x", "x")]


def test_running_aggregate_with_named_aggregations() -> None:
    p = pipeline()
    p.source("in").aggregate(n=Count(), total=Sum("v")).to("out")
    d = PipelineTestDriver(p)
    for v in (1, 2, 3):
        d.send("in", {"v": v}, key="k")
    assert d.output("out")[-1] == {"n": 3, "total": 6}


def test_keyed_state_is_per_key_and_expires_in_event_time() -> None:
    p = pipeline()

    def remember(value: dict[str, Any], state: KeyState) -> Any:
        previous = state.get("last")
        state.set("last", value["v"], ttl_ms=100)
        return [previous, value["v"]]

    p.source("in").map(remember, stateful=True, name="last-seen").to("out")
    d = PipelineTestDriver(p)
    d.send("in", {"v": 1}, key="a", timestamp=0)
    d.send("in", {"v": 2}, key="b", timestamp=10)
    d.send("in", {"v": 3}, key="a", timestamp=50)
    d.send("in", {"v": 4}, key="a", timestamp=200)  # 'last' of a was set at 50: expired at 150
    assert d.output("out") == [[None, 1], [None, 2], [1, 3], [None, 4]]


def test_keyed_state_delete() -> None:
    p = pipeline()

    def toggle(value: Any, state: KeyState) -> bool:
        if state.get("seen"):
            state.delete("seen")
            return False
        state.set("seen", True)
        return True

    p.source("in").filter(toggle, stateful=True).to("out")
    d = PipelineTestDriver(p)
    for i in range(5):
        d.send("in", i, key="k")
    assert d.output("out") == [0, 2, 4]


def test_an_exception_sends_the_record_to_dead_letters_and_the_rest_flow_on() -> None:
    p = pipeline()
    p.source("in").map(lambda v: 10 // v).to("out")
    d = PipelineTestDriver(p)
    for v in (1, 0, 2):
        d.send("in", v)
    assert d.output("out") == [10, 5]
    (dead,) = d.dead_letters
    assert (dead.record.value, dead.record.offset) == (0, 1)
    assert isinstance(dead.error, ZeroDivisionError)


def test_a_record_that_fails_after_changing_state_leaves_no_trace() -> None:
    p = pipeline()
    counts = p.source("in").aggregate(Count())
    counts.to("counts")

    def check(record: Record) -> int:
        if record.header("boom"):
            raise RuntimeError("boom")
        return int(record.value)

    counts.map(check, record=True).to("after")  # fails after the count was updated
    d = PipelineTestDriver(p)
    d.send("in", "x", key="k")
    d.send("in", "x", key="k", headers=[("boom", b"1")])
    d.send("in", "x", key="k")
    # the 2nd record is undone whole: its count update and its outputs are gone
    assert d.output("counts") == [1, 2]
    assert d.output("after") == [1, 2]
    (dead,) = d.dead_letters
    assert dead.record.offset == 1


def test_on_error_stop_raises() -> None:
    p = pipeline(on_error="stop")
    p.source("in").map(lambda v: 1 // v).to("out")
    d = PipelineTestDriver(p)
    with pytest.raises(ZeroDivisionError):
        d.send("in", 0)


def test_a_value_the_sink_cannot_encode_is_a_dead_letter() -> None:
    p = pipeline()
    p.source("in").map(lambda v: {1, 2} if v else v).to("out")
    d = PipelineTestDriver(p)
    d.send("in", 1)
    d.send("in", 0)
    assert d.output("out") == [0]
    assert "JSON" in str(d.dead_letters[0].error)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda p: p.source("in").filter(None), "function"),
        (lambda p: p.source("in").map(len, name="x"), "stateful"),
        (lambda p: p.source("bad topic"), "letters"),
        (lambda p: p.source("in").aggregate(), "at least one"),
        (lambda p: p.source("in").aggregate(Count(), n=Count()), "not both"),
        (lambda p: p.source("in").aggregate(len), "not an Aggregator"),
        (lambda p: p.source("in").branch(), "predicate"),
        (lambda p: p.source("in").window(60_000), "not a window"),
    ],
)
def test_bad_definitions_are_refused_when_written(build: Any, message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        build(pipeline())


def test_two_stores_cannot_share_a_name() -> None:
    p = pipeline()
    p.source("a").aggregate(Count(), name="n")
    with pytest.raises(ValueError, match="named 'n'"):
        p.source("b").aggregate(Count(), name="n")


@pytest.mark.parametrize(
    "settings",
    [
        {"guarantee": "exactly_once_v2"},
        {"on_error": "ignore"},
        {"commit_interval_ms": 0},
        {"state_store": "sqlite"},
    ],
)
def test_bad_settings_are_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Pipeline("x", **settings)
