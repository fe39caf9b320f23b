"""Stream-table joins (versioned by record time) and interval joins, by hand."""

from __future__ import annotations

from luong.pipelines import Pipeline, PipelineTestDriver


def enrichment(how: str) -> tuple[Pipeline, PipelineTestDriver]:
    p = Pipeline("enrich", state_store="memory")
    customers = p.table("customers")
    (
        p.source("orders")
        .join(
            customers,
            on=lambda o: o["customer"],
            how=how,
            combine=lambda o, c: {**o, "name": None if c is None else c["name"]},
        )
        .to("enriched")
    )
    return p, PipelineTestDriver(p)


def test_a_stream_record_sees_the_table_as_it_was_at_its_time() -> None:
    _, d = enrichment("inner")
    d.send("customers", {"name": "An"}, key="c1", timestamp=100)
    d.send("customers", {"name": "An Nguyen"}, key="c1", timestamp=200)
    d.send("orders", {"id": 1, "customer": "c1"}, timestamp=150)
    d.send("orders", {"id": 2, "customer": "c1"}, timestamp=250)
    d.send("orders", {"id": 3, "customer": "c1"}, timestamp=50)  # before c1 existed
    d.send("orders", {"id": 4, "customer": "c2"}, timestamp=300)  # no such customer
    assert d.output("enriched") == [
        {"id": 1, "customer": "c1", "name": "An"},
        {"id": 2, "customer": "c1", "name": "An Nguyen"},
    ]


def test_a_left_join_keeps_records_without_a_match_and_a_tombstone_removes() -> None:
    _, d = enrichment("left")
    d.send("customers", {"name": "Binh"}, key="c1", timestamp=10)
    d.send("customers", None, key="c1", timestamp=20)  # deleted
    d.send("orders", {"id": 1, "customer": "c1"}, timestamp=15)
    d.send("orders", {"id": 2, "customer": "c1"}, timestamp=25)
    assert [o["name"] for o in d.output("enriched")] == ["Binh", None]


def test_the_join_key_defaults_to_the_record_key() -> None:
    p = Pipeline("k", state_store="memory")
    p.source("orders").join(p.table("customers")).to("out")
    d = PipelineTestDriver(p)
    d.send("customers", "Chi", key="c9", timestamp=0)
    d.send("orders", {"n": 1}, key="c9", timestamp=5)
    assert d.output("out") == [{"left": {"n": 1}, "right": "Chi"}]


def interval(how: str, within: int = 10, grace: int = 0) -> PipelineTestDriver:
    p = Pipeline("ij", state_store="memory")
    clicks, views = p.source("clicks"), p.source("views")
    clicks.join_within(
        views,
        within,
        how=how,
        grace_ms=grace,
        combine=lambda c, v: [c and c["id"], v and v["id"]],
    ).to("out")
    return PipelineTestDriver(p)


def test_an_interval_join_pairs_records_at_most_within_apart() -> None:
    d = interval("inner")
    d.send("views", {"id": "v1"}, key="u", timestamp=0)
    d.send("clicks", {"id": "c1"}, key="u", timestamp=5)  # 5 from v1
    d.send("views", {"id": "v2"}, key="u", timestamp=15)  # 10 from c1 (inclusive)
    d.send("clicks", {"id": "c2"}, key="x", timestamp=16)  # another key
    d.send("views", {"id": "v3"}, key="u", timestamp=26)  # 21 from c1: no
    assert d.output("out") == [["c1", "v1"], ["c1", "v2"]]
    (paired,) = [r for r in d.output_records("out") if r.value == ["c1", "v2"]]
    assert paired.timestamp == 15  # the later of the two


def test_left_and_outer_interval_joins_emit_the_lonely_once_they_cannot_match() -> None:
    for how, expected in (
        ("left", [["c1", None]]),
        ("outer", [["c1", None], [None, "v1"]]),
    ):
        d = interval(how, within=10)
        d.send("clicks", {"id": "c1"}, key="u", timestamp=0)
        d.send("views", {"id": "v1"}, key="w", timestamp=5)
        assert d.output("out") == []
        # stream time 100: nothing that is not late can match anything at 0 or 5 now
        d.send("clicks", {"id": "c2"}, key="z", timestamp=100)
        assert d.output("out") == expected, how


def test_an_interval_join_drops_late_records() -> None:
    d = interval("inner", within=10, grace=5)
    d.send("views", {"id": "v1"}, key="u", timestamp=50)
    d.send("clicks", {"id": "c1"}, key="u", timestamp=44)  # 6 behind, grace 5: late
    d.send("clicks", {"id": "c2"}, key="u", timestamp=46)  # 4 behind: on time
    assert d.output("out") == [["c2", "v1"]]
