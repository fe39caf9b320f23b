"""Event-time windows: which windows a timestamp falls in.

All times are milliseconds since the epoch; a `Window` is `[start, end)` (end
exclusive). Four kinds, as Kafka Streams has them:

    tumbling(size)           fixed, back to back: [k*size, (k+1)*size)
    hopping(size, advance)   fixed, overlapping: [k*advance, k*advance + size)
    sliding(size)            one window per distinct record time t: [t - size, t + 1),
                             i.e. every record within `size` ms before t, t included
    session(gap)             per key, records closer than `gap` ms to a neighbour share
                             a window [first, last + 1)

Lateness (with a `grace_ms` given to `Stream.window`). A task's stream time is the
greatest record time it has seen, the current record included. A fixed window
closes, and its final result is emitted, once `end + grace <= stream time`; a record
all of whose windows are closed is late. For sliding and session windows a record is
late when `timestamp < stream time - grace` (the watermark): a sliding window ending
at t closes at `stream time >= t + 1 + grace`, a session `[s, e + 1)` once the
watermark reaches `e + gap`, after which no record that is not late can join it.
The same records in the same order give the same results, live or replayed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

__all__ = [
    "HoppingWindows",
    "SessionWindows",
    "SlidingWindows",
    "TumblingWindows",
    "Window",
    "WindowSpec",
    "hopping",
    "session",
    "sliding",
    "to_ms",
    "tumbling",
]


class Window(NamedTuple):
    """`[start, end)` in milliseconds (`windows_for` gives plain `(start, end)` tuples,
    which compare equal)."""

    start: int
    end: int


def to_ms(duration: int | timedelta, what: str) -> int:
    """Milliseconds from an int (already ms) or a timedelta; must be positive."""
    ms = int(duration.total_seconds() * 1000) if isinstance(duration, timedelta) else duration
    if not isinstance(ms, int) or isinstance(ms, bool) or ms <= 0:
        raise ValueError(f"{what} must be a positive number of milliseconds, got {duration!r}")
    return ms


class WindowSpec:
    """A kind of window; `kind` names it in store names and results."""

    kind: str = ""

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class TumblingWindows(WindowSpec):
    """Back-to-back windows of `size_ms`."""

    size_ms: int
    kind = "tumbling"

    def windows_for(self, timestamp: int) -> tuple[tuple[int, int], ...]:
        start = timestamp - timestamp % self.size_ms
        return ((start, start + self.size_ms),)

    def describe(self) -> str:
        return f"tumbling-{self.size_ms}"


@dataclass(frozen=True, slots=True)
class HoppingWindows(WindowSpec):
    """Windows of `size_ms` starting every `advance_ms` (advance <= size)."""

    size_ms: int
    advance_ms: int
    kind = "hopping"

    def windows_for(self, timestamp: int) -> tuple[tuple[int, int], ...]:
        last = timestamp - timestamp % self.advance_ms
        first = last - (self.size_ms - 1) // self.advance_ms * self.advance_ms
        size = self.size_ms
        starts = range(first, last + 1, self.advance_ms)
        return tuple((s, s + size) for s in starts if s + size > timestamp)

    def describe(self) -> str:
        return f"hopping-{self.size_ms}-{self.advance_ms}"


@dataclass(frozen=True, slots=True)
class SlidingWindows(WindowSpec):
    """For each distinct record time t, the records in `[t - size_ms, t]`."""

    size_ms: int
    kind = "sliding"

    def describe(self) -> str:
        return f"sliding-{self.size_ms}"


@dataclass(frozen=True, slots=True)
class SessionWindows(WindowSpec):
    """Per key, runs of records less than `gap_ms` apart."""

    gap_ms: int
    kind = "session"

    def describe(self) -> str:
        return f"session-{self.gap_ms}"


def tumbling(size: int | timedelta) -> TumblingWindows:
    """Fixed windows of `size` (ms or a timedelta), one after another."""
    return TumblingWindows(to_ms(size, "a window's size"))


def hopping(size: int | timedelta, advance: int | timedelta) -> HoppingWindows:
    """Fixed windows of `size` starting every `advance` (at most `size`)."""
    size_ms, advance_ms = to_ms(size, "a window's size"), to_ms(advance, "a window's advance")
    if advance_ms > size_ms:
        raise ValueError(f"a hopping window's advance ({advance_ms} ms) exceeds its size")
    return HoppingWindows(size_ms, advance_ms)


def sliding(size: int | timedelta) -> SlidingWindows:
    """Each record's look-back: the records of its key within `size` before it."""
    return SlidingWindows(to_ms(size, "a window's size"))


def session(gap: int | timedelta) -> SessionWindows:
    """Activity sessions per key, closed by `gap` without a record."""
    return SessionWindows(to_ms(gap, "a session's gap"))
