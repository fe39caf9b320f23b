"""A pipeline worker's status, as `/status`, `luong pipeline status` and the status
topic show it (the fields are listed in `status.py`).

Built on the worker's thread only: it calls the consumer (cached watermarks, and the
broker while the fetcher has not said where a partition ends).
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from typing import TYPE_CHECKING, Any

from confluent_kafka import KafkaException, TopicPartition

if TYPE_CHECKING:
    from luong.pipelines.status import StatusServer
    from luong.pipelines.worker import Worker

__all__ = ["StatusBuilder"]


class StatusBuilder:
    """Makes status dicts of `worker`; keeps what rates and end offsets need between
    two of them."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self._rates = (time.monotonic(), 0, 0, 0.0, 0.0)
        self._ends: dict[tuple[str, int], tuple[float, int]] = {}

    def build(self) -> dict[str, Any]:
        w = self.worker
        now_ms = int(time.time() * 1000)
        partitions = [self._partition(t, p, now_ms) for t, p in sorted(w._positions)]
        in_rate, out_rate = self._rate()
        late = [t.context.counters for t in w._tasks()]
        return {
            "pipeline": w.pipeline.name,
            "worker": w.slot.worker_id,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "http": self._http_url(),
            "state": w.state,
            "guarantee": w.pipeline.guarantee,
            "started_ms": w.started_ms,
            "updated_ms": now_ms,
            "partitions": partitions,
            **w.counts,
            "late_dropped": sum(c.late_dropped for c in late),
            "late_sent": sum(c.late_sent for c in late),
            "records_in_per_s": round(in_rate, 1),
            "records_out_per_s": round(out_rate, 1),
            "stores": self._stores(),
            "restore": dict(w.restored),
        }

    def _http_url(self) -> str | None:
        w = self.worker
        http: StatusServer | None = getattr(w, "http", None)
        return http.url if http is not None else None

    def _partition(self, topic: str, partition: int, now_ms: int) -> dict[str, Any]:
        w = self.worker
        position = w._positions[(topic, partition)]
        end = self._end_offset(topic, partition)
        lag = max(0, end - position) if end >= 0 and position >= 0 else None
        last = w._last_timestamp.get((topic, partition))
        lag_ms = 0 if lag == 0 else (now_ms - last if last is not None and lag else None)
        return {
            "topic": topic,
            "partition": partition,
            "position": position,
            "end": end,
            "lag": lag,
            "lag_ms": lag_ms,
        }

    def _end_offset(self, topic: str, partition: int) -> int:
        """The partition's end as the fetcher last saw it; asked of the broker (at most
        every 5 s) while the fetcher has not said, e.g. at the end with nothing new."""
        w = self.worker
        tp = TopicPartition(topic, partition)
        end = -1
        with contextlib.suppress(KafkaException):
            end = w.consumer.get_watermark_offsets(tp, cached=True)[1]
        if end >= 0:
            return end
        asked_at, known = self._ends.get((topic, partition), (0.0, -1))
        if time.monotonic() - asked_at >= 5.0:
            with contextlib.suppress(KafkaException):
                known = w.consumer.get_watermark_offsets(tp, timeout=0.5)[1]
            self._ends[(topic, partition)] = (time.monotonic(), known)
        return known

    def _stores(self) -> list[dict[str, Any]]:
        w = self.worker
        rows = []
        for task in w._tasks():
            for name, store in sorted(task.stores.items()):
                keys, size = store.backend.stats()
                rows.append(
                    {"name": name, "partition": task.partition, "keys": keys, "bytes": size}
                )
        for table in w.pipeline.tables.values():
            rows.append(
                {"name": table.name, "partition": None, "keys": len(table.versions), "bytes": None}
            )
        return rows

    def _rate(self) -> tuple[float, float]:
        w = self.worker
        at, seen_in, seen_out, in_rate, out_rate = self._rates
        now = time.monotonic()
        if now - at >= 1.0:
            in_rate = (w.counts["records_in"] - seen_in) / (now - at)
            out_rate = (w.counts["records_out"] - seen_out) / (now - at)
            self._rates = (
                now,
                w.counts["records_in"],
                w.counts["records_out"],
                in_rate,
                out_rate,
            )
        return in_rate, out_rate
