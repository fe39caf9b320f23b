"""The client commands `luong topic`, `luong produce` and `luong consume`, run as
subprocesses against a real `luong serve` and checked by their output and exit code.

Commands are written as shell lines (split with shlex). Commands that only read run
side by side to keep the module fast; each start of the CLI costs about half a second.
"""

from __future__ import annotations

import ast
import shlex
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from luong.testing.node import LuongProcess, free_port

CLIENT_MODULES = ("client_common", "topic", "produce", "consume", "parsers")
CLI_DIR = Path(__file__).parents[2] / "src" / "luong" / "cli"
TIMEOUT_S = 30

Done = subprocess.CompletedProcess[str]


def argv(command: str, bootstrap: str) -> list[str]:
    return [sys.executable, "-m", "luong", *shlex.split(command), "--bootstrap", bootstrap]


def run(command: str, bootstrap: str, stdin: str = "") -> Done:
    return subprocess.run(
        argv(command, bootstrap),
        input=stdin,
        capture_output=True,
        encoding="utf-8",
        timeout=TIMEOUT_S,
        check=False,
    )


def run_many(bootstrap: str, *commands: str) -> list[Done]:
    """Independent commands, run side by side; results in order."""
    with ThreadPoolExecutor(len(commands)) as pool:
        return list(pool.map(lambda command: run(command, bootstrap), commands))


def ok(done: Done) -> str:
    assert done.returncode == 0, (done.args, done.stderr)
    return done.stdout


def one_line_error(done: Done) -> str:
    """A failure is exit code 1 and one line `luong: …` on stderr, no traceback."""
    assert done.returncode == 1, (done.args, done.returncode, done.stderr)
    assert done.stderr.startswith("luong: ")
    assert done.stderr.count("\n") == 1, done.stderr
    return done.stderr.strip()


def summary_and_error(done: Done) -> tuple[str, str]:
    """A produce that failed: its summary line (without the time), then the error line."""
    assert done.returncode == 1, (done.args, done.returncode, done.stderr)
    summary, error = done.stderr.splitlines()
    return summary.partition(" in ")[0], error


def rows(output: str) -> list[list[str]]:
    """The cells of the rows under the first table header rule (cells split at spaces)."""
    lines = output.splitlines()
    rule = next(i for i, line in enumerate(lines) if line and set(line) == {"─"})
    return [line.split() for line in lines[rule + 1 :] if line.strip()]


def name() -> str:
    return f"cli-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def bootstrap(luong: LuongProcess) -> str:
    return luong.bootstrap


@pytest.fixture(scope="module")
def admin(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap})


def create(admin: AdminClient, partitions: int, **config: str) -> str:
    topic = name()
    admin.create_topics([NewTopic(topic, partitions, 1, config=config)])[topic].result(TIMEOUT_S)
    return topic


def test_topic_create_list_describe_alter_delete(bootstrap: str, admin: AdminClient) -> None:
    topic = name()
    created = run(f"topic create {topic} --partitions 2 --config retention.ms=3600000", bootstrap)
    assert ok(created) == f"Created topic {topic}.\n"

    listed, described = run_many(bootstrap, "topic list", f"topic describe {topic}")
    assert [topic, "2"] in rows(ok(listed))
    assert ok(described).splitlines()[0] == (
        f"Topic: {topic}  partitions: 2  replication factor: 1"
    )
    table = rows(ok(described))
    assert table[:3] == [["0", "0", "0", "0"], ["1", "0", "0", "0"], ["config", "value", "source"]]
    assert ["*", "retention.ms", "3600000", "topic"] in table
    assert ["cleanup.policy", "delete", "default"] in table

    altered = run(
        f"topic alter {topic} --set cleanup.policy=compact --delete retention.ms --partitions 3",
        bootstrap,
    )
    assert ok(altered) == (
        f"Altered topic {topic}: set cleanup.policy=compact, deleted retention.ms, partitions 3.\n"
    )
    described, again, tolerated, invalid, empty = run_many(
        bootstrap,
        f"topic describe {topic}",
        f"topic create {topic}",
        f"topic create {topic} --if-not-exists",
        f"topic alter {topic} --set retention.ms=soon",
        f"topic alter {topic}",
    )
    table = rows(ok(described))
    assert ["2", "0", "0", "0"] in table
    assert ["*", "cleanup.policy", "compact", "topic"] in table
    assert ["retention.ms", "604800000", "default"] in table
    assert one_line_error(again) == (
        f"luong: cannot create topic {topic!r}: topic {topic!r} already exists "
        "(TOPIC_ALREADY_EXISTS)"
    )
    assert ok(tolerated) == f"Topic {topic} already exists.\n"
    assert one_line_error(invalid).startswith(
        f"luong: cannot alter the configs of topic {topic!r}: Invalid value 'soon'"
    )
    assert one_line_error(empty) == (
        "luong: topic alter wants at least one of --set, --delete, --partitions"
    )

    assert ok(run(f"topic delete {topic}", bootstrap)) == f"Deleted topic {topic}.\n"
    assert topic not in admin.list_topics(timeout=TIMEOUT_S).topics
    gone, tolerated = run_many(
        bootstrap, f"topic delete {topic}", f"topic delete {topic} --if-exists"
    )
    assert one_line_error(gone) == (
        f"luong: cannot delete topic {topic!r}: Broker: Unknown topic or partition "
        "(UNKNOWN_TOPIC_OR_PART)"
    )
    assert ok(tolerated) == ""


