"""Crash tests: a writer process is killed with SIGKILL, the unsynced tail is damaged
(cut at random positions, random bytes flipped, as a power cut may leave it), and the
log must reopen as a prefix of what was appended holding every acknowledged batch."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from luong.protocol.records import decode_batches
from luong.storage.log import LogStorage
from luong.testing import make_batch
from luong.types import LATEST_TIMESTAMP, TopicPartition

WRITER = Path(__file__).with_name("crash_writer.py")
TP = TopicPartition("t", 0)


Mark = tuple[str, int]  # (segment file, byte position in it)


def run_writer(path: Path, seed: int, checkpoint_every: int) -> tuple[int, Mark]:
    """Run the writer until it is done and kill -9 it.

    Returns how many appends were acknowledged and the furthest position that is
    on disk by an acknowledgement or trusted by a checkpoint.
    """
    args = [sys.executable, str(WRITER), str(path), str(seed), "60", "40", str(checkpoint_every)]
    acks = 0
    durable: Mark = ("", 0)
    with subprocess.Popen(args, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("done"):
                break
            kind, _, segment, size = line.split()
            acks += kind == "ack"
            durable = max(durable, (segment, int(size)))  # file names sort by base offset
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    return acks, durable


def damage(path: Path, durable: Mark, rng: random.Random) -> None:
    """Cut and flip bytes only past what is durable: as a power cut may leave a log."""
    durable_file, durable_size = durable
    files = sorted(str(p) for p in (path / "t-0").glob("*.log"))
    for name in files[files.index(durable_file) :]:
        floor = durable_size if name == durable_file else 0
        size = os.path.getsize(name)
        if size <= floor or rng.random() < 0.3:
            continue
        cut = rng.randrange(floor, size + 1)
        with open(name, "r+b") as file:
            file.truncate(cut)
            for _ in range(rng.randrange(0, 4)):
                if cut > floor:
                    file.seek(rng.randrange(floor, cut))
                    file.write(bytes([rng.randrange(256)]))


def expected_values(seed: int, count: int) -> list[bytes]:
    rng = random.Random(seed)
    return [b"value-%d-" % i + b"x" * rng.randrange(0, 300) for i in range(count)]


async def read_all(storage: LogStorage) -> list[tuple[int, bytes | None]]:
    result = await storage.read(TP, 0, 1 << 30)
    return [(r.offset, r.value) for b in decode_batches(result.read()) for r in b.records]


@pytest.mark.parametrize("checkpoint_every", [0, 7])
@pytest.mark.parametrize("seed", range(6))
def test_log_is_a_prefix_holding_every_acknowledged_batch(
    tmp_path: Path, seed: int, checkpoint_every: int
) -> None:
    acks, durable = run_writer(tmp_path, seed, checkpoint_every)
    assert acks == 60
    rng = random.Random(seed)
    if seed % 3:  # seed 0 and 3: a plain kill -9, nothing damaged
        damage(tmp_path, durable, rng)

    async def check() -> None:
        storage = LogStorage(str(tmp_path))
        records = await read_all(storage)
        expected = expected_values(seed, 100)
        assert len(records) >= 60  # every acknowledged batch
        assert records == list(enumerate(expected[: len(records)]))  # a prefix, in order
        end = (await storage.list_offset(TP, LATEST_TIMESTAMP)).offset
        assert end == len(records)
        assert (await storage.append(TP, make_batch([b"after"]))).base_offset == end
        await storage.close()

    asyncio.run(check())
