"""`luong pipeline …`: run stream-processing pipelines and watch them.

    luong pipeline run app.py [--from WHERE [--until WHERE] [--output-suffix S]]
    luong pipeline list
    luong pipeline status NAME [--json]

`run` loads the Python file (it must make one `luong.pipelines.Pipeline`, or name
it with --pipeline) and runs a worker until Ctrl-C or SIGTERM, which commit and
leave the group cleanly; with --from it processes that slice of history and exits
(luong.pipelines.history). --bootstrap overrides the pipeline's own.

`list` and `status` read the status records workers publish every 2 s to the
compacted topic `_luong_pipelines`; a worker whose last record is older than 10 s
is shown as `stale` (it was killed, or cannot reach the cluster).
"""

from __future__ import annotations

import argparse
import logging
import runpy
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from luong.cli.client_common import (
    BrokerWatch,
    client_command,
    client_config,
    connect,
    new_client,
    out_console,
    table,
)
from luong.errors import LuongError

__all__ = ["ACTIONS", "load_pipeline", "read_statuses"]

_STATUS_TOPIC = "_luong_pipelines"
_STALE_MS = 10_000


def load_pipeline(file: str, name: str | None) -> Any:
    """The Pipeline the file makes (the one called `name`, if given)."""
    from luong.pipelines import Pipeline

    path = Path(file)
    if not path.is_file():
        raise LuongError(f"no such file: {file}")
    sys.path.insert(0, str(path.resolve().parent))
    namespace = runpy.run_path(str(path), run_name="__luong_pipeline__")
    found = {id(v): v for v in namespace.values() if isinstance(v, Pipeline)}
    pipelines = list(found.values())
    if name is not None:
        pipelines = [p for p in pipelines if p.name == name]
    if len(pipelines) != 1:
        names = ", ".join(sorted(p.name for p in found.values())) or "none"
        wanted = f"pipeline {name!r}" if name else "one Pipeline"
        raise LuongError(f"{file} should make {wanted}; it makes: {names} (use --pipeline NAME)")
    return pipelines[0]


def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    pipeline = load_pipeline(args.file, args.pipeline)
    if args.start is None:
        if args.until is not None or args.output_suffix:
            raise LuongError("--until and --output-suffix go with --from")
        return _live(pipeline, args)
    return _bounded(pipeline, args)


def _live(pipeline: Any, args: argparse.Namespace) -> int:
    from confluent_kafka import KafkaException

    from luong.pipelines.admin import PipelineSetupError
    from luong.pipelines.worker import PipelineError, run

    listen = None if args.http_listen == "none" else args.http_listen
    try:
        return run(
            pipeline,
            bootstrap=args.bootstrap,
            state_dir=args.state_dir,
            http_listen=listen,
            http_token=args.http_token,
            timeout_s=max(args.timeout, 30.0),
        )
    except (PipelineError, PipelineSetupError, KafkaException, ValueError) as error:
        raise LuongError(str(error)) from None


def _bounded(pipeline: Any, args: argparse.Namespace) -> int:
    from luong.pipelines.admin import PipelineSetupError
    from luong.pipelines.history import parse_position, run_bounded

    try:
        start = parse_position(args.start)
        until = None if args.until is None else parse_position(args.until)
        result = run_bounded(
            pipeline,
            start,
            until,
            output_suffix=args.output_suffix,
            bootstrap=args.bootstrap,
            timeout_s=max(args.timeout, 30.0),
            progress=True,
        )
    except (PipelineSetupError, ValueError) as error:
        raise LuongError(str(error)) from None
    print(
        f"luong: {pipeline.name}: {result.records_in:,} records in, {result.records_out:,} out, "
        f"{result.dead_letters:,} dead letters, in {result.seconds:.2f} s",
        file=sys.stderr,
    )
    return 0


