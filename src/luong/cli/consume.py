"""`luong consume TOPIC`: print messages, one line each.

    luong consume TOPIC [--from-beginning | --offset N|-N|earliest|latest]
                        [--partition N] [--max-messages N] [--follow]
                        [--format '{offset}: {key}={value}']

with the client options of `luong.cli.client_common` (--bootstrap, --timeout, -X).

No consumer group: the command assigns partitions itself (`--partition N`, or every
partition of the topic) and commits nothing. librdkafka insists on a `group.id`, so
one is set, but no group is joined and no offset committed.

Where it starts, per partition: `latest` (the default, as Kafka's console consumer),
`earliest` (also `--from-beginning`), an offset N (clamped into the partition's
[log start, high watermark]), or -N: the last N messages. Where it stops: without
`--follow`, at the high watermarks taken at start (a partition that was empty, or
started at its end, contributes nothing; so a plain `luong consume TOPIC` prints
nothing and says so); with `--follow`, never (Ctrl-C, exit 130). `--max-messages`
stops after N messages in all. A summary line goes to stderr.

`--format` is a Python format string over {topic} {partition} {offset} {timestamp}
(ms since the epoch, -1 if none) {key} {value} {headers}; default "{value}". The
escapes \\n \\t \\r \\\\ in it are interpreted, as kcat does. Keys, values and header
values are decoded as UTF-8 with replacement; a null key or value prints as `null`
(as Kafka's console consumer); headers print as `name=value` joined by `,`, the
same syntax `luong produce --header` takes. Output is UTF-8 whatever the locale.

Isolation level is read_uncommitted, as Kafka's console consumer (librdkafka's own
default is read_committed).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from confluent_kafka import (
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from luong.cli.client_common import (
    BrokerWatch,
    client_command,
    client_config,
    error_text,
    new_client,
    topic_partitions,
)
from luong.cli.parsers import FIELDS
from luong.errors import LuongError

__all__ = ["run", "format_message"]

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
_BATCH = 500
_POLL_S = 0.2


def _unescape(template: str) -> str:
    return re.sub(r"\\([ntr\\])", lambda match: _ESCAPES[match[1]], template)


def _text(data: str | bytes | None) -> str:
    if isinstance(data, str):
        return data
    return "null" if data is None else data.decode("utf-8", "replace")


def format_message(template: str, message: Message) -> str:
    """`template` (already unescaped) filled in from one consumed message."""
    kind, timestamp = message.timestamp()
    headers = message.headers() or []
    pairs = headers.items() if isinstance(headers, dict) else headers
    return template.format_map(
        {
            "topic": message.topic(),
            "partition": message.partition(),
            "offset": message.offset(),
            "timestamp": -1 if kind == TIMESTAMP_NOT_AVAILABLE else timestamp,
            "key": _text(message.key()),
            "value": _text(message.value()),
            "headers": ",".join(f"{name}={_text(value)}" for name, value in pairs),
        }
    )


def _check_format(template: str) -> None:
    numbers = {"partition": 0, "offset": 0, "timestamp": 0}
    sample: Mapping[str, Any] = dict.fromkeys(FIELDS, "") | numbers
    try:
        template.format_map(sample)
    except KeyError as error:
        raise LuongError(
            f"--format: unknown field {{{error.args[0]}}}; fields: {' '.join(FIELDS)}"
        ) from None
    except (ValueError, IndexError) as error:
        raise LuongError(f"--format: {error}") from None


@dataclass
class _Plan:
    """Per partition: where reading starts and (without --follow) where it ends."""

    start: dict[int, int] = field(default_factory=dict)
    end: dict[int, int] = field(default_factory=dict)

    def open_partitions(self) -> set[int]:
        return {p for p, start in self.start.items() if start < self.end[p]}


@client_command
def run(args: argparse.Namespace) -> int:
    template = _unescape(args.format)
    _check_format(template)
    watch = BrokerWatch(args.bootstrap, args.timeout)
    consumer = new_client(Consumer, client_config(args, watch, _settings()))
    started = time.monotonic()
    try:
        plan = _plan(consumer, watch, args)
        count, interrupted = _consume(consumer, watch, args, plan, template)
    finally:
        consumer.close()
    _summary(args, count, time.monotonic() - started)
    return 130 if interrupted else 0


def _settings() -> dict[str, Any]:
    return {
        "group.id": "luong-cli-consume",  # required by librdkafka; never joined
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_uncommitted",
        "allow.auto.create.topics": False,
    }


def _plan(consumer: Consumer, watch: BrokerWatch, args: argparse.Namespace) -> _Plan:
    partitions = topic_partitions(consumer, watch, args.topic)
    if args.partition is not None:
        if args.partition not in partitions:
            raise LuongError(
                f"topic {args.topic!r} has no partition {args.partition} (it has {len(partitions)})"
            )
        partitions = [args.partition]
    where = "earliest" if args.from_beginning else args.offset
    plan = _Plan()
    for p in partitions:
        low, high = _watermarks(consumer, args, p)
        plan.start[p] = _start(where, low, high)
        plan.end[p] = high
    return plan


def _watermarks(consumer: Consumer, args: argparse.Namespace, partition: int) -> tuple[int, int]:
    try:
        low, high = consumer.get_watermark_offsets(
            TopicPartition(args.topic, partition), timeout=args.timeout, cached=False
        )
    except KafkaException as error:
        raise LuongError(
            f"cannot read the offsets of {args.topic}[{partition}]: {error_text(error)}"
        ) from None
    return low, high


def _start(where: str | int | None, low: int, high: int) -> int:
    if where == "earliest":
        return low
    if where is None or where == "latest":
        return high
    assert isinstance(where, int)
    if where < 0:
        return max(low, high + where)
    return min(max(where, low), high)


def _consume(
    consumer: Consumer,
    watch: BrokerWatch,
    args: argparse.Namespace,
    plan: _Plan,
    template: str,
) -> tuple[int, bool]:
    """Print messages until every partition is read to its end (or forever).

    Returns how many were printed and whether Ctrl-C stopped it.
    """
    open_partitions = set(plan.start) if args.follow else plan.open_partitions()
    consumer.assign([TopicPartition(args.topic, p, plan.start[p]) for p in open_partitions])
    wanted = args.max_messages or sys.maxsize
    out = sys.stdout.buffer
    count = 0
    try:
        while open_partitions and count < wanted:
            batch = _next_batch(consumer, min(_BATCH, wanted - count))
            lines = [
                format_message(template, message)
                for message in batch
                if _keep(message, args, plan, open_partitions)
            ]
            count += len(lines)
            if lines and not _write(out, lines):
                break
            watch.check(consumer)
    except KeyboardInterrupt:
        return count, True
    return count, False


def _next_batch(consumer: Consumer, most: int) -> list[Message]:
    """Wait for one message (or event), then take what else is ready, up to `most`.

    `Consumer.consume(n, timeout)` alone would wait the whole timeout unless n arrive.
    """
    first = consumer.poll(_POLL_S)
    if first is None:
        return []
    return [first, *(consumer.consume(most - 1, timeout=0) if most > 1 else [])]


def _keep(message: Message, args: argparse.Namespace, plan: _Plan, open_: set[int]) -> bool:
    """Whether to print `message`; closes partitions that reached their end."""
    error = message.error()
    if error is not None and error.code() != KafkaError._PARTITION_EOF:
        raise LuongError(f"cannot consume {args.topic}: {error_text(error)}")
    partition, offset = message.partition(), message.offset()
    assert partition is not None and offset is not None
    if args.follow:
        return error is None
    last = plan.end[partition] - 1
    if error is not None:  # end of partition: `offset` is the next one to come
        if offset > last:
            open_.discard(partition)
        return False
    if offset >= last:
        open_.discard(partition)
    return offset <= last


def _write(out: IO[bytes], lines: list[str]) -> bool:
    """Write and flush; False when the reader went away (`luong consume … | head`)."""
    try:
        out.write(("\n".join(lines) + "\n").encode("utf-8", "replace"))
        out.flush()
    except BrokenPipeError:
        # Point stdout at /dev/null so that the interpreter's final flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        return False
    return True


def _summary(args: argparse.Namespace, count: int, elapsed_s: float) -> None:
    hint = ""
    at_end = args.offset in (None, "latest") and not args.from_beginning
    if count == 0 and at_end and not args.follow:
        hint = " (started at the end: try --from-beginning or --follow)"
    plural = "" if count == 1 else "s"
    print(
        f"luong: consumed {count} message{plural} from {args.topic} in {elapsed_s:.2f} s{hint}",
        file=sys.stderr,
    )
