"""Properties of the aggregations: the merge law, the dump/load round trip, agreement
with a brute-force computation, and the HyperLogLog's error bound."""

from __future__ import annotations

import collections
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from luong.pipelines.aggregations import (
    Aggregator,
    ApproxDistinctCount,
    Collect,
    Count,
    DistinctCount,
    Max,
    Mean,
    Min,
    Reduce,
    Sum,
    TopK,
)

PROPERTY = settings(max_examples=30, deadline=None)

# orjson encodes ints within 64 bits only; small ints keep sums in range and exact.
INTS = st.integers(min_value=-(2**31), max_value=2**31)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=6,
)
# Few distinct values, so TopK and DistinctCount see repeats and ties.
REPEATING = st.sampled_from(["a", "b", "c", 1, 1.0, True, None, [1], {"k": 1}]) | JSON
COMPARABLE = st.lists(INTS, max_size=30) | st.lists(st.text(max_size=4), max_size=30)


def _canonical(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _tally(acc: dict[str, int], value: int) -> dict[str, int]:
    acc["n"] += 1
    acc["total"] += value
    return acc


def _merge_tallies(left: dict[str, int], right: dict[str, int]) -> dict[str, int]:
    return {"n": left["n"] + right["n"], "total": left["total"] + right["total"]}


def _top(values: list[Any], k: int) -> list[list[Any]]:
    counts = collections.Counter(_canonical(v) for v in values)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:k]
    return [[orjson.loads(key), count] for key, count in ranked]


@dataclass(frozen=True)
class Case:
    """An aggregator, the values it takes and (if exact) a brute-force result."""

    name: str
    make: Callable[[], Aggregator[Any, Any]]
    values: st.SearchStrategy[list[Any]]
    brute: Callable[[list[Any]], Any] | None = None

    def __str__(self) -> str:
        return self.name


