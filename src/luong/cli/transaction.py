"""`luong transaction …`: transactional producers as their coordinators see them.

    luong transaction list [--state STATE] [--producer-id ID]
    luong transaction describe TRANSACTIONAL_ID ...

confluent-kafka's AdminClient has no transaction APIs, so these speak the Kafka
protocol directly (luong.cli.wire): `list` asks every broker of the cluster
(Metadata, then ListTransactions v0 on each), `describe` asks each id's
coordinator (FindCoordinator with key type 1, then DescribeTransactions v0), as
kafka-transactions.sh does. Works against any Kafka-compatible cluster without TLS
or SASL.
"""

from __future__ import annotations

import argparse
import datetime
import struct
from collections.abc import Callable
from typing import Any, NamedTuple

from luong.cli.client_common import out_console, table
from luong.cli.wire import WireClient, request_frame
from luong.errors import ErrorCode, LuongError
from luong.protocol.primitives import read_uvarint

__all__ = ["ACTIONS"]

TRANSACTION_KEY_TYPE = 1


def _connect(address: tuple[str, int], timeout_s: float) -> WireClient:
    try:
        return WireClient(*address, timeout_s=timeout_s)
    except OSError as error:
        raise LuongError(f"cannot reach {address[0]}:{address[1]}: {error}") from None


def _bootstrap(args: argparse.Namespace) -> tuple[str, int]:
    first = args.bootstrap.split(",")[0].strip()
    host, _, port = first.rpartition(":")
    if not host or not port.isdigit():
        raise LuongError(f"--bootstrap wants HOST:PORT, got {first!r}")
    return host, int(port)


def _call(address: tuple[str, int], args: argparse.Namespace, key: int, body: Any) -> Any:
    with _connect(address, args.timeout) as wire:
        try:
            return wire.call(key, 0 if key != 3 else 1, body)
        except (TimeoutError, OSError, EOFError) as error:
            raise LuongError(f"no answer from {address[0]}:{address[1]}: {error}") from None


def _round_trip(address: tuple[str, int], args: argparse.Namespace, frame: bytes) -> bytes:
    with _connect(address, args.timeout) as wire:
        try:
            wire.send_raw(frame)
            return wire.recv_frame()
        except (TimeoutError, OSError, EOFError) as error:
            raise LuongError(f"no answer from {address[0]}:{address[1]}: {error}") from None


def _brokers(args: argparse.Namespace) -> list[tuple[str, int]]:
    metadata = _call(_bootstrap(args), args, 3, {"topics": []})
    return sorted({(b.host, b.port) for b in metadata.brokers})


def _list(args: argparse.Namespace) -> int:
    body = {"state_filters": args.state, "producer_id_filters": args.producer_id}
    rows = table("transactional id", "producer id", "state")
    listed = []
    for broker in _brokers(args):
        answer = _call(broker, args, 66, body)
        if answer.error_code:
            raise LuongError(f"ListTransactions failed with error {int(answer.error_code)}")
        if answer.unknown_state_filters:
            raise LuongError(f"unknown states: {', '.join(answer.unknown_state_filters)}")
        listed += answer.transaction_states
    for state in sorted(listed, key=lambda s: s.transactional_id):
        rows.add_row(state.transactional_id, str(state.producer_id), state.transaction_state)
    out_console().print(rows)
    return 0


def _describe(args: argparse.Namespace) -> int:
    columns = ("transactional id", "state", "producer id", "epoch", "timeout ms", "started")
    rows = table(*columns, "partitions")
    missing = []
    for transactional_id in args.transactional_ids:
        found = _call(
            _bootstrap(args), args, 10, {"key": transactional_id, "key_type": TRANSACTION_KEY_TYPE}
        )
        if found.error_code:
            raise LuongError(
                f"no coordinator for {transactional_id!r}: error {int(found.error_code)}"
            )
        frame = request_frame(65, 0, {"transactional_ids": [transactional_id]})
        [state] = _transaction_states(_round_trip((found.host, found.port), args, frame))
        if state.error_code == ErrorCode.TRANSACTIONAL_ID_NOT_FOUND:
            missing.append(transactional_id)
            continue
        partitions = ",".join(f"{t}-{p}" for t, ps in state.topics for p in ps)
        rows.add_row(
            transactional_id,
            state.state,
            str(state.producer_id),
            str(state.epoch),
            str(state.timeout_ms),
            _started(state.start_ms),
            partitions or "-",
        )
    out_console().print(rows)
    if missing:
        raise LuongError(f"unknown transactional id: {', '.join(map(repr, missing))}")
    return 0


class _TxnState(NamedTuple):
    error_code: int
    state: str
    timeout_ms: int
    start_ms: int
    producer_id: int
    epoch: int
    topics: list[tuple[str, list[int]]]


def _transaction_states(payload: bytes) -> list[_TxnState]:
    """DescribeTransactions v0 (flexible) read by hand: kio refuses the start time -1
    that Kafka sends for an id that has not begun a transaction.

    correlation_id int32, header tags; throttle int32; states compact array of
    [error int16, transactional_id, state (compact strings), timeout int32,
    start_ms int64, producer_id int64, epoch int16, topics compact array of
    [topic compact string, partitions compact array of int32, tags], tags]; tags.
    """
    read = _FlexibleReader(payload)
    read.fixed(">i")  # correlation id
    read.tags()
    read.fixed(">i")  # throttle time
    states = []
    for _ in range(read.count()):
        (error,) = read.fixed(">h")
        read.string()  # the transactional id, as asked
        state = read.string()
        (timeout,) = read.fixed(">i")
        start, producer_id, epoch = read.fixed(">qqh")
        topics = []
        for _ in range(read.count()):
            topic = read.string()
            topics.append((topic, [read.fixed(">i")[0] for _ in range(read.count())]))
            read.tags()
        read.tags()
        states.append(_TxnState(error, state, timeout, start, producer_id, epoch, topics))
    return states


class _FlexibleReader:
    def __init__(self, payload: bytes) -> None:
        self.payload, self.position = payload, 0

    def fixed(self, layout: str) -> tuple[int, ...]:
        values: tuple[int, ...] = struct.unpack_from(layout, self.payload, self.position)
        self.position += struct.calcsize(layout)
        return values

    def uvarint(self) -> int:
        value: int
        value, self.position = read_uvarint(self.payload, self.position)
        return value

    def count(self) -> int:
        return max(self.uvarint() - 1, 0)

    def string(self) -> str:
        length = self.uvarint() - 1
        text = self.payload[self.position : self.position + max(length, 0)].decode()
        self.position += max(length, 0)
        return text

    def tags(self) -> None:
        for _ in range(self.uvarint()):
            self.uvarint()
            self.position += self.uvarint()


def _started(start_ms: int) -> str:
    if start_ms < 0:
        return "-"
    moment = datetime.datetime.fromtimestamp(start_ms / 1000, tz=datetime.UTC)
    return moment.isoformat(timespec="milliseconds")


ACTIONS: dict[str, Callable[[argparse.Namespace], int]] = {
    "list": _list,
    "describe": _describe,
}
