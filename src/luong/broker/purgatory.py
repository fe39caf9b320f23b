"""FetchPurgatory: long-polling fetches wait here until data arrives or time runs out.

Keyed by partition; `notify(tp)` (wired to the storage's append listener) wakes
every fetch waiting on `tp`. Owned by the broker's event loop. The timeout uses
the loop's own timer: a fetch's max_wait is wall time for the client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from luong.types import TopicPartition

__all__ = ["FetchPurgatory"]


class FetchPurgatory:
    """Waiting fetches by partition."""

    def __init__(self) -> None:
        self._waiting: dict[TopicPartition, set[asyncio.Future[None]]] = {}

    async def wait(self, partitions: Iterable[TopicPartition], timeout_s: float) -> bool:
        """Wait until one of `partitions` gets data (True) or `timeout_s` passes (False)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        keys = list(partitions)
        for tp in keys:
            self._waiting.setdefault(tp, set()).add(waiter)
        try:
            done, _ = await asyncio.wait([waiter], timeout=timeout_s)
            return bool(done)
        finally:
            waiter.cancel()
            for tp in keys:
                waiters = self._waiting.get(tp)
                if waiters is not None:
                    waiters.discard(waiter)
                    if not waiters:
                        del self._waiting[tp]

    def notify(self, tp: TopicPartition) -> None:
        for waiter in self._waiting.pop(tp, ()):
            if not waiter.done():
                waiter.set_result(None)
