"""The `luong` command line's arguments, for every command, and nothing heavier.

Building the parser imports only argparse: `luong --help` and a mistyped option
answer at once. Each command names the module that runs it (`module` in the
parsed arguments); that module, with what it needs (confluent-kafka, rich, kio,
the broker), is imported only when its command runs, and its `run(args)` does it.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from luong import __version__

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = [
    "DEFAULT_BOOTSTRAP",
    "DEFAULT_TIMEOUT_S",
    "FIELDS",
    "add_client_options",
    "build_parser",
    "positive",
    "positive_seconds",
    "start_offset",
]

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
DEFAULT_TIMEOUT_S = 5.0
# the fields `luong consume --format` fills in
FIELDS = ("topic", "partition", "offset", "timestamp", "key", "value", "headers")
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="luong", description="luong event streaming platform")
    parser.add_argument("--version", action="version", version=f"luong {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    dump = commands.add_parser("dump-log", help="print the batches of a .log segment file")
    dump.add_argument("file")
    dump.add_argument("--records", action="store_true", help="decode every record too")
    dump.set_defaults(module="luong.cli.dump_log")
    for add in (_serve, _topic, _group, _transaction, _bench, _produce, _consume, _pipeline):
        add(commands)
    return parser


# -- value types -------------------------------------------------------------------------


def positive(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"wants a positive integer, got {text!r}")
    return int(text)


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"wants a positive number of seconds, got {text!r}")
    return value


def start_offset(text: str) -> str | int:
    if text in ("earliest", "latest"):
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"wants N, -N, earliest or latest, got {text!r}") from None


def add_client_options(parser: argparse.ArgumentParser) -> None:
    """--bootstrap, --timeout and -X, which every client command takes."""
    parser.add_argument(
        "--bootstrap",
        "--bootstrap-server",
        dest="bootstrap",
        default=DEFAULT_BOOTSTRAP,
        metavar="HOST:PORT",
        help=f"brokers to start from, comma-separated ({DEFAULT_BOOTSTRAP})",
    )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"how long to wait for the cluster to answer ({DEFAULT_TIMEOUT_S:g})",
    )
    parser.add_argument(
        "-X",
        "--client-config",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a librdkafka client setting, e.g. security.protocol=SSL (repeatable)",
    )


def _pairs(parser: argparse.ArgumentParser, flag: str, text: str) -> None:
    parser.add_argument(flag, action="append", default=[], metavar="NAME=VALUE", help=text)


# -- commands ----------------------------------------------------------------------------


def _serve(commands: Commands) -> None:
    serve = commands.add_parser("serve", help="run the broker")
    serve.add_argument("--data-dir", default="luong-data", help="where logs live (luong-data)")
    serve.add_argument("--storage", default=None, help="storage URL (default log://DATA_DIR)")
    serve.add_argument("--listen", default="127.0.0.1:9092", help="HOST:PORT to listen on")
    serve.add_argument("--advertised", default=None, help="HOST:PORT clients are told")
    serve.add_argument("--config", default=None, help="file of name=value broker settings")
    _pairs(serve, "--set", "a broker setting by its Kafka name (repeatable)")
    serve.add_argument(
        "--http-listen",
        default="127.0.0.1:8080",
        help="HOST:PORT of the HTTP gateway (127.0.0.1:8080; port 0: any free one)",
    )
    serve.add_argument("--no-http", action="store_true", help="run without the HTTP gateway")
    serve.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ERROR")
    serve.set_defaults(module="luong.cli.serve")


def _topic(commands: Commands) -> None:
    topic = commands.add_parser("topic", help="create, list, describe, alter and delete topics")
    actions = topic.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a topic")
    create.add_argument("name")
    create.add_argument("--partitions", type=int, default=-1, help="(the broker's default)")
    create.add_argument("--replication-factor", type=int, default=-1, help="(the broker's default)")
    _pairs(create, "--config", "a topic config (repeatable)")
    create.add_argument("--if-not-exists", action="store_true", help="no error if it exists")
    listing = actions.add_parser("list", help="list topics and their partition counts")
    describe = actions.add_parser("describe", help="partitions and configs of a topic")
    describe.add_argument("name")
    alter = actions.add_parser("alter", help="change topic configs or grow its partitions")
    alter.add_argument("name")
    _pairs(alter, "--set", "set a topic config (repeatable)")
    alter.add_argument(
        "--delete",
        action="append",
        default=[],
        metavar="NAME",
        help="remove a config override, back to the default (repeatable)",
    )
    alter.add_argument("--partitions", type=int, help="grow the topic to N partitions")
    delete = actions.add_parser("delete", help="delete topics")
    delete.add_argument("names", nargs="+", metavar="NAME")
    delete.add_argument("--if-exists", action="store_true", help="no error for unknown topics")
    for parser in (create, listing, describe, alter, delete):
        add_client_options(parser)
        parser.set_defaults(module="luong.cli.topic")


def _group(commands: Commands) -> None:
    group = commands.add_parser("group", help="list, describe, reset and delete groups")
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="groups, their state and protocol type")
    describe = actions.add_parser("describe", help="members, committed offsets and lag")
    describe.add_argument("group")
    reset = actions.add_parser("reset-offsets", help="move an empty group's offsets")
    reset.add_argument("group")
    reset.add_argument("--topic", required=True)
    target = reset.add_mutually_exclusive_group(required=True)
    target.add_argument("--to-earliest", action="store_true")
    target.add_argument("--to-latest", action="store_true")
    target.add_argument("--to-datetime", metavar="ISO-8601")
    target.add_argument("--to-offset", type=int, metavar="N")
    target.add_argument("--shift-by", type=int, metavar="N")
    reset.add_argument("--dry-run", action="store_true", help="print the plan only")
    delete = actions.add_parser("delete", help="delete groups without members")
    delete.add_argument("groups", nargs="+", metavar="GROUP")
    for parser in (listing, describe, reset, delete):
        add_client_options(parser)
        parser.set_defaults(module="luong.cli.group")


def _transaction(commands: Commands) -> None:
    command = commands.add_parser("transaction", help="list and describe transactions")
    actions = command.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="transactional ids, producer ids and states")
    listing.add_argument("--state", action="append", default=[], help="e.g. Ongoing (repeatable)")
    listing.add_argument("--producer-id", type=int, action="append", default=[], metavar="ID")
    describe = actions.add_parser("describe", help="state, epoch, timeout and partitions")
    describe.add_argument("transactional_ids", nargs="+", metavar="TRANSACTIONAL_ID")
    for parser in (listing, describe):
        add_client_options(parser)
        parser.set_defaults(module="luong.cli.transaction")


def _bench(commands: Commands) -> None:
    bench = commands.add_parser("bench", help="measure throughput and latency of a cluster")
    kinds = bench.add_subparsers(dest="action", required=True, metavar="KIND")
    produce = kinds.add_parser("produce", help="producer throughput and ack latency")
    produce.add_argument("--messages", type=positive, default=1_000_000)
    produce.add_argument("--size", type=positive, default=100, metavar="BYTES")
    produce.add_argument("--rate", type=positive, default=None, metavar="MSGS_PER_S")
    produce.add_argument("--acks", choices=("all", "1", "0"), default="all")
    produce.add_argument("--linger-ms", type=int, default=5)
    produce.add_argument("--idempotence", action="store_true")
    consume = kinds.add_parser("consume", help="consumer throughput from the beginning")
    consume.add_argument("--messages", type=positive, default=None)
    e2e = kinds.add_parser("e2e", help="end-to-end latency at a steady rate")
    e2e.add_argument("--seconds", type=positive, default=10)
    e2e.add_argument("--rate", type=positive, default=1000, metavar="MSGS_PER_S")
    e2e.add_argument("--size", type=positive, default=100, metavar="BYTES")
    e2e.add_argument(
        "--warmup-seconds", type=float, default=1.0, help="sent first and not counted (1)"
    )
    for parser in (produce, consume, e2e):
        parser.add_argument("topic")
        add_client_options(parser)
        parser.set_defaults(module="luong.cli.bench")


def _produce(commands: Commands) -> None:
    produce = commands.add_parser("produce", help="send lines from stdin or a file as messages")
    produce.add_argument("topic")
    produce.add_argument("--file", "-f", help="read lines from FILE instead of stdin")
    produce.add_argument("--key-separator", metavar="SEP", help="split key and value at SEP")
    produce.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a header on every message (repeatable)",
    )
    produce.add_argument(
        "--partition", type=int, metavar="N", help="send every message to partition N"
    )
    produce.add_argument("--acks", choices=("all", "-1", "1", "0"), default="all", help="(all)")
    produce.add_argument("--compression", choices=CODECS, default="none", help="(none)")
    add_client_options(produce)
    produce.set_defaults(module="luong.cli.produce")


def _consume(commands: Commands) -> None:
    consume = commands.add_parser("consume", help="print the messages of a topic")
    consume.add_argument("topic")
    start = consume.add_mutually_exclusive_group()
    start.add_argument("--from-beginning", action="store_true", help="start at the earliest offset")
    start.add_argument(
        "--offset",
        type=start_offset,
        metavar="N|-N|earliest|latest",
        help="where to start in each partition (latest); -N: the last N messages",
    )
    consume.add_argument("--partition", type=int, metavar="N", help="read only partition N")
    consume.add_argument("--max-messages", type=positive, metavar="N", help="stop after N messages")
    consume.add_argument(
        "--follow", action="store_true", help="keep waiting for new messages (until Ctrl-C)"
    )
    consume.add_argument(
        "--format",
        default="{value}",
        help="a format string over {" + "} {".join(FIELDS) + "} ('{value}')",
    )
    add_client_options(consume)
    consume.set_defaults(module="luong.cli.consume")


def _pipeline(commands: Commands) -> None:
    command = commands.add_parser("pipeline", help="run and watch stream-processing pipelines")
    actions = command.add_subparsers(dest="action", required=True, metavar="ACTION")
    run = actions.add_parser("run", help="run a worker of the pipeline a Python file defines")
    run.add_argument("file", help="a .py file that makes a luong.pipelines.Pipeline")
    run.add_argument("--pipeline", metavar="NAME", help="which pipeline, if the file makes several")
    run.add_argument(
        "--from",
        dest="start",
        metavar="WHERE",
        help="process history from WHERE (earliest, an offset, @MILLIS or an ISO date-time)"
        " and exit when done",
    )
    run.add_argument(
        "--until", metavar="WHERE", help="with --from: stop before WHERE (default: the end now)"
    )
    run.add_argument(
        "--output-suffix", default="", metavar="TEXT", help="with --from: append TEXT to outputs"
    )
    run.add_argument("--state-dir", metavar="DIR", help="where local state lives (luong-state)")
    run.add_argument(
        "--http-listen",
        default="127.0.0.1:0",
        metavar="HOST:PORT",
        help="status and interactive queries (127.0.0.1:0: a free port); 'none' turns it off",
    )
    run.add_argument("--http-token", metavar="TOKEN", help="bearer token the endpoint requires")
    run.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    listing = actions.add_parser("list", help="pipelines with running workers")
    status = actions.add_parser("status", help="a pipeline's workers, partitions, lag and state")
    status.add_argument("name")
    status.add_argument("--json", action="store_true", help="the workers' status as JSON")
    for parser in (run, listing, status):
        add_client_options(parser)
        parser.set_defaults(module="luong.cli.pipeline")
    run.set_defaults(bootstrap=None)  # the pipeline's own unless given
