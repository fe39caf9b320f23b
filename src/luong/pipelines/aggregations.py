"""Aggregations for windowed and keyed aggregation operators.

An `Aggregator` is a small algebra over an accumulator: `initial()` makes an empty one,
`add(acc, value)` folds in one record's value, `merge(left, right)` combines two (session
windows merge when a record bridges them) and `result(acc)` is what the user sees.

The contract every aggregator keeps:

- **Mutation is allowed.** `add` and `merge` may change their accumulator arguments in
  place, so a caller must use the returned accumulator and must not reuse an argument it
  passed in. Nothing else holds on to an accumulator.
- **The merge law.** `result(fold(xs + ys)) == result(merge(fold(xs), fold(ys)))`. For
  floating-point sums this holds up to rounding only (addition order changes).
- **JSON-able state.** `dump(acc)` returns dicts, lists, str, int, float, bool and None
  only (no bytes, sets or tuples), so the state store and its changelog can write it with
  orjson; `load(orjson.loads(orjson.dumps(dump(acc))))` gives an accumulator with the same
  result that further `add`/`merge` correctly.

Every aggregator but `Count` takes `field`: None aggregates the record value itself, a
str aggregates `value[field]`, a callable aggregates `field(value)`.

Values that are compared as distinct (`DistinctCount`, `ApproxDistinctCount`, `TopK`) are
identified by their canonical orjson encoding (keys sorted), so `1`, `1.0` and `True` are
three values, dicts compare regardless of key order, and NaN and the infinities encode as
`null` (orjson's behaviour) and so count as None.

`ApproxDistinctCount` is a HyperLogLog with m = 2**precision registers. Its relative
standard error is about 1.04/sqrt(m) (1.6% at the default precision 12, 4 KiB of
registers); below 2.5*m it switches to linear counting, which is near exact.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

import orjson

__all__ = [
    "Aggregator",
    "ApproxDistinctCount",
    "Collect",
    "Count",
    "DistinctCount",
    "Field",
    "Max",
    "Mean",
    "Min",
    "Reduce",
    "Sum",
    "TopK",
]

A = TypeVar("A")
R = TypeVar("R")

Field = str | Callable[[Any], Any] | None
"""What an aggregator aggregates: the value (None), `value[field]` (str) or `field(value)`."""


def _select(field: Field, value: Any) -> Any:
    """The part of a record's value that `field` selects."""
    if field is None:
        return value
    if isinstance(field, str):
        return value[field]
    return field(value)


def _canonical(value: Any) -> bytes:
    """The canonical orjson encoding of a JSON value: equal values, equal bytes."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


class Aggregator(ABC, Generic[A, R]):
    """An aggregation over an accumulator of type `A` with a result of type `R`.

    Stateless itself (settings only), so one instance serves every key and window; the
    accumulators belong to the operator that calls it. See the module docstring for the
    mutation, merge and dump/load contract.
    """

    @abstractmethod
    def initial(self) -> A:
        """A fresh, empty accumulator."""

    @abstractmethod
    def add(self, acc: A, value: Any) -> A:
        """Fold one record's value into `acc` (maybe in place) and return the accumulator."""

    @abstractmethod
    def merge(self, left: A, right: A) -> A:
        """Combine two accumulators (maybe into `left` in place) and return the result."""

    @abstractmethod
    def result(self, acc: A) -> R:
        """What the user sees for `acc`."""

    def dump(self, acc: A) -> Any:
        """`acc` as a value orjson can serialise (identity by default)."""
        return acc

    def load(self, data: Any) -> A:
        """The accumulator `dump` gave `data` for, after a JSON round trip."""
        return cast(A, data)


class Count(Aggregator[int, int]):
    """Counts records. The accumulator is the count, an int; `field` is ignored."""

    def __init__(self, field: Field = None) -> None:
        del field  # accepted so every aggregator can be built the same way

    def initial(self) -> int:
        return 0

    def add(self, acc: int, value: Any) -> int:
        return acc + 1

    def merge(self, left: int, right: int) -> int:
        return left + right

    def result(self, acc: int) -> int:
        return acc


