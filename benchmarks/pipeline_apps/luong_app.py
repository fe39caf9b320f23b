"""luong pipelines' side of benchmarks/pipeline_bench.py (its app contract).

    python luong_app.py --capabilities
    python luong_app.py --workload W --guarantee eos|alos --bootstrap B --input T
        --output O [--table T] --group G [--emit final|update] [--state-dir D]
        [--commit-interval-ms MS]

The three workloads as a luong user writes them: W1 filter+map; W2 a 1-minute
tumbling count per key (the input is keyed by user already, so no repartition),
emitted on close or on every update; W3 a stream-table join against the customers
table (read whole by the worker, versioned by record time: every customer is
stamped before the orders). Runs one live worker until SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from luong import __version__
from luong.pipelines import Count, Pipeline, tumbling

GUARANTEES = {"eos": "exactly_once", "alos": "at_least_once"}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--capabilities", action="store_true")
    parser.add_argument("--workload", choices=("filter_map", "window_count", "table_join"))
    parser.add_argument("--guarantee", choices=tuple(GUARANTEES))
    parser.add_argument("--bootstrap")
    parser.add_argument("--input")
    parser.add_argument("--output")
    parser.add_argument("--table")
    parser.add_argument("--group")
    parser.add_argument("--emit", choices=("final", "update"), default="final")
    parser.add_argument("--state-dir", default=".")
    parser.add_argument("--commit-interval-ms", type=int, default=None)
    return parser.parse_args()


def window_result(record: Any) -> dict[str, Any]:
    window = record.value
    return {
        "user": record.key,
        "start": window["start"],
        "end": window["end"],
        "count": window["value"],
    }


def build(args: argparse.Namespace) -> Pipeline:
    pipeline = Pipeline(
        args.group,
        bootstrap=args.bootstrap,
        guarantee=GUARANTEES[args.guarantee],
        commit_interval_ms=args.commit_interval_ms or 100,
        state_dir=args.state_dir,
    )
    source = pipeline.source(args.input)
    if args.workload == "filter_map":
        source.filter(lambda v: v["amount"] >= 50).map(
            lambda v: {"id": v["id"], "user": v["user"], "amount_cents": int(v["amount"] * 100)}
        ).to(args.output)
    elif args.workload == "window_count":
        emit = "close" if args.emit == "final" else "update"
        source.window(tumbling(60_000)).aggregate(Count(), emit=emit).map(
            window_result, record=True
        ).to(args.output)
    else:
        customers = pipeline.table(args.table)
        source.join(
            customers,
            on=lambda order: str(order["customer"]),
            combine=lambda order, c: {**order, "name": c["name"], "country": c["country"]},
        ).to(args.output)
    return pipeline


def main() -> int:
    args = arguments()
    if args.capabilities:
        print(
            json.dumps(
                {
                    "framework": "luong",
                    "version": __version__,
                    "unsupported": {},
                    "defaults": {"commit_interval_ms": 100},
                    "notes": {
                        "window_count": "tumbling(60_000) per message key; emit close or update",
                        "table_join": "Pipeline.table (global, versioned by record time) + join",
                    },
                }
            )
        )
        return 0
    return build(args).run(http_listen=None)


if __name__ == "__main__":
    sys.exit(main())