def test_produce_keys_and_headers_then_consume_with_a_format(
    bootstrap: str, admin: AdminClient
) -> None:
    topic = create(admin, 1)
    lines = "k1:v1\nk2:v:2\n:no key\nk4:\r\nключ:значение ✓\n"
    produced = run(
        f"produce {topic} --key-separator : --header app=cli --header eq=a=b", bootstrap, lines
    )
    assert ok(produced) == ""
    assert produced.stderr.startswith(f"luong: produced 5 messages to {topic} in ")

    formatted, stamps = run_many(
        bootstrap,
        f"consume {topic} --from-beginning --format '{{topic}}|{{partition}}|{{offset}}|"
        "{key}|{value}|{headers}\\t.'",
        f"consume {topic} --offset earliest --format '{{timestamp}}'",
    )
    assert ok(formatted) == (
        f"{topic}|0|0|k1|v1|app=cli,eq=a=b\t.\n"
        f"{topic}|0|1|k2|v:2|app=cli,eq=a=b\t.\n"
        f"{topic}|0|2||no key|app=cli,eq=a=b\t.\n"
        f"{topic}|0|3|k4||app=cli,eq=a=b\t.\n"
        f"{topic}|0|4|ключ|значение ✓|app=cli,eq=a=b\t.\n"
    )
    assert formatted.stderr.startswith(f"luong: consumed 5 messages from {topic} in ")
    now_ms = time.time() * 1000
    assert [now_ms - 60_000 < int(stamp) <= now_ms for stamp in ok(stamps).split()] == [True] * 5

    # Without --key-separator the key is null; a line missing the separator is an error.
    ok(run(f"produce {topic}", bootstrap, "plain\n"))
    missing = run(f"produce {topic} --key-separator =", bootstrap, "a=1\nb\n")
    assert summary_and_error(missing) == (
        f"luong: produced 1 message to {topic}",
        "luong: line 2 has no key separator '='",
    )
    last_two = run(
        f"consume {topic} --offset -2 --format '{{key}} {{value}} [{{headers}}]'", bootstrap
    )
    assert ok(last_two) == "null plain []\na 1 []\n"


