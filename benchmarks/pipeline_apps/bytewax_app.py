"""The pipeline benchmark's three workloads written with Bytewax (one worker process).

Run by benchmarks/pipeline_bench.py from benchmarks/.venv-peers (see setup_peers.sh); the
command-line contract is described in pipeline_bench.py's docstring:

    bytewax_app.py --workload filter_map|window_count|table_join --guarantee alos
                   --bootstrap B --input T --output O [--table CUSTOMERS] --group G
                   [--emit final] [--state-dir DIR] [--commit-interval-ms MS]
    bytewax_app.py --capabilities

Choices, written the way a Bytewax user would:

- Source and sink: bytewax.connectors.kafka's KafkaSource (from the beginning, tailing)
  and KafkaSink. Bytewax keeps its input offsets in its own recovery store, not in a Kafka
  consumer group, so --group is unused.
- Guarantees: at-least-once is Bytewax's recovery (a SQLite recovery partition under
  --state-dir, snapshotted every epoch; epoch = --commit-interval-ms, default 10 s): after a
  crash it resumes from the last snapshot and its KafkaSink re-emits the epoch. Exactly-once
  is not supported: KafkaSink is a plain (non-transactional) producer, and Bytewax has no
  transactional sink, so output cannot be committed atomically with the input position.
- filter_map: `filter_map` over the parsed messages.
- window_count: `count_window` with an EventClock on the record's "ts" (wait 0) and a
  1-minute TumblingWindower aligned to the epoch. It emits only when a window closes: the
  clock is per key, so a key's window closes when that key sees a record at or past its
  end. There is no per-update emission mode, so `--emit update` is not supported.
  The clock is Bytewax's EventClock with its two system-time hooks turned off
  (`now_getter` pinned, `to_system_utc` returning None: "the runtime will not wake up to
  close windows and will depend on new items"), i.e. pure event time, the same rule as
  Quix. With the default hooks, on preloaded data (every close time already in the past)
  Bytewax 0.21.1 wakes every key on every activation and its watermark also advances
  with wall time between a key's records, so it closed windows early and dropped their
  later records: 300,000 records took 116 CPU-s (11 CPU-s with the hooks off) and 1,107
  of 84,962 window counts came out short. BYTEWAX_SYSTEM_CLOCK=1 in the environment brings
  the default clock back, to reproduce that.
- table_join: one KafkaSource over both topics, keyed by customer id, into a
  `stateful_flat_map` whose per-key state is the customer row (the table) plus any orders
  that arrived before their customer (the source reads both topics at once, with no time
  alignment, so an order can overtake its customer). Bytewax's `join` operator is not a
  table join: in "complete" mode it clears state after each match, and in "running" mode
  it emits on table updates too, so the stateful map is what Bytewax's docs point to for
  enrichment from a stream.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

WINDOW = timedelta(minutes=1)
EPOCH_ZERO = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_EPOCH_MS = 10_000
EOS_UNSUPPORTED = (
    "Bytewax's KafkaSink is a plain, non-transactional producer (there is no transactional "
    "sink), so output cannot be committed atomically with the input offsets; its recovery "
    "gives at-least-once"
)
UPDATE_UNSUPPORTED = (
    "Bytewax's windowing operators emit only when a window closes; there is no per-update "
    "emission mode, and a 1-minute window closes ~1 minute after it opens, so a close-mode "
    "latency would measure the window length, not the pipeline"
)


def _parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capabilities", action="store_true")
    parser.add_argument("--workload", choices=("filter_map", "window_count", "table_join"))
    parser.add_argument("--guarantee", choices=("eos", "alos"))
    parser.add_argument("--bootstrap")
    parser.add_argument("--input")
    parser.add_argument("--output")
    parser.add_argument("--table")
    parser.add_argument("--group")
    parser.add_argument("--emit", choices=("final", "update"), default="final")
    parser.add_argument("--state-dir")
    parser.add_argument("--commit-interval-ms", type=int)
    args = parser.parse_args(argv)
    if not args.capabilities:
        for name in ("workload", "guarantee", "bootstrap", "input", "output", "group"):
            if getattr(args, name) is None:
                parser.error(f"--{name.replace('_', '-')} is required")
        if args.workload == "table_join" and not args.table:
            parser.error("table_join needs --table")
    return args


def capabilities() -> dict[str, Any]:
    return {
        "framework": "bytewax",
        "version": version("bytewax"),
        "confluent_kafka": version("confluent-kafka"),
        "unsupported": {"eos": EOS_UNSUPPORTED, "window_count:update": UPDATE_UNSUPPORTED},
        "defaults": {"commit_interval_ms": DEFAULT_EPOCH_MS},
        "notes": {
            "window_count": "count_window + EventClock(ts, wait 0, pure event time: "
            "system-time hooks off) + TumblingWindower(1 min); emits on close only",
            "table_join": "KafkaSource over customers+orders, key_on customer id, "
            "stateful_flat_map holding the customer row (and orders that overtook it)",
            "alos": "Bytewax recovery (SQLite snapshots every epoch) + KafkaSink",
        },
    }


def _sink_message(key: str, value: dict[str, Any]) -> Any:
    from bytewax.connectors.kafka import KafkaSinkMessage

    return KafkaSinkMessage(key.encode(), json.dumps(value).encode())


def _filter_map(msg: Any) -> Any:
    v = json.loads(msg.value)
    if v["amount"] < 50:
        return None
    out = {"id": v["id"], "user": v["user"], "amount_cents": int(v["amount"] * 100)}
    return _sink_message(v["user"], out)


def _event_time(v: dict[str, Any]) -> datetime:
    return EPOCH_ZERO + timedelta(milliseconds=v["ts"])


def _clock() -> Any:
    from bytewax.operators.windowing import EventClock

    if os.environ.get("BYTEWAX_SYSTEM_CLOCK") == "1":
        return EventClock(_event_time, wait_for_system_duration=timedelta(0))
    return EventClock(
        _event_time,
        wait_for_system_duration=timedelta(0),
        now_getter=lambda: EPOCH_ZERO,  # the watermark follows event time only
        to_system_utc=lambda _close: None,  # close on items, not on wall-clock wake-ups
    )


def _window_out(item: tuple[str, tuple[int, int]]) -> Any:
    user, (window_id, count) = item
    length_ms = int(WINDOW / timedelta(milliseconds=1))
    start = window_id * length_ms
    return _sink_message(
        user, {"user": user, "start": start, "end": start + length_ms, "count": count}
    )


def _join(state: dict[str, Any] | None, item: tuple[bool, dict[str, Any]]) -> Any:
    """State: {"row": customer or None, "pending": [orders before their customer]}."""
    state = state or {"row": None, "pending": []}
    is_customer, v = item
    if is_customer:
        state["row"] = v
        waiting, state["pending"] = state["pending"], []
        return state, [_enrich(order, v) for order in waiting]
    if state["row"] is None:
        state["pending"].append(v)
        return state, []
    return state, [_enrich(v, state["row"])]


def _enrich(order: dict[str, Any], customer: dict[str, Any]) -> Any:
    out = {**order, "name": customer["name"], "country": customer["country"]}
    return _sink_message(str(order["customer"]), out)


def build(args: argparse.Namespace) -> Any:
    from bytewax import operators as op
    from bytewax.connectors.kafka import KafkaSink, KafkaSource
    from bytewax.dataflow import Dataflow
    from bytewax.operators.windowing import TumblingWindower, count_window

    brokers = [args.bootstrap]
    flow = Dataflow(f"bench_{args.workload}")
    topics = [args.table, args.input] if args.workload == "table_join" else [args.input]
    messages = op.input("in", flow, KafkaSource(brokers, topics))

    if args.workload == "filter_map":
        out = op.filter_map("filter_map", messages, _filter_map)

    elif args.workload == "window_count":
        parsed = op.map("parse", messages, lambda m: json.loads(m.value))
        windows = count_window(
            "count",
            parsed,
            _clock(),
            TumblingWindower(length=WINDOW, align_to=EPOCH_ZERO),
            key=lambda v: v["user"],
        )
        out = op.map("format", windows.down, _window_out)

    else:  # table_join
        table = args.table
        tagged = op.map("parse", messages, lambda m: (m.topic == table, json.loads(m.value)))
        keyed = op.key_on(
            "by_customer", tagged, lambda t: str(t[1]["id"] if t[0] else t[1]["customer"])
        )
        joined = op.stateful_flat_map("join", keyed, _join)
        out = op.map("unkey", joined, lambda kv: kv[1])

    op.output("out", out, KafkaSink(brokers, args.output))
    return flow


def main() -> int:
    args = _parse_args()
    if args.capabilities:
        print(json.dumps(capabilities()))
        return 0
    if args.guarantee == "eos":
        print(f"UNSUPPORTED: exactly-once: {EOS_UNSUPPORTED}", file=sys.stderr)
        return 3
    if args.workload == "window_count" and args.emit == "update":
        print(f"UNSUPPORTED: update emission: {UPDATE_UNSUPPORTED}", file=sys.stderr)
        return 3

    from bytewax.recovery import RecoveryConfig, init_db_dir
    from bytewax.run import cli_main

    flow = build(args)
    recovery_dir = Path(args.state_dir or "state") / "recovery"
    if not recovery_dir.exists():
        recovery_dir.mkdir(parents=True)
        init_db_dir(recovery_dir, 1)
    epoch_ms = args.commit_interval_ms or DEFAULT_EPOCH_MS

    def stop(_signum: int, _frame: Any) -> None:
        # KeyboardInterrupt inside a step makes Bytewax panic; the sink flushes every
        # batch, so there is nothing to lose by leaving at once.
        sys.stdout.flush()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    with contextlib.suppress(KeyboardInterrupt):
        cli_main(
            flow,
            epoch_interval=timedelta(milliseconds=epoch_ms),
            recovery_config=RecoveryConfig(recovery_dir),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
