"""The pipeline benchmark's three workloads written with Quix Streams (one worker process).

Run by benchmarks/pipeline_bench.py from benchmarks/.venv-peers (see setup_peers.sh); the
command-line contract is described in pipeline_bench.py's docstring:

    quix_app.py --workload filter_map|window_count|table_join --guarantee eos|alos
                --bootstrap B --input T --output O [--table CUSTOMERS] --group G
                [--emit final|update] [--state-dir DIR] [--commit-interval-ms MS]
    quix_app.py --capabilities

Choices, written the way a Quix Streams user would:

- filter_map: a StreamingDataFrame filter (`sdf[sdf["amount"] >= 50]`) and an `apply`.
- window_count: `tumbling_window(60 s, grace 0).count()` on the input keyed by user, with
  `.final()` (emit when the window closes) for throughput and `.current()` (emit every
  update) for the latency phase (`--emit update`). Windows close with Quix's default
  closing strategy, "key": a key's window closes when that key sees a record at or past the
  window's end, the same rule as Bytewax's per-key event clock.
- table_join: `StreamingDataFrame.join_asof` of the orders stream (keyed by customer id)
  with the customers table topic (keyed by customer id). That is the join Quix Streams
  documents for enrichment ("the left side represents some measurements and the right side
  is metadata"): the right side goes to a state store (with a changelog topic), each left
  record looks up the latest right record at or before its timestamp, and Quix aligns the
  two topics by timestamp, so customers (stamped before every order) are read first.
  `join_lookup` is the other candidate but needs a `BaseLookup` for an external source (its
  one implementation is the Quix configuration service), so it is not for a table topic.
  how="left" so that a missed lookup shows up in the benchmark's check instead of a stall.

  Found while benchmarking (Quix Streams 3.28.1, any broker): the timestamp-aligned
  ("buffered") consumption that join_asof turns on pauses a partition whose buffer holds
  10,000 messages, and when that buffer is empty it calls consume(10000,
  timeout=consumer_poll_timeout) *before* resuming the paused partition
  (InternalConsumer._feed_buffer), so every 10,000 records wait out the whole poll timeout
  (1 s by default): 5,000 rec/s instead of 8,900, and ~0.9 s p50 latency at 2,000 rec/s
  instead of ~0.13 s, with consumer_poll_timeout=0.1. The app keeps Quix's default;
  QUIX_CONSUMER_POLL_TIMEOUT=0.1 in the environment sets it, to compare.

Logs go at WARNING; QUIX_LOGLEVEL=INFO (or DEBUG) in the environment shows more.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from importlib.metadata import version
from typing import Any

WINDOW_MS = 60_000


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
        "framework": "quixstreams",
        "version": version("quixstreams"),
        "confluent_kafka": version("confluent-kafka"),
        "unsupported": {},
        "defaults": {"commit_interval_ms": 5000},
        "notes": {
            "window_count": "tumbling_window(60s, grace 0).count(); .final() for throughput, "
            ".current() (update emission) for latency; closing strategy 'key' (default)",
            "table_join": "sdf_orders.join_asof(sdf_customers, how='left'): customers in a "
            "state store (changelogged), orders look up the latest customer row",
            "eos": "processing_guarantee='exactly-once' (transactional producer, "
            "read_committed consumer)",
        },
    }


def build(args: argparse.Namespace) -> Any:
    from quixstreams import Application

    extra: dict[str, Any] = {}
    if os.environ.get("QUIX_CONSUMER_POLL_TIMEOUT"):
        extra["consumer_poll_timeout"] = float(os.environ["QUIX_CONSUMER_POLL_TIMEOUT"])
    if args.commit_interval_ms is not None:
        extra["commit_interval"] = args.commit_interval_ms / 1000
    app = Application(
        broker_address=args.bootstrap,
        consumer_group=args.group,
        auto_offset_reset="earliest",
        processing_guarantee="exactly-once" if args.guarantee == "eos" else "at-least-once",
        state_dir=args.state_dir or "state",
        loglevel=os.environ.get("QUIX_LOGLEVEL", "WARNING"),
        **extra,
    )
    source = app.topic(args.input, key_deserializer="str", value_deserializer="json")
    sink = app.topic(args.output, key_serializer="str", value_serializer="json")
    sdf = app.dataframe(source)

    if args.workload == "filter_map":
        sdf = sdf[sdf["amount"] >= 50]
        sdf = sdf.apply(
            lambda v: {"id": v["id"], "user": v["user"], "amount_cents": int(v["amount"] * 100)}
        )

    elif args.workload == "window_count":
        window = sdf.tumbling_window(duration_ms=WINDOW_MS, grace_ms=0).count()
        sdf = window.current() if args.emit == "update" else window.final()
        sdf = sdf.apply(
            lambda v, key, _ts, _headers: {
                "user": key,
                "start": v["start"],
                "end": v["end"],
                "count": v["value"],
            },
            metadata=True,
        )

    else:  # table_join
        customers = app.dataframe(
            app.topic(args.table, key_deserializer="str", value_deserializer="json")
        )

        def merge(order: dict[str, Any], customer: dict[str, Any] | None) -> dict[str, Any]:
            row = customer or {}
            return {**order, "name": row.get("name"), "country": row.get("country")}

        sdf = sdf.join_asof(customers, how="left", on_merge=merge)

    sdf.to_topic(sink)
    return app


def main() -> int:
    args = _parse_args()
    if args.capabilities:
        print(json.dumps(capabilities()))
        return 0
    app = build(args)
    app.run()  # until SIGTERM
    return 0


if __name__ == "__main__":
    sys.exit(main())
