"""`luong bench produce|consume|e2e TOPIC`: load tests against any Kafka-compatible cluster.

    luong bench produce TOPIC [--messages N] [--size BYTES] [--rate MSGS_PER_S]
                              [--acks all|1|0] [--linger-ms MS] [--idempotence]
    luong bench consume TOPIC [--messages N]
    luong bench e2e TOPIC [--seconds S] [--rate MSGS_PER_S] [--size BYTES]

with the client options of `luong.cli.client_common` (--bootstrap, --timeout, -X),
as kafka-producer-perf-test and kafka-consumer-perf-test do:

- produce: N messages of BYTES bytes (default 1,000,000 x 100 B) as fast as the
  client can, or at --rate; prints messages/s, MB/s and the send-to-acknowledgement
  latency percentiles (p50, p95, p99, p99.9, max).
- consume: reads N messages (default: everything in the topic at the start) from the
  beginning of every partition without a group; prints messages/s and MB/s.
- e2e: a producer at --rate (default 1,000/s) for --warmup-seconds (1, not
  counted) and then --seconds, in a child process, each payload carrying its send
  time, and a consumer here polling message by message from the end: prints the
  end-to-end latency percentiles (one machine, one clock).

A progress bar runs on stderr while it works (when stderr is a terminal); the
figures go to stdout. The topic must exist (or be auto-created by the cluster).
"""

from __future__ import annotations

import argparse
import multiprocessing
import struct
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from luong.cli.client_common import (
    BrokerWatch,
    client_command,
    client_config,
    connect,
    new_client,
    out_console,
    topic_partitions,
)
from luong.errors import LuongError

__all__ = ["ACTIONS", "percentiles"]

QUANTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("p99.9", 0.999))
_STAMP = struct.Struct(">q")  # e2e payloads start with their send time (ns)


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50, p95, p99, p99.9 and max of latencies (sorted in place is not assumed)."""
    ordered = sorted(samples_ms)
    if not ordered:
        return {}
    out = {name: ordered[min(len(ordered) - 1, int(q * len(ordered)))] for name, q in QUANTILES}
    return {**out, "max": ordered[-1]}


@contextmanager
def _progress(total: int, what: str) -> Iterator[Callable[[int], None]]:
    bar = Progress(
        TextColumn(what),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
        transient=True,
    )
    task = bar.add_task(what, total=total)
    with bar:
        yield lambda n: bar.update(task, completed=n)


def _report(title: str, count: int, size: int, elapsed: float, latency: Sequence[float]) -> None:
    console = out_console()
    rate = count / elapsed if elapsed > 0 else 0.0
    console.print(
        f"{title}: {count:,} messages in {elapsed:.2f} s: {rate:,.0f} msg/s, "
        f"{rate * size / 1e6:,.2f} MB/s"
    )
    figures = percentiles(latency)
    if figures:
        console.print(
            "latency ms: " + ", ".join(f"{name} {value:.2f}" for name, value in figures.items())
        )


def _client(args: argparse.Namespace, factory: Any, settings: dict[str, Any]) -> Any:
    watch = BrokerWatch(args.bootstrap, args.timeout)
    client = new_client(factory, client_config(args, watch, settings))
    topic_partitions(client, watch, args.topic)
    return client


@client_command
def _produce(args: argparse.Namespace) -> int:
    producer = _client(
        args,
        Producer,
        {
            "acks": args.acks,
            "linger.ms": args.linger_ms,
            "enable.idempotence": args.idempotence,
            "queue.buffering.max.messages": 1_000_000,
        },
    )
    latencies: list[float] = []
    failures: list[KafkaError] = []

    def delivered(error: KafkaError | None, message: Message, sent: float) -> None:
        if error is not None:
            failures.append(error)
        else:
            latencies.append((time.perf_counter() - sent) * 1000)

    payload = b"x" * args.size
    start = time.perf_counter()
    with _progress(args.messages, "producing") as advance:
        for i in range(args.messages):
            if args.rate:
                time.sleep(max(0.0, start + i / args.rate - time.perf_counter()))
            sent = time.perf_counter()
            while True:
                try:
                    producer.produce(
                        args.topic, payload, on_delivery=lambda e, m, t=sent: delivered(e, m, t)
                    )
                    break
                except BufferError:
                    producer.poll(0.001)
            if args.rate or i % 100 == 0:  # delivery reports are timed when served
                producer.poll(0)
            if i % 1000 == 0:
                advance(len(latencies))
        while producer.flush(0.1):
            advance(len(latencies))
    elapsed = time.perf_counter() - start
    if failures:
        raise LuongError(f"{len(failures):,} messages failed, the first: {failures[0].str()}")
    _report("produce", args.messages, args.size, elapsed, latencies)
    return 0


@client_command
def _consume(args: argparse.Namespace) -> int:
    consumer = _client(args, Consumer, {"group.id": "luong-bench", "enable.auto.commit": False})
    partitions = sorted(
        connect(consumer, BrokerWatch(args.bootstrap, args.timeout), args.topic)
        .topics[args.topic]
        .partitions
    )
    available = 0
    for p in partitions:
        low, high = consumer.get_watermark_offsets(TopicPartition(args.topic, p), args.timeout)
        available += high - low
    wanted = args.messages or available
    if wanted == 0:
        raise LuongError(f"topic {args.topic!r} holds no messages")
    consumer.assign([TopicPartition(args.topic, p, -2) for p in partitions])  # beginning
    count = size = 0
    start = time.perf_counter()
    idle_since = start
    with _progress(wanted, "consuming") as advance:
        while count < wanted:
            batch = consumer.consume(10_000, timeout=0.2)
            good = [m for m in batch if m.error() is None]
            count += len(good)
            size += sum(len(m.value() or b"") for m in good)
            advance(count)
            now = time.perf_counter()
            idle_since = now if good else idle_since
            if now - idle_since > args.timeout:
                raise LuongError(f"only {count:,} of {wanted:,} messages within --timeout")
    elapsed = time.perf_counter() - start
    consumer.close()
    _report("consume", count, size // max(count, 1), elapsed, [])
    return 0


@client_command
def _e2e(args: argparse.Namespace) -> int:
    if args.size < _STAMP.size:
        raise LuongError(f"--size must be at least {_STAMP.size} (the send time travels in it)")
    consumer = _client(
        args,
        Consumer,
        {"group.id": "luong-bench", "enable.auto.commit": False, "fetch.wait.max.ms": 50},
    )
    metadata = connect(consumer, BrokerWatch(args.bootstrap, args.timeout), args.topic)
    partitions = sorted(metadata.topics[args.topic].partitions)
    consumer.assign([TopicPartition(args.topic, p, -1) for p in partitions])  # the end
    consumer.poll(1.0)
    total = args.rate * args.seconds
    warmup = int(args.rate * max(args.warmup_seconds, 0.0))
    settings = {"acks": "all", "linger.ms": 0}
    config = {
        k: v
        for k, v in client_config(args, BrokerWatch("", 0), settings).items()
        if not callable(v)
    }
    sender = multiprocessing.get_context("spawn").Process(
        target=_send_steadily, args=(config, args.topic, args.rate, warmup + total, args.size)
    )
    latencies: list[float] = []
    deadline = time.monotonic() + args.warmup_seconds + args.seconds + args.timeout + 5
    sender.start()
    seen = 0
    with _progress(total, "end to end") as advance:
        while len(latencies) < total and time.monotonic() < deadline:
            message = consumer.poll(0.1)
            if message is None or message.error() is not None:
                continue
            value = message.value() or b""
            if len(value) < _STAMP.size:
                continue
            seen += 1
            if seen > warmup:  # the first ones warm the clients and the broker up
                latencies.append((time.time_ns() - _STAMP.unpack_from(value)[0]) / 1e6)
            if seen % 500 == 0:
                advance(len(latencies))
    sender.join()
    consumer.close()
    if len(latencies) < total:
        raise LuongError(f"only {len(latencies):,} of {total:,} messages arrived in time")
    _report("end to end", total, args.size, float(args.seconds), latencies)
    return 0


def _send_steadily(config: dict[str, Any], topic: str, rate: int, total: int, size: int) -> None:
    """In its own process (no GIL shared with the consumer): `rate` messages a second,
    each millisecond what is due, each payload starting with its send time."""
    producer = Producer(config)
    producer.list_topics(topic, timeout=10)  # connected before the clock starts
    pad = b"x" * (size - _STAMP.size)
    start = time.perf_counter()
    sent = 0
    while sent < total:
        due = min(total, int((time.perf_counter() - start) * rate) + 1)
        for _ in range(due - sent):
            producer.produce(topic, _STAMP.pack(time.time_ns()) + pad)
        sent = due
        producer.poll(0)
        time.sleep(0.001)
    producer.flush(30)


ACTIONS: dict[str, Callable[[argparse.Namespace], int]] = {
    "produce": _produce,
    "consume": _consume,
    "e2e": _e2e,
}
