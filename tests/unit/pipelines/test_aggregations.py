"""Each aggregation against hand-computed expectations."""

from __future__ import annotations

import base64
import hashlib
import math
from typing import Any

import orjson
import pytest

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


def fold(agg: Aggregator[Any, Any], values: list[Any]) -> Any:
    acc = agg.initial()
    for value in values:
        acc = agg.add(acc, value)
    return acc


def result(agg: Aggregator[Any, Any], values: list[Any]) -> Any:
    return agg.result(fold(agg, values))


def round_trip(agg: Aggregator[Any, Any], acc: Any) -> Any:
    return agg.load(orjson.loads(orjson.dumps(agg.dump(acc))))


ORDERS = [{"amount": 3, "user": "a"}, {"amount": 5, "user": "b"}, {"amount": 1, "user": "a"}]


def test_count_counts_records_and_ignores_field() -> None:
    assert result(Count(), []) == 0
    assert result(Count(), [None]) == 1
    assert result(Count(field="amount"), ORDERS) == 3
    assert Count().merge(2, 5) == 7


@pytest.mark.parametrize(
    ("agg_type", "empty", "one", "several"),
    [(Sum, 0, 7, 13), (Min, None, 7, 1), (Max, None, 7, 9), (Mean, None, 7.0, 13 / 3)],
)
def test_numeric_aggregators(agg_type: Any, empty: Any, one: Any, several: Any) -> None:
    assert result(agg_type(), []) == empty
    assert result(agg_type(), [7]) == one
    assert result(agg_type(), [3, 9, 1]) == several


@pytest.mark.parametrize(("agg_type", "expected"), [(Sum, 9), (Min, 1), (Max, 5), (Mean, 3.0)])
def test_field_as_str_and_as_callable(agg_type: Any, expected: Any) -> None:
    assert result(agg_type(field="amount"), ORDERS) == expected
    assert result(agg_type(field=lambda order: order["amount"]), ORDERS) == expected


def test_sum_of_floats() -> None:
    assert result(Sum(), [0.5, 0.25]) == 0.75


def test_min_and_max_compare_strings_and_skip_none() -> None:
    assert result(Min(), ["pear", "apple", "fig"]) == "apple"
    assert result(Max(), ["pear", "apple", "fig"]) == "pear"
    assert result(Min(), [None, 4, None, 2]) == 2


def test_min_and_max_merge_with_an_empty_side() -> None:
    assert Min().merge(None, 3) == 3
    assert Max().merge(3, None) == 3
    assert Min().merge(None, None) is None


def test_mean_accumulator_is_sum_and_count() -> None:
    mean = Mean()
    acc = fold(mean, [1, 2, 6])
    assert acc == [9, 3]
    assert mean.result(round_trip(mean, acc)) == 3.0
    assert mean.result(mean.merge(acc, fold(mean, [11]))) == 5.0


def test_distinct_count_uses_canonical_json() -> None:
    values = [1, "1", 1.0, True, None, {"a": 1, "b": [2]}, {"b": [2], "a": 1}, [1, 2], [2, 1], 1]
    # 1, "1", 1.0, true, null, the dict (either key order), [1,2], [2,1]
    assert result(DistinctCount(), values) == 8
    assert result(DistinctCount(), []) == 0
    assert result(DistinctCount(field="user"), ORDERS) == 2
    assert result(DistinctCount(field=lambda order: order["user"].upper()), ORDERS) == 2


def test_distinct_count_dump_is_a_sorted_list_of_encodings() -> None:
    agg = DistinctCount()
    acc = fold(agg, ["b", {"y": 1, "x": 2}, "a", "b"])
    assert agg.dump(acc) == ['"a"', '"b"', '{"x":2,"y":1}']
    restored = round_trip(agg, acc)
    assert agg.result(agg.add(restored, "c")) == 4


def test_distinct_count_merge_is_union() -> None:
    agg = DistinctCount()
    assert agg.result(agg.merge(fold(agg, [1, 2, 3]), fold(agg, [3, 4]))) == 4


def test_top_k_orders_by_count_then_canonical_encoding() -> None:
    values = ["b", "a", "c", "b", "c", "d", "b", 3]
    assert result(TopK(2), values) == [["b", 3], ["c", 2]]
    # "a", "d" and 3 tie at 1; their encodings '"a"' < '"d"' < '3' since '"' < '3'.
    assert result(TopK(5), values) == [["b", 3], ["c", 2], ["a", 1], ["d", 1], [3, 1]]
    assert result(TopK(3), []) == []


def test_top_k_counts_dicts_regardless_of_key_order_and_selects_fields() -> None:
    values = [{"a": 1, "b": 2}, {"b": 2, "a": 1}, {"a": 2}]
    assert result(TopK(1), values) == [[{"a": 1, "b": 2}, 2]]
    assert result(TopK(1, field="user"), ORDERS) == [["a", 2]]
    assert result(TopK(1, field=lambda order: order["amount"] > 2), ORDERS) == [[True, 2]]


