"""Fixtures that start real `luong serve` processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from luong.testing.node import LuongProcess
from luong.testing.pipelines import PipelineProcess


@pytest.fixture(scope="module")
def luong(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LuongProcess]:
    """One broker shared by a test module (3 partitions for new topics)."""
    with LuongProcess(
        tmp_path_factory.mktemp("node") / "data", settings={"num.partitions": "3"}
    ) as node:
        yield node


@pytest.fixture
def fresh_luong(tmp_path: Path) -> Iterator[LuongProcess]:
    """A broker of the test's own, for tests that crash or restart it."""
    with LuongProcess(tmp_path / "data", settings={"num.partitions": "1"}) as node:
        yield node


@pytest.fixture(autouse=True)
def no_worker_left_behind() -> Iterator[None]:
    """Pipeline workers a test started and did not stop (it failed midway) are killed:
    a worker outlives its broker otherwise, retrying forever."""
    yield
    PipelineProcess.kill_all()
