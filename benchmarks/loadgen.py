"""An asyncio Kafka-protocol load generator for the scaling benchmarks.

Speaks raw frames (no client library), so one Python process can hold 64
connections and 2,048 partitions without a client's own per-partition costs:

- `produce(...)`: `connections` TCP connections, each keeping `in_flight` Produce
  v9 requests (acks=all) outstanding for `seconds`. Each request carries one
  pre-built batch of `batch_records` records of `record_bytes` bytes for one
  partition; every connection walks the partitions round robin from its own start.
  Each answer's error code is checked and its latency (send to answer) recorded;
  `rate` paces each connection instead of sending as fast as answers come (the
  connections' send times staggered evenly, not in bursts).
- `consume(...)`: `consumers` connections, each reading one partition (round robin
  over the topic's) from offset 0 with Fetch v12 (max_wait 500 ms, 1 MiB per
  partition) until it reaches `until_offset[partition]`, or, with `idle=True`,
  long-polling at the end of the log until `stop` is set.

The broker restamps offsets, so re-sending the same batch bytes is an ordinary
append (producer id -1: no idempotence).
"""

from __future__ import annotations

import asyncio
import struct
import time
from dataclasses import dataclass, field

from luong.protocol.records import Record, build_batch
from luong.testing.wire import request_frame

_SIZE = struct.Struct(">i")
_BATCH_LENGTH = struct.Struct(">qi")  # base offset, batch length


@dataclass
class ProduceResult:
    """What `produce` measured: answers, records and latencies in seconds."""

    seconds: float
    requests: int = 0
    records: int = 0
    payload_bytes: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def produce_frames(
    topic: str, partitions: int, batch_records: int, record_bytes: int
) -> list[bytes]:
    """One Produce v9 frame per partition (correlation id patched per send)."""
    value = b"x" * record_bytes
    now_ms = int(time.time() * 1000)
    records = [Record(i, now_ms, None, value) for i in range(batch_records)]
    batch = build_batch(records)
    return [
        request_frame(
            0,
            9,
            {
                "transactional_id": None,
                "acks": -1,
                "timeout": 30_000,
                "topic_data": [{"name": topic, "partition_data": [{"index": p, "records": batch}]}],
            },
        )
        for p in range(partitions)
    ]


def produce_error(payload: bytes) -> int:
    """The first partition's error code in a Produce v9 response payload.

    Layout after the correlation id: header tags (uvarint 0), topics array length,
    topic name (compact string), partitions array length, partition index int32,
    error code int16. Names here are short, so every length fits one byte.
    """
    position = 4 + 1 + 1
    position += payload[position]  # compact string: length + 1, then the bytes
    position += 1 + 4
    (code,) = struct.unpack_from(">h", payload, position)
    return int(code)


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    (size,) = _SIZE.unpack(await reader.readexactly(4))
    return await reader.readexactly(size)


