"""`luong …` commands.

luong serve …                      run the broker (luong.cli.serve)
luong topic create|list|describe|alter|delete …   administer topics (luong.cli.topic)
luong produce TOPIC …              send lines as messages (luong.cli.produce)
luong consume TOPIC …              print messages (luong.cli.consume)
luong group list|describe|reset-offsets|delete …   consumer groups (luong.cli.group)
luong transaction list|describe …  transactions (luong.cli.transaction)
luong bench produce|consume|e2e TOPIC …   load tests of any Kafka cluster (luong.cli.bench)
luong dump-log FILE [--records]   print the batches of a `.log` segment file
luong --version
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from luong import __version__
from luong.cli.bench import add_bench_command
from luong.cli.consume import add_consume_command
from luong.cli.group import add_group_command
from luong.cli.produce import add_produce_command
from luong.cli.serve import add_serve_command
from luong.cli.topic import add_topic_command
from luong.cli.transaction import add_transaction_command
from luong.errors import LuongError
from luong.protocol.records import BatchHeader, decode_batch
from luong.storage.log.dump import iter_segment_batches

__all__ = ["main"]


def _dump_log(args: argparse.Namespace) -> int:
    for position, batch in iter_segment_batches(args.file):
        h = BatchHeader.parse(batch)
        print(
            f"baseOffset: {h.base_offset} lastOffset: {h.last_offset} count: {h.record_count} "
            f"position: {position} size: {h.size} compression: {h.compression.name.lower()} "
            f"maxTimestamp: {h.max_timestamp} producerId: {h.producer_id} "
            f"isTransactional: {h.is_transactional} isControl: {h.is_control}"
        )
        if args.records:
            for r in decode_batch(batch).records:
                print(
                    f"| offset: {r.offset} timestamp: {r.timestamp} key: {r.key!r} "
                    f"value: {r.value!r} headers: {list(r.headers)}"
                )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="luong", description="luong event streaming platform")
    parser.add_argument("--version", action="version", version=f"luong {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    dump = commands.add_parser("dump-log", help="print the batches of a .log segment file")
    dump.add_argument("file")
    dump.add_argument("--records", action="store_true", help="decode every record too")
    dump.set_defaults(handler=_dump_log)
    add_serve_command(commands)
    add_topic_command(commands)
    add_group_command(commands)
    add_transaction_command(commands)
    add_bench_command(commands)
    add_produce_command(commands)
    add_consume_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (LuongError, OSError) as error:
        print(f"luong: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