def test_top_k_merges_counts_and_round_trips() -> None:
    agg = TopK(2)
    merged = agg.merge(fold(agg, ["x", "y"]), fold(agg, ["y", "z", "z", "z"]))
    assert agg.result(merged) == [["z", 3], ["y", 2]]
    assert agg.dump(merged) == {'"x"': 1, '"y"': 2, '"z"': 3}
    assert agg.result(agg.add(round_trip(agg, merged), "x")) == [["z", 3], ["x", 2]]


def test_top_k_needs_a_positive_k() -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        TopK(0)


def test_collect_keeps_arrival_order_and_merge_appends() -> None:
    agg = Collect()
    assert result(agg, []) == []
    assert result(agg, [3, 1, 3]) == [3, 1, 3]
    assert agg.result(agg.merge(fold(agg, [1, 2]), fold(agg, [0]))) == [1, 2, 0]
    assert result(Collect(field="user"), ORDERS) == ["a", "b", "a"]
    assert result(Collect(field=lambda order: order["amount"] * 2), ORDERS) == [6, 10, 2]


def test_collect_result_is_a_copy() -> None:
    agg = Collect()
    acc = fold(agg, [1])
    agg.result(acc).append(2)
    assert agg.result(acc) == [1]


def test_reduce_starts_from_a_deep_copy_of_initial() -> None:
    start: dict[str, list[int]] = {"seen": []}

    def remember(acc: dict[str, list[int]], value: int) -> dict[str, list[int]]:
        acc["seen"].append(value)
        return acc

    agg = Reduce(remember, start)
    assert result(agg, [1, 2]) == {"seen": [1, 2]}
    assert result(agg, [3]) == {"seen": [3]}
    assert start == {"seen": []}


def test_reduce_calls_a_callable_initial_and_selects_fields() -> None:
    agg = Reduce(lambda acc, value: acc * value, lambda: 1, field="amount")
    assert result(agg, []) == 1
    assert result(agg, ORDERS) == 15


def test_reduce_merges_with_the_users_merge() -> None:
    agg = Reduce(lambda acc, value: acc + value, 0, merge=lambda left, right: left + right)
    assert agg.result(agg.merge(fold(agg, [1, 2]), fold(agg, [4]))) == 7


def test_reduce_without_merge_cannot_merge() -> None:
    agg = Reduce(lambda acc, value: acc + value, 0)
    with pytest.raises(TypeError, match="Reduce needs merge= to be used in session windows"):
        agg.merge(1, 2)


def test_approx_distinct_count_small_counts_are_exact() -> None:
    agg = ApproxDistinctCount()
    assert result(agg, []) == 0
    assert result(agg, ["only"]) == 1
    assert result(agg, ["a", "b", "a", {"k": [1]}, {"k": [1]}, 1, 1.0]) == 5


def test_approx_distinct_count_register_is_the_blake2b_rank() -> None:
    agg = ApproxDistinctCount(precision=4)
    acc = agg.add(agg.initial(), {"b": 1, "a": 2})
    h = int.from_bytes(hashlib.blake2b(b'{"a":2,"b":1}', digest_size=8).digest(), "big")
    index, rest = h >> 60, h & (2**60 - 1)
    assert acc[index] == 60 - rest.bit_length() + 1
    assert sum(1 for register in acc if register) == 1


def test_approx_distinct_count_dump_is_base64_and_merge_is_max() -> None:
    agg = ApproxDistinctCount(precision=4)
    left, right = bytearray(16), bytearray(16)
    left[0], left[1], right[1], right[2] = 3, 1, 5, 2
    assert agg.dump(left) == base64.b64encode(bytes(left)).decode()
    assert agg.merge(left, right) == bytearray([3, 5, 2] + [0] * 13)
    assert round_trip(agg, left) == left


def test_approx_distinct_count_estimator_without_linear_counting() -> None:
    agg = ApproxDistinctCount(precision=4)
    registers = bytearray([4] * 16)  # no empty register: the raw estimate applies
    assert agg.result(registers) == round(0.673 * 16 * 16 / (16 * 2**-4))


def test_approx_distinct_count_linear_counting() -> None:
    agg = ApproxDistinctCount(precision=4)
    registers = bytearray([1] * 4 + [0] * 12)
    assert agg.result(registers) == round(16 * math.log(16 / 12))


@pytest.mark.parametrize("precision", [3, 17, 0, -1, True, 12.0])
def test_approx_distinct_count_rejects_bad_precision(precision: Any) -> None:
    with pytest.raises(ValueError, match="precision"):
        ApproxDistinctCount(precision=precision)


def test_approx_distinct_count_rejects_registers_of_another_precision() -> None:
    small, large = ApproxDistinctCount(precision=4), ApproxDistinctCount(precision=5)
    with pytest.raises(ValueError, match="32 HyperLogLog registers, got 16"):
        large.load(small.dump(small.initial()))
    with pytest.raises(ValueError, match="16 HyperLogLog registers, got 32"):
        small.merge(small.initial(), large.initial())


def test_precision_bounds_are_accepted() -> None:
    assert len(ApproxDistinctCount(precision=4).initial()) == 16
    assert len(ApproxDistinctCount(precision=16).initial()) == 65536
