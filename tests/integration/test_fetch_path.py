"""Fetch responses arrive byte-exact whether the socket takes them at once or not.

Stored records leave by `os.sendfile` while the connection has nothing buffered and
as memory-mapped views otherwise (server/connection.py); a client that does not
read for a while makes one response take both paths.
"""

from __future__ import annotations

import random
import time

from confluent_kafka import Producer

from luong.protocol.records import decode_batches, split_batches
from luong.testing.node import LuongProcess
from luong.testing.wire import WireClient, request_frame

RECORDS = 2_000
RECORD_BYTES = 8 << 10  # 16 MiB in all: far more than a loopback socket buffers


def _fetch(offset: int, max_bytes: int, correlation_id: int) -> bytes:
    partition = {
        "partition": 0,
        "current_leader_epoch": -1,
        "fetch_offset": offset,
        "last_fetched_epoch": -1,
        "log_start_offset": -1,
        "partition_max_bytes": max_bytes,
    }
    body = {
        "replica_id": -1,
        "max_wait": 100,
        "min_bytes": 1,
        "max_bytes": max_bytes,
        "isolation_level": 0,
        "session_id": 0,
        "session_epoch": -1,
        "topics": [{"topic": "big", "partitions": [partition]}],
        "forgotten_topics_data": [],
        "rack_id": "",
    }
    return request_frame(1, 12, body, correlation_id=correlation_id)


def _values(response: object) -> list[bytes | None]:
    [topic] = response.responses  # type: ignore[attr-defined]
    [partition] = topic.partitions
    assert partition.error_code == 0
    batches = decode_batches(b"".join(bytes(b) for b in split_batches(partition.records)))
    return [record.value for batch in batches for record in batch.records]


def test_a_slow_reader_gets_every_byte_of_large_fetches(luong: LuongProcess) -> None:
    rng = random.Random(7)
    values = [rng.randbytes(RECORD_BYTES) for _ in range(RECORDS)]
    producer = Producer({"bootstrap.servers": luong.bootstrap, "linger.ms": 20})
    for value in values:
        producer.produce("big", value, partition=0)
    assert producer.flush(30) == 0

    with WireClient("127.0.0.1", luong.port, timeout_s=30) as wire:
        wire.send_raw(_fetch(0, 32 << 20, 1) + _fetch(RECORDS // 2, 32 << 20, 2))
        time.sleep(0.5)  # the server fills the socket, then buffers the rest
        first = _values(wire.receive(1, 12, 1))
        second = _values(wire.receive(1, 12, 2))
    assert first == values  # split_batches checked every batch's CRC32C
    skipped = len(values) - len(second)  # a fetch starts at the batch holding the offset
    assert 0 <= RECORDS // 2 - skipped < 1000 and second == values[skipped:]
