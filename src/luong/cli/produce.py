"""`luong produce TOPIC`: send lines from stdin or a file as messages.

    luong produce TOPIC [--file FILE] [--key-separator SEP] [--header NAME=VALUE ...]
                        [--partition N] [--acks all|1|0] [--compression CODEC]

with the client options of `luong.cli.client_common` (--bootstrap, --timeout, -X).

Each line is one message; the line end (`\\n` or `\\r\\n`) is not part of it, an empty
line is an empty value. With `--key-separator` the line is split at the first SEP
into key and value; a line without SEP stops the command with an error (as
`kafka-console-producer.sh` with `parse.key=true`) once the lines before it are delivered.
Every `--header` goes on every message. Bytes are sent as read: no decoding.

acks defaults to `all`. Keyed messages are partitioned with murmur2, as by the Java
client and `kafka-console-producer.sh` (librdkafka's own default partitioner would
place keys differently). Messages not delivered within 30 s fail
(`-X message.timeout.ms=…` to change), and so do all that are left when the cluster
has been unreachable for --timeout. The first delivery error stops reading input; the
command waits for what is in flight, then exits 1 with the error. A summary line
(count, time) always goes to stderr first, with a progress display while it runs when
stderr is a terminal. Ctrl-C stops reading, delivers what was read, exits 130.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from luong.cli.client_common import (
    BrokerWatch,
    client_command,
    client_config,
    error_text,
    new_client,
    parse_pairs,
    topic_partitions,
)
from luong.errors import LuongError

__all__ = ["run"]

_PROGRESS_EVERY = 256  # lines between progress display updates
_Headers = list[tuple[str, str | bytes | None]]
_Advance = Callable[[int], None]


class _Deliveries:
    """The delivery callback: counts what the cluster acknowledged, keeps the first error."""

    def __init__(self) -> None:
        self.delivered = 0
        self.failed = 0
        self.first_error: KafkaError | None = None

    def __call__(self, error: KafkaError | None, message: Message | None) -> None:
        if error is None:
            self.delivered += 1
            return
        self.failed += 1
        self.first_error = self.first_error or error

    def failure(self) -> LuongError | None:
        if self.first_error is None:
            return None
        total = self.delivered + self.failed
        return LuongError(
            f"{self.failed} of {total} messages not delivered: {error_text(self.first_error)}"
        )


@client_command
def run(args: argparse.Namespace) -> int:
    headers: _Headers = [
        (name, value.encode()) for name, value in parse_pairs(args.header, "--header")
    ]
    separator = None if args.key_separator is None else args.key_separator.encode()
    if separator == b"":
        raise LuongError("--key-separator must not be empty")
    with _open_input(args.file) as stream:
        producer, watch = _producer(args)
        deliveries = _Deliveries()
        started = time.monotonic()
        interrupted, failure = False, None
        with _progress(stream) as advance:
            try:
                _send_lines(args, producer, stream, separator, headers, deliveries, advance)
            except KeyboardInterrupt:  # Ctrl-C: deliver what was read, then stop
                interrupted = True
            except LuongError as error:  # a line without the key separator
                failure = error
    failure = _flush(producer, watch) or failure or deliveries.failure()
    print(
        f"luong: produced {deliveries.delivered} message{_s(deliveries.delivered)} "
        f"to {args.topic} in {time.monotonic() - started:.2f} s",
        file=sys.stderr,
    )
    if failure is not None:
        raise failure
    return 130 if interrupted else 0


def _producer(args: argparse.Namespace) -> tuple[Producer, BrokerWatch]:
    """A producer connected to the cluster, the topic (and partition) checked."""
    watch = BrokerWatch(args.bootstrap, args.timeout)
    producer = new_client(Producer, client_config(args, watch, _settings(args)))
    partitions = topic_partitions(producer, watch, args.topic)
    if args.partition is not None and args.partition not in partitions:
        raise LuongError(
            f"topic {args.topic!r} has no partition {args.partition} (it has {len(partitions)})"
        )
    return producer, watch


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "acks": args.acks,
        "compression.type": args.compression,
        "partitioner": "murmur2_random",
        "linger.ms": 5,
        "message.timeout.ms": 30_000,
    }


def _send_lines(
    args: argparse.Namespace,
    producer: Producer,
    stream: IO[bytes],
    separator: bytes | None,
    headers: _Headers,
    deliveries: _Deliveries,
    advance: _Advance,
) -> None:
    """Produce each line, until the input ends or a delivery fails."""
    partition = -1 if args.partition is None else args.partition
    sent = 0
    for number, line in enumerate(stream, 1):
        value = line.removesuffix(b"\n").removesuffix(b"\r")
        key = None
        if separator is not None:
            key, found, value = value.partition(separator)
            if not found:
                raise LuongError(f"line {number} has no key separator {args.key_separator!r}")
        _produce(producer, args.topic, key, value, partition, headers, deliveries)
        sent += 1
        if sent % _PROGRESS_EVERY == 0:
            advance(sent)
        if deliveries.first_error is not None:
            break
    advance(sent)


def _produce(
    producer: Producer,
    topic: str,
    key: bytes | None,
    value: bytes,
    partition: int,
    headers: _Headers,
    on_delivery: _Deliveries,
) -> None:
    while True:
        try:
            producer.produce(topic, value, key, partition, on_delivery=on_delivery, headers=headers)
        except BufferError:  # the local queue is full: let deliveries drain it
            producer.poll(0.1)
            continue
        except KafkaException as error:  # refused before sending, e.g. too large
            on_delivery(error.args[0], None)
        producer.poll(0)
        return


def _flush(producer: Producer, watch: BrokerWatch) -> LuongError | None:
    """Wait for every delivery report; when the cluster is gone, drop the rest (as failed)."""
    while producer.flush(0.1) > 0:
        try:
            watch.check(producer)
        except LuongError as error:
            producer.purge()
            producer.flush(0)
            return error
    return None


@contextmanager
def _open_input(path: str | None) -> Iterator[IO[bytes]]:
    if path is None:
        yield sys.stdin.buffer
        return
    with open(path, "rb") as stream:
        yield stream


@contextmanager
def _progress(stream: IO[bytes]) -> Iterator[_Advance]:
    """`advance(messages_sent)`: updates a rich progress display when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield lambda sent: None
        return
    total = _size(stream)  # bytes, for a file; None (a pulsing bar) for a pipe
    progress = Progress(
        TextColumn("{task.fields[messages]} messages"),
        BarColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = progress.add_task("produce", total=total, messages=0)

    def advance(sent: int) -> None:
        position = stream.tell() if total is not None else None
        progress.update(task, completed=position, messages=sent)

    with progress:
        yield advance


def _size(stream: IO[bytes]) -> int | None:
    try:
        if stream.seekable():
            return os.fstat(stream.fileno()).st_size
    except OSError:
        pass
    return None


def _s(count: int) -> str:
    return "" if count == 1 else "s"
