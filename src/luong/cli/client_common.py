"""Plumbing shared by the client commands `luong topic`, `luong produce`, `luong consume`.

These commands are client side: they talk Kafka only through confluent-kafka
(librdkafka) and import nothing broker-side, so they work unchanged against luong or
any Kafka cluster. Options every client command takes:

    --bootstrap HOST:PORT[,...]      the cluster (default 127.0.0.1:9092); Kafka's
                                     spelling --bootstrap-server works too
    --timeout SECONDS                how long to wait for the cluster to answer (default 5).
                                     Not Kafka's console-consumer --timeout-ms (idle exit).
    -X, --client-config NAME=VALUE   any librdkafka setting (repeatable), e.g. SASL/TLS

Client commands never create a topic by naming it: their Metadata requests say so
(`allow.auto.create.topics=false`, which -X can turn back on); topics are made with
`luong topic create`.

Reachability. `connect()` asks for metadata in short slices and serves the client's
error callback in between: when librdkafka reports every broker down (connection
refused, unresolvable host, failed authentication) it fails at once; an address that
never answers fails after --timeout. librdkafka's own log lines go to a logger that
drops them, so a failure reaches the user as the one line `luong: <message>` (exit 1).

Tables go to stdout through `rich` without colour or markup interpretation; when
stdout is not a terminal they are not cut to 80 columns.
"""

from __future__ import annotations

import argparse
import functools
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from confluent_kafka import KafkaError, KafkaException
from rich import box
from rich.console import Console
from rich.table import Table

from luong.errors import LuongError

__all__ = [
    "BrokerWatch",
    "client_command",
    "client_config",
    "connect",
    "error_text",
    "new_client",
    "out_console",
    "parse_pairs",
    "table",
    "topic_partitions",
]

_PROBE_SLICE_S = 0.25
# Client-level errors after which waiting longer does not help.
_HOPELESS = frozenset(
    {
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError._AUTHENTICATION,
        KafkaError._SSL,
        KafkaError.SASL_AUTHENTICATION_FAILED,
    }
)
_BROKER_PREFIX = re.compile(r"^\S+/\S+: ")  # "127.0.0.1:9092/bootstrap: "

_Client = TypeVar("_Client")
_quiet = logging.getLogger("luong.cli.librdkafka")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False


def parse_pairs(items: Iterable[str], option: str) -> list[tuple[str, str]]:
    """`NAME=VALUE` strings split at the first `=`; the name must not be empty."""
    pairs = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise LuongError(f"{option} wants NAME=VALUE, got {item!r}")
        pairs.append((name, value))
    return pairs


class BrokerWatch:
    """The client's `error_cb`: remembers client-level errors, served by poll() calls.

    librdkafka reports "all brokers down" but never "back up", so `check()` asks for
    metadata before it gives up on a cluster that has been down for --timeout.
    """

    def __init__(self, bootstrap: str, timeout_s: float) -> None:
        self.bootstrap = bootstrap
        self.timeout_s = timeout_s
        self.down_since: float | None = None
        self.hopeless: KafkaError | None = None
        self.last_error = ""

    def __call__(self, error: KafkaError) -> None:
        if error.code() in _HOPELESS or error.fatal():
            self.hopeless = self.hopeless or error
            self.down_since = self.down_since or time.monotonic()
        if error.code() != KafkaError._ALL_BROKERS_DOWN:
            self.last_error = _BROKER_PREFIX.sub("", error.str())

    def unreachable(self) -> LuongError:
        assert self.hopeless is not None
        why = self.last_error or self.hopeless.str()
        return LuongError(f"cannot reach the cluster at {self.bootstrap}: {why}")

    def check(self, client: Any) -> None:
        """Raise when the cluster has been unreachable for longer than the timeout."""
        if self.down_since is None or time.monotonic() - self.down_since < self.timeout_s:
            return
        try:
            client.list_topics(timeout=_PROBE_SLICE_S)
        except KafkaException:
            raise self.unreachable() from None
        self.down_since = None
        self.hopeless = None


def client_config(
    args: argparse.Namespace, watch: BrokerWatch, settings: dict[str, Any]
) -> dict[str, Any]:
    """librdkafka settings: ours, then `settings`, then the user's -X overrides."""
    timeout_ms = int(args.timeout * 1000)
    config: dict[str, Any] = {
        "bootstrap.servers": args.bootstrap,
        "client.id": "luong-cli",
        "socket.connection.setup.timeout.ms": max(timeout_ms, 1000),
        # a command never creates a topic by naming it (producers' Metadata would)
        "allow.auto.create.topics": False,
        "error_cb": watch,
        "logger": _quiet,
        **settings,
    }
    config.update(parse_pairs(args.client_config, "-X/--client-config"))
    return config


def new_client(factory: Callable[[dict[str, Any]], _Client], config: dict[str, Any]) -> _Client:
    """`factory(config)`; a bad setting (from -X, say) becomes a one-line error."""
    try:
        return factory(config)
    except (KafkaException, ValueError, TypeError) as error:
        raise LuongError(f"bad client setting: {error_text(error)}") from None


def client_command(
    handler: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """A command handler whose stray KafkaExceptions end as one-line errors, and whose
    Ctrl-C ends quietly with exit code 130."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except KafkaException as error:
            raise LuongError(error_text(error)) from None
        except KeyboardInterrupt:
            return 130

    return run


def error_text(error: Exception | KafkaError) -> str:
    """An error as one line; a KafkaError as its message and its code name."""
    kafka_error = error.args[0] if isinstance(error, KafkaException) and error.args else error
    if not isinstance(kafka_error, KafkaError):
        return str(kafka_error)
    message = _BROKER_PREFIX.sub("", kafka_error.str()).rstrip(".")
    return f"{message} ({kafka_error.name()})"


def connect(client: Any, watch: BrokerWatch, topic: str | None = None) -> Any:
    """Cluster metadata (for `topic` only, or for all topics), failing fast."""
    deadline = time.monotonic() + watch.timeout_s
    while True:
        try:
            return client.list_topics(topic=topic, timeout=_PROBE_SLICE_S)
        except KafkaException as error:
            last = error
        client.poll(0)  # serves the error callback
        if watch.hopeless is not None:
            raise watch.unreachable()
        if time.monotonic() > deadline:
            why = watch.last_error or error_text(last)
            raise LuongError(
                f"no answer from the cluster at {watch.bootstrap} "
                f"within {watch.timeout_s:g} s: {why}"
            )


def topic_partitions(client: Any, watch: BrokerWatch, topic: str) -> list[int]:
    """The partition ids of `topic`, waiting out a leader election or a creation in progress."""
    deadline = time.monotonic() + watch.timeout_s
    while True:
        metadata = connect(client, watch, topic)
        found = metadata.topics.get(topic)
        error = found.error if found is not None else None
        if found is not None and error is None and found.partitions:
            return sorted(found.partitions)
        if error is not None and error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
            raise LuongError(f"unknown topic {topic!r}")
        if error is not None and not error.retriable():
            raise LuongError(f"topic {topic!r}: {error_text(error)}")
        if time.monotonic() > deadline:
            why = error_text(error) if error is not None else "no partitions"
            raise LuongError(f"topic {topic!r} is not available: {why}")
        time.sleep(0.05)


def out_console() -> Console:
    """A console on stdout that prints text as given (no markup, highlighting or emoji)."""
    wide = None if sys.stdout.isatty() else 10_000
    return Console(width=wide, markup=False, highlight=False, emoji=False)


def table(*columns: str) -> Table:
    grid = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for column in columns:
        grid.add_column(column, no_wrap=True)
    return grid
