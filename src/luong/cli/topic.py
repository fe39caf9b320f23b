"""`luong topic …`: administer topics through confluent-kafka's AdminClient.

    luong topic create NAME [--partitions N] [--replication-factor N]
                            [--config NAME=VALUE ...] [--if-not-exists]
    luong topic list
    luong topic describe NAME
    luong topic alter NAME [--set NAME=VALUE ...] [--delete NAME ...] [--partitions N]
    luong topic delete NAME ... [--if-exists]

each with the client options of `luong.cli.client_common` (--bootstrap, --timeout, -X).

Differences from Kafka's `kafka-topics.sh` / `kafka-configs.sh`:
- one command for both: `describe` prints the partitions (leader, replicas, ISR) and
  every topic config from DescribeConfigs, overrides marked `*` with their source;
  `alter` changes configs with IncrementalAlterConfigs (`--set` is SET, `--delete` is
  DELETE; APPEND and SUBTRACT are not offered) and grows the partition count with
  CreatePartitions (`--partitions`).
- `--partitions` and `--replication-factor` of `create` default to the broker's
  defaults (sent as -1), as `kafka-topics.sh` does since Kafka 2.4.
- `list` prints a table of names and partition counts, internal topics included.
- metadata requests never create a topic: `allow.auto.create.topics` is off.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any

from confluent_kafka import KafkaError, KafkaException

# confluent-kafka's admin package re-exports these without `__all__` (mypy: attr-defined)
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
)
from rich.table import Table

from luong.cli.client_common import (
    BrokerWatch,
    client_command,
    client_config,
    connect,
    error_text,
    new_client,
    out_console,
    parse_pairs,
    table,
)
from luong.errors import LuongError

__all__ = ["ACTIONS", "wait_for"]

_SOURCE_NAMES = {
    ConfigSource.DYNAMIC_TOPIC_CONFIG.value: "topic",
    ConfigSource.DYNAMIC_BROKER_CONFIG.value: "broker (dynamic)",
    ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG.value: "cluster (dynamic)",
    ConfigSource.STATIC_BROKER_CONFIG.value: "broker",
    ConfigSource.DEFAULT_CONFIG.value: "default",
}


def _admin(args: argparse.Namespace) -> tuple[AdminClient, Any]:
    """An admin client, and the cluster's metadata for every topic."""
    watch = BrokerWatch(args.bootstrap, args.timeout)
    settings = {"allow.auto.create.topics": False}
    admin = new_client(AdminClient, client_config(args, watch, settings))
    return admin, connect(admin, watch)


def wait_for(future: Future[Any], args: argparse.Namespace, what: str) -> Any:
    """The future's result, or a one-line LuongError naming `what` failed."""
    try:
        return future.result(timeout=args.timeout)
    except KafkaException as error:
        raise LuongError(f"cannot {what}: {error_text(error)}") from None
    except TimeoutError:
        raise LuongError(f"cannot {what}: no answer within {args.timeout:g} s") from None


def _error_code(future: Future[Any]) -> int | None:
    error = future.exception(timeout=0) if future.done() else None
    if isinstance(error, KafkaException) and isinstance(error.args[0], KafkaError):
        code: int = error.args[0].code()
        return code
    return None


@client_command
def _create(args: argparse.Namespace) -> int:
    configs = dict(parse_pairs(args.config, "--config"))
    admin, _ = _admin(args)
    new = NewTopic(args.name, args.partitions, args.replication_factor, config=configs)
    future = admin.create_topics([new], request_timeout=args.timeout)[args.name]
    try:
        wait_for(future, args, f"create topic {args.name!r}")
    except LuongError:
        if args.if_not_exists and _error_code(future) == KafkaError.TOPIC_ALREADY_EXISTS:
            print(f"Topic {args.name} already exists.")
            return 0
        raise
    print(f"Created topic {args.name}.")
    return 0


@client_command
def _list(args: argparse.Namespace) -> int:
    _, metadata = _admin(args)
    rows = table("topic", "partitions")
    for name in sorted(metadata.topics):
        rows.add_row(name, str(len(metadata.topics[name].partitions)))
    out_console().print(rows)
    return 0