class Sum(Aggregator[Any, Any]):
    """Sums the selected numbers. The accumulator is the running sum (0 when empty)."""

    def __init__(self, field: Field = None) -> None:
        self.field = field

    def initial(self) -> Any:
        return 0

    def add(self, acc: Any, value: Any) -> Any:
        return acc + _select(self.field, value)

    def merge(self, left: Any, right: Any) -> Any:
        return left + right

    def result(self, acc: Any) -> Any:
        return acc


class _Extreme(Aggregator[Any, Any]):
    """Min or Max. The accumulator is the extreme so far, or None when empty; selected
    values must be mutually comparable, and a None one is skipped."""

    def __init__(self, field: Field = None) -> None:
        self.field = field

    @abstractmethod
    def _better(self, candidate: Any, current: Any) -> bool:
        """Whether `candidate` replaces `current`."""

    def initial(self) -> Any:
        return None

    def add(self, acc: Any, value: Any) -> Any:
        return self.merge(acc, _select(self.field, value))

    def merge(self, left: Any, right: Any) -> Any:
        if left is None or (right is not None and self._better(right, left)):
            return right
        return left

    def result(self, acc: Any) -> Any:
        return acc


class Min(_Extreme):
    """The smallest selected value. The accumulator is that value, None when empty."""

    def _better(self, candidate: Any, current: Any) -> bool:
        return bool(candidate < current)


class Max(_Extreme):
    """The largest selected value. The accumulator is that value, None when empty."""

    def _better(self, candidate: Any, current: Any) -> bool:
        return bool(candidate > current)


class Mean(Aggregator[list[Any], float | None]):
    """The arithmetic mean of the selected numbers. The accumulator is `[sum, count]`;
    the result is None when empty."""

    def __init__(self, field: Field = None) -> None:
        self.field = field

    def initial(self) -> list[Any]:
        return [0, 0]

    def add(self, acc: list[Any], value: Any) -> list[Any]:
        acc[0] += _select(self.field, value)
        acc[1] += 1
        return acc

    def merge(self, left: list[Any], right: list[Any]) -> list[Any]:
        left[0] += right[0]
        left[1] += right[1]
        return left

    def result(self, acc: list[Any]) -> float | None:
        return acc[0] / acc[1] if acc[1] else None

    def load(self, data: Any) -> list[Any]:
        return list(data)


class DistinctCount(Aggregator[set[str], int]):
    """The exact number of distinct selected values (any JSON value).

    The accumulator is a set of the values' canonical encodings (str); it is dumped as a
    sorted list of them. Memory grows with the number of distinct values.
    """

    def __init__(self, field: Field = None) -> None:
        self.field = field

    def initial(self) -> set[str]:
        return set()

    def add(self, acc: set[str], value: Any) -> set[str]:
        acc.add(_canonical(_select(self.field, value)).decode())
        return acc

    def merge(self, left: set[str], right: set[str]) -> set[str]:
        left |= right
        return left

    def result(self, acc: set[str]) -> int:
        return len(acc)

    def dump(self, acc: set[str]) -> Any:
        return sorted(acc)

    def load(self, data: Any) -> set[str]:
        return set(data)


class ApproxDistinctCount(Aggregator[bytearray, int]):
    """An estimate of the number of distinct selected values: HyperLogLog.

    The accumulator is a bytearray of m = 2**precision registers. A value's hash is the
    64-bit big-endian blake2b (digest_size=8) of its canonical encoding, deterministic
    across processes; its top `precision` bits pick a register, which keeps the largest
    rank (1 + leading zeros) of the remaining bits. Dumped as base64 text; merge is the
    per-register max. `precision` is 4..16; the error is about 1.04/sqrt(m).
    """

    def __init__(self, field: Field = None, precision: int = 12) -> None:
        if isinstance(precision, bool) or not isinstance(precision, int):
            raise ValueError(f"precision must be an int from 4 to 16, not {precision!r}")
        if not 4 <= precision <= 16:
            raise ValueError(f"precision must be from 4 to 16, not {precision}")
        self.field = field
        self.precision = precision
        self.registers = 1 << precision

    def initial(self) -> bytearray:
        return bytearray(self.registers)

    def add(self, acc: bytearray, value: Any) -> bytearray:
        digest = hashlib.blake2b(_canonical(_select(self.field, value)), digest_size=8)
        h = int.from_bytes(digest.digest(), "big")
        rest_bits = 64 - self.precision
        index = h >> rest_bits
        rank = rest_bits - (h & ((1 << rest_bits) - 1)).bit_length() + 1
        acc[index] = max(acc[index], rank)
        return acc

    def merge(self, left: bytearray, right: bytearray) -> bytearray:
        self._check(right)
        return bytearray(map(max, left, right))

    def result(self, acc: bytearray) -> int:
        m = self.registers
        estimate = _alpha(m) * m * m / math.fsum(2.0**-r for r in acc)
        zeros = acc.count(0)
        if estimate <= 2.5 * m and zeros:
            estimate = m * math.log(m / zeros)  # linear counting for small cardinalities
        return round(estimate)

    def dump(self, acc: bytearray) -> Any:
        return base64.b64encode(acc).decode("ascii")

    def load(self, data: Any) -> bytearray:
        return self._check(bytearray(base64.b64decode(data, validate=True)))

    def _check(self, acc: bytearray) -> bytearray:
        if len(acc) != self.registers:
            raise ValueError(f"expected {self.registers} HyperLogLog registers, got {len(acc)}")
        return acc


