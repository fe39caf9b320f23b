"""When each key of a stateful operator must be looked at again."""

from __future__ import annotations

import heapq

__all__ = ["Visits"]


class Visits:
    """When each key must be looked at again (a window closes, a buffer ages out):
    a heap of (time, key) with the latest wish per key; stale heap entries are
    skipped."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, bytes]] = []
        self._due: dict[bytes, int] = {}

    def at(self, time: int, kb: bytes) -> None:
        current = self._due.get(kb)
        if current is None or time < current:
            self._due[kb] = time
            heapq.heappush(self._heap, (time, kb))

    def due(self, now: int) -> list[bytes]:
        """Keys whose time has come (in key order), forgotten until asked again."""
        keys = []
        while self._heap and self._heap[0][0] <= now:
            time, kb = heapq.heappop(self._heap)
            if self._due.get(kb) == time:
                del self._due[kb]
                keys.append(kb)
        keys.sort()
        return keys
