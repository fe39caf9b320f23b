"""PipelineProcess: a real `luong pipeline run` worker process, for tests and tools.

    worker = PipelineProcess(app_py, node.bootstrap, tmp_path / "state").start()
    worker.status()["partitions"]       # its HTTP /status
    worker.kill()                       # SIGKILL: a crash

The worker logs to `<state dir>/worker-<port>.log`; `start()` returns once its HTTP
endpoint says it is running.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, ClassVar

from luong.testing.node import free_port, signal_process, wait_until

__all__ = ["PipelineProcess"]


class PipelineProcess:
    """A `luong pipeline run FILE` child process with its own HTTP port.

    Every started process is remembered in `running` until it exits, so a test
    fixture can kill what a failed test left behind (`kill_all`)."""

    running: ClassVar[list[PipelineProcess]] = []

    def __init__(
        self, app: Path, bootstrap: str, state_dir: Path, extra: list[str] | None = None
    ) -> None:
        self.app = Path(app)
        self.bootstrap = bootstrap
        self.state_dir = Path(state_dir)
        self.extra = list(extra or [])
        self.http_port = free_port()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.state_dir / f"worker-{self.http_port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def command(self) -> list[str]:
        return [
            *(sys.executable, "-m", "luong", "pipeline", "run", str(self.app)),
            *("--bootstrap", self.bootstrap, "--state-dir", str(self.state_dir)),
            *("--http-listen", f"127.0.0.1:{self.http_port}"),
            *self.extra,
        ]

    def start(self, timeout_s: float = 30.0) -> PipelineProcess:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        PipelineProcess.running.append(self)
        wait_until(self._running, timeout_s, f"pipeline worker ({self.log_path})")
        return self

    @classmethod
    def kill_all(cls) -> int:
        """SIGKILL every worker still running; how many there were."""
        alive = [w for w in cls.running if w.process is not None and w.process.poll() is None]
        for worker in alive:
            worker.kill()
        cls.running.clear()
        return len(alive)

    def _running(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"worker exited {self.process.returncode}: {self.log()[-3000:]}")
        try:
            return bool(self.status()["state"] == "running")
        except (OSError, ValueError):
            return False

    def get(self, path: str) -> tuple[int, Any]:
        """(HTTP status, JSON body) of GET `path` on the worker."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def status(self) -> dict[str, Any]:
        code, body = self.get("/status")
        if code != 200:
            raise ValueError(f"/status answered {code}")
        return dict(body)

    def stop(self, timeout_s: float = 30.0) -> int:
        """SIGTERM: commit and leave the group. Returns the exit code."""
        return self._signal(signal.SIGTERM, timeout_s)

    def kill(self) -> int:
        return self._signal(signal.SIGKILL, 10.0)

    def _signal(self, sig: int, timeout_s: float) -> int:
        return signal_process(self.process, sig, timeout_s)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""