def read_statuses(config: dict[str, Any], timeout_s: float) -> dict[str, dict[str, Any]]:
    """The latest status record of every worker (`<pipeline>/<worker>` -> status)."""
    consumer = Consumer(
        {
            **config,
            "group.id": "luong-cli-pipelines",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    try:
        metadata = consumer.list_topics(_STATUS_TOPIC, timeout=timeout_s)
        topic = metadata.topics.get(_STATUS_TOPIC)
        if topic is None or topic.error is not None:
            return {}
        consumer.assign(
            [TopicPartition(_STATUS_TOPIC, p, OFFSET_BEGINNING) for p in topic.partitions]
        )
        return _read_to_end(consumer, len(topic.partitions), timeout_s)
    finally:
        consumer.close()


def _read_to_end(consumer: Consumer, partitions: int, timeout_s: float) -> dict[str, Any]:
    statuses: dict[str, Any] = {}
    ended = 0
    deadline = time.monotonic() + timeout_s
    while ended < partitions and time.monotonic() < deadline:
        for message in consumer.consume(1000, 0.2):
            error = message.error()
            if error is not None:
                ended += error.code() == KafkaError._PARTITION_EOF
                continue
            key = (message.key() or b"").decode(errors="replace")
            value = message.value()
            if value is None:
                statuses.pop(key, None)
            else:
                statuses[key] = orjson.loads(value)
    return statuses


def _statuses(args: argparse.Namespace) -> list[dict[str, Any]]:
    watch = BrokerWatch(args.bootstrap, args.timeout)
    config = client_config(args, watch, {})
    probe = new_client(Consumer, {**config, "group.id": "luong-cli-pipelines"})
    try:
        connect(probe, watch)
    finally:
        probe.close()
    now_ms = int(time.time() * 1000)
    statuses = list(read_statuses(config, args.timeout).values())
    for status in statuses:
        if now_ms - status.get("updated_ms", 0) > _STALE_MS:
            status["state"] = "stale"
    return sorted(statuses, key=lambda s: (s["pipeline"], s["worker"]))


@client_command
def _list(args: argparse.Namespace) -> int:
    statuses = _statuses(args)
    grid = table(
        "pipeline", "workers", "running", "partitions", "lag", "in/s", "out/s", "dead letters"
    )
    names = sorted({s["pipeline"] for s in statuses})
    for name in names:
        mine = [s for s in statuses if s["pipeline"] == name]
        running = sum(s["state"] == "running" for s in mine)
        parts = sum(len(s["partitions"]) for s in mine)
        lag = sum(p["lag"] or 0 for s in mine for p in s["partitions"])
        grid.add_row(
            name,
            str(len(mine)),
            str(running),
            str(parts),
            str(lag),
            _rate(mine, "records_in_per_s"),
            _rate(mine, "records_out_per_s"),
            str(sum(s["dead_letters"] for s in mine)),
        )
    out_console().print(grid)
    if not names:
        print("luong: no pipeline has published a status", file=sys.stderr)
    return 0


def _rate(statuses: list[dict[str, Any]], field: str) -> str:
    return f"{sum(s[field] for s in statuses if s['state'] == 'running'):,.0f}"


@client_command
def _status(args: argparse.Namespace) -> int:
    statuses = [s for s in _statuses(args) if s["pipeline"] == args.name]
    if args.json:
        print(orjson.dumps(statuses, option=orjson.OPT_INDENT_2).decode())
        return 0 if statuses else 1
    if not statuses:
        raise LuongError(f"no worker of pipeline {args.name!r} has published a status")
    console = out_console()
    for status in statuses:
        console.print(
            f"worker {status['worker']}  {status['state']}  {status['host']} pid {status['pid']}"
            f"  {status['guarantee']}  http {status['http'] or '-'}"
        )
        console.print(
            f"  in {status['records_in']:,} ({status['records_in_per_s']:,.0f}/s)"
            f"  out {status['records_out']:,} ({status['records_out_per_s']:,.0f}/s)"
            f"  dead letters {status['dead_letters']:,}  late dropped {status['late_dropped']:,}"
        )
        parts = table("topic", "partition", "position", "end", "lag", "lag s")
        for p in status["partitions"]:
            lag_s = "-" if p["lag_ms"] is None else f"{p['lag_ms'] / 1000:.1f}"
            parts.add_row(
                p["topic"],
                str(p["partition"]),
                str(p["position"]),
                str(p["end"]),
                "-" if p["lag"] is None else str(p["lag"]),
                lag_s,
            )
        console.print(parts)
        stores = table("store", "partition", "keys", "bytes")
        for s in status["stores"]:
            stores.add_row(
                s["name"],
                "-" if s["partition"] is None else str(s["partition"]),
                f"{s['keys']:,}",
                "-" if s["bytes"] is None else f"{s['bytes']:,}",
            )
        console.print(stores)
    return 0


ACTIONS = {"run": _run, "list": _list, "status": _status}
