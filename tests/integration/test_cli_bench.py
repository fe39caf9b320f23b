"""`luong bench produce|consume|e2e` against a real broker: each measures what it says
and prints its figures."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid

from confluent_kafka.admin import AdminClient, NewTopic

from luong.testing.node import LuongProcess


def bench(node: LuongProcess, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "luong", "bench", *args, "--bootstrap", node.bootstrap]
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)


def test_produce_then_consume_then_end_to_end(luong: LuongProcess) -> None:
    topic = f"bench-{uuid.uuid4().hex[:6]}"
    admin = AdminClient({"bootstrap.servers": luong.bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(10)

    produced = bench(luong, "produce", topic, "--messages", "20000", "--size", "200")
    assert produced.returncode == 0, produced.stderr
    assert "produce: 20,000 messages" in produced.stdout
    assert re.search(
        r"latency ms: p50 [\d.]+, p95 [\d.]+, p99 [\d.]+, p99\.9 [\d.]+, max", produced.stdout
    )

    consumed = bench(luong, "consume", topic)
    assert consumed.returncode == 0, consumed.stderr
    assert re.search(
        r"consume: 20,000 messages in [\d.]+ s: [\d,]+ msg/s, [\d.,]+ MB/s", consumed.stdout
    )

    e2e = bench(luong, "e2e", topic, "--seconds", "2", "--rate", "500")
    assert e2e.returncode == 0, e2e.stderr
    assert "end to end: 1,000 messages" in e2e.stdout
    p50 = float(re.search(r"p50 ([\d.]+)", e2e.stdout).group(1))  # type: ignore[union-attr]
    assert 0 < p50 < 1000


def test_bad_input_is_refused_with_a_message(luong: LuongProcess) -> None:
    tiny = bench(luong, "e2e", "any", "--size", "4")
    assert tiny.returncode == 1 and "--size must be at least 8" in tiny.stderr
    zero = bench(luong, "produce", "any", "--messages", "0")
    assert zero.returncode == 2 and "wants a positive integer" in zero.stderr
