"""LuongProcess: a real `luong serve` process on a free port, for tests and tools.

    with LuongProcess(tmp_path, settings={"num.partitions": "3"}) as node:
        Producer({"bootstrap.servers": node.bootstrap})

The process logs to `<data dir>.log`; `kill()` is a SIGKILL (a crash), `stop()` a
SIGTERM (a clean shutdown). Waiting uses polling with a deadline, never a bare sleep.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType

__all__ = ["LuongProcess", "free_port", "signal_process", "wait_until"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def signal_process(process: subprocess.Popen[bytes] | None, sig: int, timeout_s: float) -> int:
    """Send `sig` to a child still running and wait for it; its exit code."""
    if process is None or process.poll() is not None:
        return process.returncode if process else 0
    os.kill(process.pid, sig)
    return process.wait(timeout_s)


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0, what: str = "") -> None:
    """Poll `condition` until it holds; AssertionError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what or condition}")
        time.sleep(0.02)


class LuongProcess:
    """A `luong serve` child process with its own data directory and port."""

    def __init__(
        self, data_dir: Path, settings: Mapping[str, str] | None = None, port: int | None = None
    ) -> None:
        self.data_dir = Path(data_dir)
        self.settings = {"group.initial.rebalance.delay.ms": "0", **(settings or {})}
        self.port = port or free_port()
        self.http_port = free_port()
        self.log_path = self.data_dir.with_suffix(".log")
        self.process: subprocess.Popen[bytes] | None = None
        self.command_extra: list[str] = []  # more `luong serve` arguments

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        """The HTTP gateway's base URL (each process gets its own free port)."""
        return f"http://127.0.0.1:{self.http_port}"

    def command(self) -> list[str]:
        sets = [
            arg for name, value in self.settings.items() for arg in ("--set", f"{name}={value}")
        ]
        return [
            *(sys.executable, "-m", "luong", "serve"),
            *("--data-dir", str(self.data_dir), "--listen", self.bootstrap),
            *("--http-listen", f"127.0.0.1:{self.http_port}"),
            *self.command_extra,
            *sets,
        ]

    def start(self, timeout_s: float = 15.0) -> LuongProcess:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._ready, timeout_s, f"luong serve on {self.bootstrap} ({self.log_path})")
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(
                f"luong serve exited with {self.process.returncode}: "
                f"{self.log_path.read_text()[-2000:]}"
            )
        ports = [self.port] if "--no-http" in self.command_extra else [self.port, self.http_port]
        try:
            for port in ports:  # the HTTP gateway starts after the Kafka listener
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            return False
        return True

    def stop(self, timeout_s: float = 15.0) -> int:
        """SIGTERM and wait: a clean shutdown. Returns the exit code."""
        return self._signal(signal.SIGTERM, timeout_s)

    def kill(self) -> int:
        """SIGKILL: a crash."""
        return self._signal(signal.SIGKILL, 10.0)

    def _signal(self, sig: int, timeout_s: float) -> int:
        return signal_process(self.process, sig, timeout_s)

    def log_text(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def __enter__(self) -> LuongProcess:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process is None or self.process.poll() is not None:
            return  # the test crashed it on purpose, or it died (the test says why)
        if self.stop() != 0:
            raise AssertionError(f"luong serve did not stop cleanly:\n{self.log_text()[-2000:]}")
