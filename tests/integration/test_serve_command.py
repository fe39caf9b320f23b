"""`luong serve`: settings by Kafka names, refusals that name the problem, one data
directory per process, a clean exit on SIGTERM."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from luong.testing.http import V2, http_call
from luong.testing.node import LuongProcess, free_port
from luong.testing.wire import WireClient


def serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "luong",
        "serve",
        "--data-dir",
        str(tmp_path / "d"),
        "--listen",
        f"127.0.0.1:{free_port()}",
        *args,
        *(() if "--http-listen" in args else ("--no-http",)),
    ]
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=30)


def test_unknown_setting_stops_the_start(tmp_path: Path) -> None:
    done = serve(tmp_path, "--set", "no.such.setting=1")
    assert done.returncode != 0
    assert "no.such.setting" in done.stderr


def test_bad_value_stops_the_start_naming_it(tmp_path: Path) -> None:
    done = serve(tmp_path, "--set", "num.partitions=zero")
    assert done.returncode != 0
    assert "num.partitions" in done.stderr and "zero" in done.stderr


def test_bad_config_file_line_is_named(tmp_path: Path) -> None:
    config = tmp_path / "broker.properties"
    config.write_text("# comment\nnum.partitions=2\nthis line has no equals sign\n")
    done = serve(tmp_path, "--config", str(config))
    assert done.returncode != 0
    assert "broker.properties:3" in done.stderr


def test_set_overrides_the_file_and_reaches_topics(tmp_path: Path) -> None:
    config = tmp_path / "broker.properties"
    config.write_text("num.partitions=2\nlog.retention.ms=1000\n")
    node = LuongProcess(tmp_path / "data", settings={"num.partitions": "5"})
    node.command_extra = ["--config", str(config)]
    with node, WireClient("127.0.0.1", node.port) as wire:
        metadata = wire.call(
            3, 9, {"topics": [{"name": "auto"}], "allow_auto_topic_creation": True}
        )
        configs = wire.call(
            32,
            4,
            {
                "resources": [
                    {"resource_type": 2, "resource_name": "auto", "configuration_keys": None}
                ]
            },
        )
    [topic] = metadata.topics
    assert len(topic.partitions) == 5  # --set wins over the file
    entries = {e.name: e.value for e in configs.results[0].configs}
    assert entries["retention.ms"] == "1000"  # the file's broker default reached the topic


def test_a_data_directory_in_use_is_refused_at_once(tmp_path: Path) -> None:
    with LuongProcess(tmp_path / "data"):
        command = [
            sys.executable,
            "-m",
            "luong",
            "serve",
            "--data-dir",
            str(tmp_path / "data"),
            "--listen",
            f"127.0.0.1:{free_port()}",
        ]
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert "in use" in done.stderr


def test_sigterm_stops_cleanly_and_the_next_start_recovers_nothing(tmp_path: Path) -> None:
    node = LuongProcess(tmp_path / "data").start()
    assert node.stop() == 0
    assert (tmp_path / "data" / ".clean-shutdown").exists()
    assert "luong stopped" in node.log_text()


def test_no_http_runs_without_the_gateway(tmp_path: Path) -> None:
    node = LuongProcess(tmp_path / "data")
    node.command_extra = ["--no-http"]
    with node:
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", node.http_port), timeout=1).close()
        assert "HTTP gateway" not in node.log_text()


def test_an_http_port_in_use_stops_the_start_naming_it(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve(tmp_path, "--http-listen", f"127.0.0.1:{port}")
    assert done.returncode != 0
    assert f"127.0.0.1:{port} (HTTP)" in done.stderr


def test_without_tokens_the_gateway_stays_on_loopback(tmp_path: Path) -> None:
    done = serve(tmp_path, "--http-listen", "0.0.0.0:0")
    assert done.returncode != 0
    assert "loopback only" in done.stderr


@pytest.mark.parametrize("level", ["info", "debug"])
def test_the_gateways_kafka_clients_log_only_warnings_unless_debugging(
    tmp_path: Path, level: str
) -> None:
    node = LuongProcess(tmp_path / "data", settings={"num.partitions": "1"})
    node.command_extra = ["--log-level", level]
    with node:
        body = {"name": "c", "auto.offset.reset": "earliest"}
        assert http_call(node.http_url, "POST", "/consumers/g", body, V2)[0] == 200
        subscription = {"topics": ["chatty"]}
        http_call(node.http_url, "POST", "/admin/topics", {"name": "chatty"}, V2)
        path = "/consumers/g/instances/c"
        assert http_call(node.http_url, "POST", f"{path}/subscription", subscription, V2)[0] == 204
        http_call(node.http_url, "GET", f"{path}/records?timeout=500")
        http_call(node.http_url, "DELETE", path)
    aiokafka_info = [line for line in node.log_text().splitlines() if " INFO aiokafka" in line]
    assert bool(aiokafka_info) == (level == "debug")
    assert "topic chatty created" in node.log_text()  # luong's own INFO lines stay