def test_produce_a_file_to_a_partition_then_consume_by_offset_and_partition(
    bootstrap: str, admin: AdminClient, tmp_path: Path
) -> None:
    topic = create(admin, 3)
    source = tmp_path / "lines.txt"
    source.write_text("".join(f"{i}\n" for i in range(10)))
    produce = f"produce {topic} --file {source} --partition 1 --compression zstd --acks 1"
    assert ok(run(produce, bootstrap)) == ""

    consume = f"consume {topic} --format {{partition}}:{{offset}}:{{value}}"
    offset_7, last_2, beyond, empty_partition, first_3, latest, no_such = run_many(
        bootstrap,
        f"{consume} --partition 1 --offset 7",
        f"{consume} --offset -2",
        f"{consume} --partition 1 --offset 100",
        f"{consume} --partition 0 --from-beginning",
        f"{consume} --from-beginning --max-messages 3",
        consume,
        f"{consume} --partition 3",
    )
    assert ok(offset_7) == "1:7:7\n1:8:8\n1:9:9\n"
    assert ok(last_2) == "1:8:8\n1:9:9\n"
    assert ok(beyond) == ""
    assert ok(empty_partition) == ""
    assert ok(first_3) == "1:0:0\n1:1:1\n1:2:2\n"
    assert ok(latest) == ""
    assert "started at the end: try --from-beginning or --follow" in latest.stderr
    assert one_line_error(no_such) == f"luong: topic {topic!r} has no partition 3 (it has 3)"


def test_follow_prints_new_messages_until_interrupted(bootstrap: str, admin: AdminClient) -> None:
    topic = create(admin, 2)
    follower = subprocess.Popen(
        argv(f"consume {topic} --follow --from-beginning", bootstrap),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        encoding="utf-8",
    )
    assert follower.stdout is not None
    try:
        ok(run(f"produce {topic} --partition 0", bootstrap, "one\n"))
        assert follower.stdout.readline() == "one\n"
        ok(run(f"produce {topic} --partition 1", bootstrap, "two\n"))
        assert follower.stdout.readline() == "two\n"
        follower.send_signal(signal.SIGINT)
        assert follower.wait(TIMEOUT_S) == 130
    finally:
        follower.kill()
        _, stderr = follower.communicate()
    assert stderr.startswith(f"luong: consumed 2 messages from {topic} in ")


def test_a_delivery_error_is_reported_in_one_line(bootstrap: str, admin: AdminClient) -> None:
    topic = create(admin, 1, **{"max.message.bytes": "100"})
    failed = run(f"produce {topic}", bootstrap, "x" * 500 + "\n")
    assert summary_and_error(failed) == (
        f"luong: produced 0 messages to {topic}",
        "luong: 1 of 1 messages not delivered: Broker: Message size too large (MSG_SIZE_TOO_LARGE)",
    )


def test_an_unknown_topic_is_an_error_and_is_not_created(
    bootstrap: str, admin: AdminClient
) -> None:
    topic = name()
    consumed, described = run_many(
        bootstrap, f"consume {topic} --from-beginning", f"topic describe {topic}"
    )
    assert one_line_error(consumed) == f"luong: unknown topic {topic!r}"
    assert consumed.stdout == ""
    assert one_line_error(described) == (f"luong: cannot describe topic {topic!r}: unknown topic")
    produced = run(f"produce {topic}", bootstrap, "one line\n")
    assert produced.returncode == 1 and f"unknown topic {topic!r}" in produced.stderr
    assert topic not in admin.list_topics(timeout=TIMEOUT_S).topics


def test_a_dead_bootstrap_address_fails_fast() -> None:
    dead = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    results = run_many(dead, "topic list", "produce anything", "consume anything")
    assert time.monotonic() - started < 5
    for done in results:
        error = one_line_error(done)
        assert error.startswith(f"luong: cannot reach the cluster at {dead}: ")
        assert "Connection refused" in error


@pytest.fixture
def silent_address() -> Iterator[str]:
    """A port whose connections the kernel accepts but nobody ever answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield f"127.0.0.1:{server.getsockname()[1]}"


def test_a_silent_address_fails_within_the_timeout(silent_address: str) -> None:
    started = time.monotonic()
    done = run("topic list --timeout 1", silent_address)
    assert time.monotonic() - started < 5
    assert f"the cluster at {silent_address}" in one_line_error(done)


def test_client_commands_import_no_broker_side_module() -> None:
    """The client side talks Kafka through confluent-kafka only (DESIGN.md, the shape)."""
    allowed = {"luong", "luong.errors"} | {f"luong.cli.{module}" for module in CLIENT_MODULES}
    for module in CLIENT_MODULES:
        tree = ast.parse((CLI_DIR / f"{module}.py").read_text())
        imported = {
            alias.name if isinstance(node, ast.Import) else str(node.module)
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert {name for name in imported if name.startswith("luong")} <= allowed, module
