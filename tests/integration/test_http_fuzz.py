"""Schemathesis fuzzes every gateway operation from its OpenAPI document: no 5xx,
only documented status codes and media types, and the broker keeps serving."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from confluent_kafka.admin import AdminClient, NewTopic

from luong.testing.http import V2, http_call
from luong.testing.node import LuongProcess

ST = str(Path(sys.executable).parent / "st")
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance"
# Creating topics is left to test_http_admin.py: a fuzzer asks for 100,000 partitions
# at once (the largest count allowed), which takes minutes to lay out on disk.
NOT_FUZZED = ("--exclude-name", "POST /admin/topics")
# With every path pinned to the topic and the instance the deep run needs, these
# would delete them.
DESTRUCTIVE = (
    "--exclude-name",
    "DELETE /consumers/{group}/instances/{name}",
    "--exclude-name",
    "DELETE /admin/topics/{topic}",
)


def fuzz(
    node: LuongProcess, workdir: Path, config: Path | None, *extra: str
) -> subprocess.CompletedProcess[str]:
    command = [ST, *(("--config-file", str(config)) if config else ()), "run"]
    command += [f"{node.http_url}/openapi.json", "--checks", CHECKS, "--max-examples", "30"]
    command += ["--seed", "1", "--request-timeout", "10", *extra]
    return subprocess.run(  # in `workdir`: schemathesis keeps a cache where it runs
        command, capture_output=True, text=True, timeout=600, check=False, cwd=workdir
    )


def test_every_operation_survives_fuzzing(tmp_path: Path) -> None:
    with LuongProcess(tmp_path / "data") as node:
        status, _ = http_call(node.http_url, "GET", "/openapi.json")
        assert status == 200
        admin = AdminClient({"bootstrap.servers": node.bootstrap})
        admin.create_topics([NewTopic("fuzz", 2, 1)])["fuzz"].result(10)
        body = {"name": "fuzzer"}
        assert http_call(node.http_url, "POST", "/consumers/fuzz", body, content_type=V2)[0] == 200
        # deep: every path pinned to things that exist, streams bounded to 300 ms
        config = tmp_path / "schemathesis.toml"
        config.write_text(
            '[parameters]\n"path.topic" = "fuzz"\n"path.group" = "fuzz"\n'
            '"path.name" = "fuzzer"\n"query.timeout_ms" = "300"\n'
        )
        deep = fuzz(node, tmp_path, config, *DESTRUCTIVE, *NOT_FUZZED)
        assert deep.returncode == 0, deep.stdout[-4000:]
        # broad: any names at all (unknown topics, groups and instances)
        broad = fuzz(node, tmp_path, None, "--exclude-path-regex", "/events$|/ws$", *NOT_FUZZED)
        assert broad.returncode == 0, broad.stdout[-4000:]
        assert http_call(node.http_url, "GET", "/topics")[0] == 200
        assert "ERROR luong.gateway" not in node.log_text()  # no unexpected exception