async def _producer(
    host: str,
    port: int,
    frames: list[bytes],
    start: int,
    in_flight: int,
    deadline: float,
    result: ProduceResult,
    records_per_request: int,
    payload: int,
    rate: float,
    phase: float,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    sent: dict[int, float] = {}
    correlation = 0
    slots = asyncio.Semaphore(in_flight)

    async def answers() -> None:
        while True:
            frame = await _read_frame(reader)
            (cid,) = _SIZE.unpack_from(frame)
            result.latencies.append(time.monotonic() - sent.pop(cid))
            if produce_error(frame):
                result.errors += 1
            else:
                result.requests += 1
                result.records += records_per_request
                result.payload_bytes += payload
            slots.release()

    reading = asyncio.ensure_future(answers())
    index = start
    began = time.monotonic()
    while time.monotonic() < deadline:
        if rate:  # paced: request k leaves at began + (k + phase) / rate
            due = began + (index - start + phase) / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
        await slots.acquire()
        if time.monotonic() >= deadline:
            slots.release()
            break
        correlation += 1
        frame = bytearray(frames[index % len(frames)])
        struct.pack_into(">i", frame, 8, correlation)  # size, api key, version, then the id
        sent[correlation] = time.monotonic()
        writer.write(frame)
        index += 1
    for _ in range(in_flight):  # every slot back: every answer is in
        await slots.acquire()
    reading.cancel()
    writer.close()


async def produce(
    host: str,
    port: int,
    topic: str,
    *,
    partitions: int,
    connections: int,
    in_flight: int,
    seconds: float,
    batch_records: int = 100,
    record_bytes: int = 100,
    rate: float = 0.0,
) -> ProduceResult:
    """Run the producers for `seconds`; see the module docstring.

    `rate` paces each connection to that many requests per second (0: as fast as
    `in_flight` allows).
    """
    frames = produce_frames(topic, partitions, batch_records, record_bytes)
    result = ProduceResult(seconds)
    deadline = time.monotonic() + seconds
    stride = max(1, partitions // connections)
    await asyncio.gather(
        *(
            _producer(
                host,
                port,
                frames,
                c * stride,
                in_flight,
                deadline,
                result,
                batch_records,
                batch_records * record_bytes,
                rate,
                c / connections,
            )
            for c in range(connections)
        )
    )
    return result


def fetch_frame(topic: str, partition: int, offset: int, correlation: int) -> bytes:
    body = {
        "replica_id": -1,
        "max_wait": 500,
        "min_bytes": 1,
        "max_bytes": 52_428_800,
        "isolation_level": 0,
        "session_id": 0,
        "session_epoch": -1,
        "topics": [
            {
                "topic": topic,
                "partitions": [
                    {
                        "partition": partition,
                        "current_leader_epoch": -1,
                        "fetch_offset": offset,
                        "last_fetched_epoch": -1,
                        "log_start_offset": -1,
                        "partition_max_bytes": 1_048_576,
                    }
                ],
            }
        ],
        "forgotten_topics_data": [],
        "rack_id": "",
    }
    return request_frame(1, 12, body, correlation_id=correlation)


def next_offset(payload: bytes, offset: int) -> int:
    """The offset after the last whole batch in a one-partition Fetch v12 response.

    Walks the batch headers (base offset, length, last offset delta) from the start
    of the records field; `offset` comes back unchanged when there are none.
    """
    view = memoryview(payload)
    start = _records_start(view)
    position = start
    while position + 12 <= len(view):
        base, length = _BATCH_LENGTH.unpack_from(view, position)
        if position + 12 + length > len(view):
            break
        (delta,) = struct.unpack_from(">i", view, position + 23)
        offset = base + delta + 1
        position += 12 + length
    return offset


def _records_start(view: memoryview) -> int:
    """Position of the records in a Fetch v12 response for one topic and partition.

    Layout: correlation id, header tags, throttle int32, error int16, session int32,
    topics (compact array), name (compact string), partitions (compact array),
    index int32, error int16, high watermark, last stable, log start (int64 each),
    aborted transactions (compact array, null or empty here), preferred replica
    int32, records (compact bytes: uvarint length + 1).
    """
    position = 4 + 1 + 4 + 2 + 4 + 1
    position += view[position]  # topic name length + 1 (one byte for short names)
    position += 1 + 4
    (error,) = struct.unpack_from(">h", view, position)
    if error:
        raise RuntimeError(f"fetch answered error code {error}")
    position += 2 + 8 * 3
    aborted = view[position]
    if aborted > 1:
        raise ValueError("aborted transactions in a benchmark fetch")
    position += 1 + 4
    while view[position] & 0x80:  # uvarint length of the records
        position += 1
    return position + 1


async def _consumer(
    host: str,
    port: int,
    topic: str,
    partition: int,
    until: int,
    idle: bool,
    stop: asyncio.Event,
    counts: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    offset, correlation = (until if idle else 0), 0
    while not stop.is_set() and (idle or offset < until):
        correlation += 1
        writer.write(fetch_frame(topic, partition, offset, correlation))
        frame = await _read_frame(reader)
        before, offset = offset, next_offset(frame, offset)
        counts[0] += offset - before
        counts[1] += len(frame)
    writer.close()


async def consume(
    host: str,
    port: int,
    topic: str,
    *,
    partitions: int,
    consumers: int,
    until_offset: list[int],
    idle: bool = False,
    stop: asyncio.Event | None = None,
) -> tuple[int, int]:
    """Run the consumers; returns (records read, response bytes)."""
    stop = stop or asyncio.Event()
    counts = [0, 0]
    await asyncio.gather(
        *(
            _consumer(
                host, port, topic, c % partitions, until_offset[c % partitions], idle, stop, counts
            )
            for c in range(consumers)
        )
    )
    return counts[0], counts[1]


# librdkafka settings that let kcat read as fast as it can: by default it pauses
# fetching for fetch.queue.backoff.ms (1 s) whenever 100,000 messages wait in its
# queue, and fetches 1 MiB per partition
KCAT_FAST_READ = ("-X", "queued.min.messages=1000000", "-X", "fetch.message.max.bytes=8388608")


def kcat_read(bootstrap: str, topic: str, *extra: str) -> list[str]:
    """kcat reading `topic` from the beginning to its end, quietly."""
    return [
        "kcat",
        "-C",
        "-b",
        bootstrap,
        "-t",
        topic,
        "-o",
        "beginning",
        "-e",
        "-q",
        *KCAT_FAST_READ,
        *extra,
    ]


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    import psutil

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)