@client_command
def _describe(args: argparse.Namespace) -> int:
    admin, metadata = _admin(args)
    found = metadata.topics.get(args.name)
    if found is None or found.error is not None:
        why = "unknown topic" if found is None else error_text(found.error)
        raise LuongError(f"cannot describe topic {args.name!r}: {why}")
    resource = ConfigResource("topic", args.name)
    configs = wait_for(
        admin.describe_configs([resource], request_timeout=args.timeout)[resource],
        args,
        f"describe the configs of topic {args.name!r}",
    )
    partitions = [found.partitions[p] for p in sorted(found.partitions)]
    replication = len(partitions[0].replicas) if partitions else 0
    console = out_console()
    console.print(
        f"Topic: {args.name}  partitions: {len(partitions)}  replication factor: {replication}"
    )
    grid = table("partition", "leader", "replicas", "isr")
    for p in partitions:
        grid.add_row(str(p.id), str(p.leader), _ids(p.replicas), _ids(p.isrs))
    console.print(grid)
    console.print(_config_table(configs))
    return 0


def _ids(ids: list[int]) -> str:
    return ",".join(map(str, ids))


def _config_table(configs: Mapping[str, ConfigEntry]) -> Table:
    """Every config; `*` marks an override, i.e. a value not from the default."""
    grid = table("", "config", "value", "source")
    for name in sorted(configs):
        entry = configs[name]
        source = entry.source.value if isinstance(entry.source, ConfigSource) else entry.source
        value = "(sensitive)" if entry.is_sensitive else entry.value
        mark = "" if source == ConfigSource.DEFAULT_CONFIG.value else "*"
        grid.add_row(mark, name, "null" if value is None else value, _SOURCE_NAMES.get(source, "?"))
    return grid


@client_command
def _alter(args: argparse.Namespace) -> int:
    if not (args.set or args.delete or args.partitions is not None):
        raise LuongError("topic alter wants at least one of --set, --delete, --partitions")
    ops = [
        ConfigEntry(name, value, incremental_operation=AlterConfigOpType.SET)
        for name, value in parse_pairs(args.set, "--set")
    ] + [
        ConfigEntry(name, None, incremental_operation=AlterConfigOpType.DELETE)
        for name in args.delete
    ]
    admin, _ = _admin(args)
    done = []
    if ops:
        resource = ConfigResource("topic", args.name, incremental_configs=ops)
        futures = admin.incremental_alter_configs([resource], request_timeout=args.timeout)
        wait_for(futures[resource], args, f"alter the configs of topic {args.name!r}")
        done += [f"set {item}" for item in args.set] + [f"deleted {n}" for n in args.delete]
    if args.partitions is not None:
        new = NewPartitions(args.name, args.partitions)
        grown = admin.create_partitions([new], request_timeout=args.timeout)
        wait_for(grown[args.name], args, f"grow topic {args.name!r}")
        done.append(f"partitions {args.partitions}")
    print(f"Altered topic {args.name}: {', '.join(done)}.")
    return 0


@client_command
def _delete(args: argparse.Namespace) -> int:
    admin, _ = _admin(args)
    futures = admin.delete_topics(list(args.names), request_timeout=args.timeout)
    failures = []
    for name in args.names:
        try:
            wait_for(futures[name], args, f"delete topic {name!r}")
        except LuongError as error:
            unknown = _error_code(futures[name]) == KafkaError.UNKNOWN_TOPIC_OR_PART
            if not (args.if_exists and unknown):
                failures.append(str(error).removeprefix("cannot delete "))
            continue
        print(f"Deleted topic {name}.")
    if failures:
        raise LuongError(f"cannot delete {'; '.join(failures)}")
    return 0


ACTIONS: dict[str, Callable[[argparse.Namespace], int]] = {
    "create": _create,
    "list": _list,
    "describe": _describe,
    "alter": _alter,
    "delete": _delete,
}