def _lists(elements: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    return st.lists(elements, max_size=30)


CASES = [
    Case("count", Count, _lists(JSON), len),
    Case("sum", Sum, _lists(INTS), sum),
    Case(
        "sum-field",
        lambda: Sum(field="amount"),
        _lists(st.fixed_dictionaries({"amount": INTS})),
        lambda vs: sum(v["amount"] for v in vs),
    ),
    Case(
        "sum-callable",
        lambda: Sum(field=lambda v: v[0] * 2),
        _lists(st.tuples(INTS)),
        lambda vs: sum(v[0] * 2 for v in vs),
    ),
    Case("min", Min, COMPARABLE, lambda vs: min(vs, default=None)),
    Case("max", Max, COMPARABLE, lambda vs: max(vs, default=None)),
    Case("mean", Mean, _lists(INTS), lambda vs: sum(vs) / len(vs) if vs else None),
    Case("distinct", DistinctCount, _lists(REPEATING), lambda vs: len({_canonical(v) for v in vs})),
    Case(
        "distinct-hashable",
        DistinctCount,
        _lists(st.integers(0, 20) | st.sampled_from("abcde")),
        lambda vs: len(set(vs)),
    ),
    Case("approx-distinct", ApproxDistinctCount, _lists(REPEATING)),
    Case("approx-distinct-p4", lambda: ApproxDistinctCount(precision=4), _lists(INTS)),
    Case("top-3", lambda: TopK(3), _lists(REPEATING), lambda vs: _top(vs, 3)),
    Case(
        "top-2-field",
        lambda: TopK(2, field="user"),
        _lists(st.fixed_dictionaries({"user": st.sampled_from("xyz")})),
        lambda vs: _top([v["user"] for v in vs], 2),
    ),
    Case("collect", Collect, _lists(JSON), list),
    Case(
        "reduce",
        lambda: Reduce(operator.add, lambda: 0, merge=operator.add),
        _lists(INTS),
        sum,
    ),
    Case(
        "reduce-dict",
        lambda: Reduce(_tally, {"n": 0, "total": 0}, merge=_merge_tallies),
        _lists(INTS),
        lambda vs: {"n": len(vs), "total": sum(vs)},
    ),
]


def fold(agg: Aggregator[Any, Any], values: list[Any], acc: Any = None) -> Any:
    acc = agg.initial() if acc is None else acc
    for value in values:
        acc = agg.add(acc, value)
    return acc


def is_json(data: Any) -> bool:
    """Whether `data` is made of dict (str keys), list, str, int, float, bool and None only."""
    if isinstance(data, dict):
        return all(isinstance(k, str) and is_json(v) for k, v in data.items())
    if isinstance(data, list):
        return all(is_json(item) for item in data)
    return data is None or isinstance(data, str | int | float)


def round_trip(agg: Aggregator[Any, Any], acc: Any) -> Any:
    dumped = agg.dump(acc)
    assert is_json(dumped)
    return agg.load(orjson.loads(orjson.dumps(dumped)))


def _draw_split(data: st.DataObject, case: Case) -> tuple[list[Any], int]:
    values = data.draw(case.values, label="values")
    return values, data.draw(st.integers(0, len(values)), label="split")


@pytest.mark.parametrize("case", CASES, ids=str)
@PROPERTY
@given(data=st.data())
def test_merge_of_folds_equals_fold_of_all(case: Case, data: st.DataObject) -> None:
    values, at = _draw_split(data, case)
    agg = case.make()
    whole = agg.result(fold(agg, values))
    assert agg.result(agg.merge(fold(agg, values[:at]), fold(agg, values[at:]))) == whole


@pytest.mark.parametrize("case", CASES, ids=str)
@PROPERTY
@given(data=st.data())
def test_dump_load_round_trip_then_continue(case: Case, data: st.DataObject) -> None:
    values, at = _draw_split(data, case)
    agg = case.make()
    whole = agg.result(fold(agg, values))
    assert agg.result(fold(agg, values[at:], round_trip(agg, fold(agg, values[:at])))) == whole
    restored = [round_trip(agg, fold(agg, part)) for part in (values[:at], values[at:])]
    assert agg.result(agg.merge(*restored)) == whole


@pytest.mark.parametrize("case", [c for c in CASES if c.brute is not None], ids=str)
@PROPERTY
@given(data=st.data())
def test_exact_aggregators_equal_brute_force(case: Case, data: st.DataObject) -> None:
    values = data.draw(case.values, label="values")
    agg = case.make()
    assert case.brute is not None
    assert agg.result(fold(agg, values)) == case.brute(values)


@PROPERTY
@given(values=st.sets(st.text(max_size=12) | INTS, max_size=20))
def test_approx_distinct_count_is_near_exact_for_small_counts(values: set[Any]) -> None:
    # Linear counting: with 4096 registers, 20 values collide rarely, 3 collisions ~never.
    agg = ApproxDistinctCount()
    assert abs(agg.result(fold(agg, sorted(values, key=_canonical))) - len(values)) <= 2


def test_approx_distinct_count_small_counts_fixed_inputs() -> None:
    agg = ApproxDistinctCount()
    acc = agg.initial()
    for n in range(1, 201):
        acc = agg.add(acc, f"small-{n}")
        assert abs(agg.result(acc) - n) <= 1 + 0.02 * n


@pytest.mark.parametrize("prefix", ["user", "order", "device"])
def test_approx_distinct_count_error_bound(prefix: str) -> None:
    agg = ApproxDistinctCount(precision=12)
    bound = 3 * 1.04 / math.sqrt(4096)
    acc = agg.initial()
    for n in range(1, 8001):
        acc = agg.add(acc, {"id": n, "kind": prefix})
        acc = agg.add(acc, {"kind": prefix, "id": n})  # the same value again
        if n in (2000, 5000, 8000):
            assert abs(agg.result(acc) - n) / n <= bound
