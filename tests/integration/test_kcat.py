"""kcat (librdkafka 2.0.2 from Debian) against a real luong serve: -L, -P with every codec, -C."""

from __future__ import annotations

import shutil
import subprocess
import uuid

import pytest

from luong.testing.node import LuongProcess

KCAT = shutil.which("kcat")  # .ci/run installs it (apt-get install kcat)


def kcat(node: LuongProcess, *args: str, stdin: str | None = None) -> str:
    assert KCAT is not None, "kcat is not installed: apt-get install kcat"
    done = subprocess.run(
        [KCAT, "-b", node.bootstrap, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_kcat_produces_and_consumes(luong: LuongProcess, codec: str) -> None:
    topic = f"kcat-{uuid.uuid4().hex[:8]}"
    lines = "".join(f"key{i}:value {i}\n" for i in range(100))
    kcat(luong, "-P", "-t", topic, "-p", "0", "-K:", "-z", codec, stdin=lines)
    out = kcat(luong, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-f", "%k=%s@%o\n")
    assert out.splitlines() == [f"key{i}=value {i}@{i}" for i in range(100)]
    stored = (luong.data_dir / f"{topic}-0" / "00000000000000000000.log").read_bytes()
    assert stored[22] & 7 == ["none", "gzip", "snappy", "lz4", "zstd"].index(codec)


def test_kcat_lists_metadata(luong: LuongProcess) -> None:
    topic = f"kcat-{uuid.uuid4().hex[:8]}"
    kcat(luong, "-P", "-t", topic, stdin="x\n")
    listing = kcat(luong, "-L", "-t", topic)
    assert f'topic "{topic}" with 3 partitions' in listing
    assert "broker 0 at 127.0.0.1" in listing


def test_kcat_balanced_consumer_group_reads_everything(luong: LuongProcess) -> None:
    topic = f"kcat-{uuid.uuid4().hex[:8]}"
    kcat(luong, "-P", "-t", topic, "-K:", stdin="".join(f"k{i}:v{i}\n" for i in range(300)))
    out = kcat(
        luong,
        "-G",
        f"g-{topic}",
        topic,
        "-o",
        "beginning",
        "-c",
        "300",
        "-e",
        "-q",
        "-f",
        "%s\n",
        "-X",
        "session.timeout.ms=6000",
    )
    assert sorted(out.split()) == sorted(f"v{i}" for i in range(300))
