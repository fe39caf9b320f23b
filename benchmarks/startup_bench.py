"""How long luong's commands take to start: `luong --help`, client commands, `luong serve`.

    python benchmarks/startup_bench.py [--runs 7]

Each figure is the median (and the slowest) of `--runs` launches of a fresh
process, measured from the launch:

- `luong --help` and `luong --version`: until the process exits;
- client commands (`topic list`, `topic describe`, `group list`, `produce` of one
  line, `consume --max-messages 1`) against a broker started by this script: until
  the process exits, so they include the command's own network round trips;
- `luong serve` on an empty data directory: until the Kafka port accepts a
  connection, and until the HTTP port does (with the gateway), and with `--no-http`.

Nothing else should run on the machine meanwhile (a busy core shows as start-up).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from luong.testing.node import LuongProcess, free_port

LUONG = [sys.executable, "-m", "luong"]


def timed_run(args: list[str], stdin: bytes = b"") -> float:
    started = time.perf_counter()
    subprocess.run([*LUONG, *args], input=stdin, capture_output=True, check=True)
    return time.perf_counter() - started


def accepting(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def serve_once(data_dir: Path, http: bool) -> tuple[float, float]:
    """Seconds from launch until the Kafka port, then the HTTP port, accept."""
    port, http_port = free_port(), free_port()
    extra = ["--http-listen", f"127.0.0.1:{http_port}"] if http else ["--no-http"]
    command = [*LUONG, "serve", "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"]
    started = time.perf_counter()
    process = subprocess.Popen([*command, *extra], stderr=subprocess.DEVNULL)
    try:
        kafka = _wait(lambda: accepting(port), started)
        web = _wait(lambda: accepting(http_port), started) if http else kafka
    finally:
        process.terminate()
        process.wait(15)
    return kafka, web


def _wait(condition: Callable[[], bool], started: float) -> float:
    while not condition():
        if time.perf_counter() - started > 30:
            raise RuntimeError("luong serve did not start within 30 s")
        time.sleep(0.002)
    return time.perf_counter() - started


def summary(name: str, seconds: list[float]) -> str:
    return f"| {name} | {statistics.median(seconds):.3f} | {max(seconds):.3f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    rows = [
        summary("luong --help", [timed_run(["--help"]) for _ in range(runs)]),
        summary("luong --version", [timed_run(["--version"]) for _ in range(runs)]),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        with LuongProcess(Path(tmp) / "broker", {"num.partitions": "1"}) as node:
            bootstrap = ["--bootstrap", node.bootstrap]
            timed_run(["topic", "create", "bench-start", *bootstrap])
            timed_run(["produce", "bench-start", *bootstrap], b"warm-up\n")
            commands = {
                "luong topic list": ["topic", "list", *bootstrap],
                "luong topic describe": ["topic", "describe", "bench-start", *bootstrap],
                "luong group list": ["group", "list", *bootstrap],
                "luong produce (one line)": ["produce", "bench-start", *bootstrap],
                "luong consume --max-messages 1": [
                    *("consume", "bench-start", "--from-beginning", "--max-messages", "1"),
                    *bootstrap,
                ],
            }
            for name, args in commands.items():
                stdin = b"one line\n" if args[0] == "produce" else b""
                rows.append(summary(name, [timed_run(args, stdin) for _ in range(runs)]))
        serve = [serve_once(Path(tmp) / f"serve-{i}", http=True) for i in range(runs)]
        bare = [serve_once(Path(tmp) / f"bare-{i}", http=False)[0] for i in range(runs)]
    rows.append(summary("luong serve: Kafka port accepting", [k for k, _ in serve]))
    rows.append(summary("luong serve: HTTP port accepting", [w for _, w in serve]))
    rows.append(summary("luong serve --no-http: Kafka port accepting", bare))
    print(f"| command ({runs} runs) | median s | slowest s |\n|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
