"""Produce and consume throughput of a real `luong serve`, through confluent-kafka.

Runs the peer harness (`../shared/bench/peers.py`, its `kafka` adapter: W1 produce
of 100 B and 1 KiB messages with acks=all, idempotent, linger.ms=5; W2 consume;
W3 end-to-end latency) against a luong broker this script starts on a free port
with a fresh data directory, and the same workloads against librdkafka's in-process
mock cluster: the client's own ceiling, since client and broker share 2 cores.
The storage ceilings come from `benchmarks/storage_bench.py`.

    python benchmarks/broker_bench.py [--quick] [--runs N] [--json OUT]

Needs `psutil` (server CPU accounting) besides the test dependencies.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from luong.testing.node import LuongProcess

PEERS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "peers.py"


def run_peers(bootstrap: str, extra: list[str], out: Path, pid: int = 0) -> dict[str, object]:
    command = [
        sys.executable,
        str(PEERS),
        "suite",
        "--systems",
        "kafka",
        "--kafka-bootstrap",
        bootstrap,
        "--no-ceilings",
        "--json",
        str(out),
        *extra,
    ]
    if pid:
        command += ["--kafka-server-pid", str(pid)]
    subprocess.run(command, check=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    result: dict[str, object] = json.loads(out.read_text())
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts, a few seconds")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--json", default=None, help="write both results here")
    args = parser.parse_args()
    extra = ["--runs", str(args.runs)]
    if args.quick:
        extra += [
            "--n-small",
            "20000",
            "--n-large",
            "20000",
            "--lat-seconds",
            "3",
            "--no-fsync-check",
        ]
    with tempfile.TemporaryDirectory(prefix="luong-broker-bench-") as scratch:
        root = Path(scratch)
        with LuongProcess(root / "data") as node:
            assert node.process is not None
            luong = run_peers(node.bootstrap, extra, root / "luong.json", node.process.pid)
        mock = run_peers("mock", extra, root / "mock.json")
    if args.json:
        Path(args.json).write_text(json.dumps({"luong": luong, "mock": mock}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
