"""`luong group …`: consumer groups through confluent-kafka's AdminClient.

    luong group list
    luong group describe GROUP
    luong group reset-offsets GROUP --topic T (--to-earliest | --to-latest |
        --to-datetime ISO-8601 | --to-offset N | --shift-by N) [--dry-run]
    luong group delete GROUP ...

each with the client options of `luong.cli.client_common` (--bootstrap, --timeout, -X).
`describe` prints the members (client id, host, assigned partitions) and, per
partition with a committed offset, the committed offset, the end offset and the
lag, as `kafka-consumer-groups.sh --describe` does. `reset-offsets` works only on
a group without members (as Kafka's tool) and prints the plan; with `--dry-run`
it changes nothing.
"""

from __future__ import annotations

import argparse
import datetime
from collections.abc import Callable
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

# confluent-kafka's admin package re-exports these without `__all__` (mypy: attr-defined)
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]

from luong.cli.client_common import (
    BrokerWatch,
    client_command,
    client_config,
    connect,
    new_client,
    out_console,
    table,
    topic_partitions,
)
from luong.cli.topic import wait_for
from luong.errors import LuongError

__all__ = ["ACTIONS"]


def _spec(kind: str, *args: int) -> Any:
    """An OffsetSpec (confluent-kafka's constructors are untyped)."""
    return getattr(OffsetSpec, kind)(*args)


def _admin(args: argparse.Namespace) -> tuple[AdminClient, BrokerWatch]:
    watch = BrokerWatch(args.bootstrap, args.timeout)
    admin = new_client(AdminClient, client_config(args, watch, {}))
    connect(admin, watch)
    return admin, watch


@client_command
def _list(args: argparse.Namespace) -> int:
    admin, _ = _admin(args)
    listed = wait_for(admin.list_consumer_groups(request_timeout=args.timeout), args, "list groups")
    rows = table("group", "state")
    for group in sorted(listed.valid, key=lambda g: g.group_id):
        rows.add_row(group.group_id, group.state.name.lower())
    out_console().print(rows)
    return 0


def _committed(admin: AdminClient, args: argparse.Namespace, group: str) -> list[Any]:
    futures = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])
    answer = wait_for(futures[group], args, f"fetch the offsets of group {group!r}")
    return [tp for tp in answer.topic_partitions if tp.offset >= 0]


def _offsets(
    admin: AdminClient, args: argparse.Namespace, wanted: dict[Any, Any]
) -> dict[tuple[str, int], int]:
    if not wanted:
        return {}
    futures = admin.list_offsets(wanted, request_timeout=args.timeout)
    return {
        (tp.topic, tp.partition): wait_for(f, args, "list offsets").offset
        for tp, f in futures.items()
    }


@client_command
def _describe(args: argparse.Namespace) -> int:
    admin, _ = _admin(args)
    description = wait_for(
        admin.describe_consumer_groups([args.group])[args.group],
        args,
        f"describe group {args.group!r}",
    )
    console = out_console()
    console.print(
        f"Group: {args.group}  state: {description.state.name.lower()}  "
        f"assignor: {description.partition_assignor or '-'}"
    )
    members = table("member", "client", "host", "partitions")
    for m in description.members:
        owned = ",".join(f"{tp.topic}-{tp.partition}" for tp in m.assignment.topic_partitions)
        members.add_row(m.member_id, m.client_id, m.host, owned or "-")
    console.print(members)
    committed = _committed(admin, args, args.group)
    ends = _offsets(
        admin,
        args,
        {TopicPartition(tp.topic, tp.partition): _spec("latest") for tp in committed},
    )
    lags = table("topic", "partition", "committed", "end", "lag")
    for tp in sorted(committed, key=lambda t: (t.topic, t.partition)):
        end = ends[(tp.topic, tp.partition)]
        lags.add_row(
            tp.topic, str(tp.partition), str(tp.offset), str(end), str(max(end - tp.offset, 0))
        )
    console.print(lags)
    return 0


@client_command
def _reset(args: argparse.Namespace) -> int:
    admin, watch = _admin(args)
    description = wait_for(
        admin.describe_consumer_groups([args.group])[args.group],
        args,
        f"describe group {args.group!r}",
    )
    if description.members:
        raise LuongError(f"group {args.group!r} has members: stop them before resetting")
    partitions = topic_partitions(admin, watch, args.topic)
    plan = _plan(admin, args, partitions)
    rows = table("topic", "partition", "new offset")
    for partition, offset in plan.items():
        rows.add_row(args.topic, str(partition), str(offset))
    out_console().print(rows)
    if args.dry_run:
        print("Dry run: nothing changed.")
        return 0
    request = ConsumerGroupTopicPartitions(
        args.group, [TopicPartition(args.topic, p, o) for p, o in plan.items()]
    )
    futures = admin.alter_consumer_group_offsets([request], request_timeout=args.timeout)
    wait_for(futures[args.group], args, f"reset the offsets of group {args.group!r}")
    print(f"Reset the offsets of group {args.group} on {args.topic}.")
    return 0


def _plan(admin: AdminClient, args: argparse.Namespace, partitions: list[int]) -> dict[int, int]:
    """The new offset of every partition, within [earliest, latest]."""

    def spec_for(spec: Any) -> dict[int, int]:
        wanted = {TopicPartition(args.topic, p): spec for p in partitions}
        return {p: o for (_, p), o in _offsets(admin, args, wanted).items()}

    earliest, latest = spec_for(_spec("earliest")), spec_for(_spec("latest"))
    if args.to_earliest:
        target = earliest
    elif args.to_latest:
        target = latest
    elif args.to_datetime:
        moment = datetime.datetime.fromisoformat(args.to_datetime)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
        found = spec_for(_spec("for_timestamp", int(moment.timestamp() * 1000)))
        target = {p: o if o >= 0 else latest[p] for p, o in found.items()}
    elif args.to_offset is not None:
        target = dict.fromkeys(partitions, args.to_offset)
    else:
        current = {
            tp.partition: tp.offset
            for tp in _committed(admin, args, args.group)
            if tp.topic == args.topic
        }
        target = {p: current.get(p, earliest[p]) + args.shift_by for p in partitions}
    return {p: min(max(target[p], earliest[p]), latest[p]) for p in partitions}


@client_command
def _delete(args: argparse.Namespace) -> int:
    admin, _ = _admin(args)
    futures = admin.delete_consumer_groups(list(args.groups), request_timeout=args.timeout)
    for group in args.groups:
        wait_for(futures[group], args, f"delete group {group!r}")
        print(f"Deleted group {group}.")
    return 0


ACTIONS: dict[str, Callable[[argparse.Namespace], int]] = {
    "list": _list,
    "describe": _describe,
    "reset-offsets": _reset,
    "delete": _delete,
}