def _alpha(m: int) -> float:
    """HyperLogLog's bias correction constant for m registers (Flajolet et al., 2007)."""
    return {16: 0.673, 32: 0.697, 64: 0.709}.get(m, 0.7213 / (1 + 1.079 / m))


class TopK(Aggregator[dict[str, int], list[list[Any]]]):
    """The k most frequent selected values, with exact counts.

    The accumulator is a dict from each distinct value's canonical encoding (str) to its
    count. The result is a list of `[value, count]`, at most k long, by count descending,
    ties by canonical encoding ascending. Memory grows with the number of distinct values.
    """

    def __init__(self, k: int, field: Field = None) -> None:
        if k < 1:
            raise ValueError(f"k must be at least 1, not {k}")
        self.k = k
        self.field = field

    def initial(self) -> dict[str, int]:
        return {}

    def add(self, acc: dict[str, int], value: Any) -> dict[str, int]:
        key = _canonical(_select(self.field, value)).decode()
        acc[key] = acc.get(key, 0) + 1
        return acc

    def merge(self, left: dict[str, int], right: dict[str, int]) -> dict[str, int]:
        for key, count in right.items():
            left[key] = left.get(key, 0) + count
        return left

    def result(self, acc: dict[str, int]) -> list[list[Any]]:
        ranked = sorted(acc.items(), key=lambda item: (-item[1], item[0]))
        return [[orjson.loads(key), count] for key, count in ranked[: self.k]]

    def load(self, data: Any) -> dict[str, int]:
        return dict(data)


class Collect(Aggregator[list[Any], list[Any]]):
    """Every selected value, in arrival order. The accumulator is that list; merge
    appends right to left. Values must be JSON-able for `dump`."""

    def __init__(self, field: Field = None) -> None:
        self.field = field

    def initial(self) -> list[Any]:
        return []

    def add(self, acc: list[Any], value: Any) -> list[Any]:
        acc.append(_select(self.field, value))
        return acc

    def merge(self, left: list[Any], right: list[Any]) -> list[Any]:
        left.extend(right)
        return left

    def result(self, acc: list[Any]) -> list[Any]:
        return list(acc)


class Reduce(Aggregator[A, A]):
    """A user reducer: the accumulator is `fn(... fn(initial, v1) ..., vn)`.

    Each accumulator starts from `initial()` when `initial` is callable, else from a deep
    copy of `initial`. `merge` is the user's `merge(left, right)`; without one, merging
    (which session windows need) raises TypeError. The accumulator must be JSON-able for
    `dump` (identity) and the user's functions must accept what a JSON round trip gives
    back (lists for tuples, str keys).
    """

    def __init__(
        self,
        fn: Callable[[A, Any], A],
        initial: A | Callable[[], A],
        merge: Callable[[A, A], A] | None = None,
        field: Field = None,
    ) -> None:
        self.fn = fn
        self._initial = initial
        self._merge = merge
        self.field = field

    def initial(self) -> A:
        if callable(self._initial):
            return self._initial()
        return copy.deepcopy(self._initial)

    def add(self, acc: A, value: Any) -> A:
        return self.fn(acc, _select(self.field, value))

    def merge(self, left: A, right: A) -> A:
        if self._merge is None:
            raise TypeError("Reduce needs merge= to be used in session windows")
        return self._merge(left, right)

    def result(self, acc: A) -> A:
        return acc
