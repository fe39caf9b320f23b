"""Benchmark of luong's local-disk storage engine (LogStorage), beside this machine's ceilings.

Run from the repository root with the project's virtualenv:

    python benchmarks/storage_bench.py [--quick] [--dir DIR] [--json OUT]
                                       [--appenders N] [--partitions P]

`--quick` shrinks every volume and time bound so the whole run takes well under a
minute (a smoke test, not numbers to quote). `--dir` picks where the temporary data
directory is created (default: the system temp dir, /tmp); it is removed afterwards.
`--json` also writes every figure, with its parameters, to a file. Throughputs are in
MB/s = 10^6 bytes per second of stored batch bytes (headers included).

Workloads, in the order they run:

1. Ceilings (plain files, no luong):
   - raw write: os.write of 1 MiB blocks into a new file, no fsync, the os-append volume;
   - raw write + fsync: the same with os.fsync after every 1 MiB, the fsync'd volume;
   - raw read: os.preadv of 1 MiB into a reused buffer, the raw-write file sequentially,
     straight after writing it (so from the page cache).
2. Append: one topic of P partitions (default 8) and N asyncio appenders (default 64,
   appender i on partition i mod P), each appending the same pre-built batch (one record
   of random, incompressible bytes; the whole batch is 1 KiB or 64 KiB) in a loop with
   durable=True, under each `luong.flush.policy`:
   - os: the volume of the raw-write ceiling; an append never suspends under this
     policy, so the appenders in fact run one after the other;
   - group: the volume of the fsync'd ceiling; the concurrency is what lets one fsync
     pass (one fdatasync per partition with waiters) acknowledge many appends;
   - fsync: the same volume and concurrency; each append runs a pass of its own, one
     at a time on the engine's flush thread.
   Every appender stops after its share of the volume or at the time bound, whichever
   comes first; the figure is bytes acknowledged / wall time until the last one returns,
   and "us/op" is that wall time per append (per Storage.read call for reads).
3. Read (after each os append, from the page cache): every partition from offset 0 to
   its end through Storage.read with max_bytes 1 MiB, as a fetch would:
   - lookup only: the regions are computed, no byte is read;
   - with bytes: every region is os.preadv'd into a reused buffer (and the first batch's
     base offset checked against the requested offset).
4. Recovery after a kill: a child process writes one 1 GiB partition (1 KiB or 64 KiB
   batches, one segment) and is killed with SIGKILL, so no clean-shutdown marker is left:
   - worst case: `os` policy with the background checkpoint (every `checkpoint_bytes`,
     64 MiB by default) switched off, so the open scans the whole segment;
   - serving: `os` policy with default settings, the writer yielding to its event loop
     every 16 appends as a broker does between requests, so the background flush and
     checkpoint run; the open scans what was written since the last one (< 64 MiB);
   - checkpointed: `group` policy, the last append is durable (so the recovery point is
     the log end) and the writer then awaits `checkpoint()`; only the tail past the
     recovery point (here nothing) is scanned, so what remains is opening the segment.
   Every append but the last is made with durable=False.
   The parent runs os.sync() (so recovery does not also pay for writing back the
   writer's dirty pages), then times `LogStorage(path)`, which recovers, and checks the
   recovered log end offset is the one written. The ceiling is a raw read of as many bytes.

Page cache: on a VM whose balloon driver reports free pages to the host (firecracker,
virtio-balloon), memory the guest freed a few seconds ago is handed back, and touching it
again costs a host fault per page: a fresh 1 GiB file is then written at ~300 MB/s instead
of several GB/s. Since each case deletes its files, every write workload (ceilings
included) is preceded by an untimed write and delete of a scratch file of its volume, so
all of them write into memory the guest holds, as on a long-running host.

Volumes: full run: os appends and raw write 1 GiB, group/fsync appends and raw
write + fsync 512 MiB, at most 10 s per append case, recovery 1 GiB; --quick: 64 MiB,
16 MiB, 1 s and 64 MiB. All batches carry one timestamp (they are built once), so the
time indexes stay almost empty; a real producer's rising timestamps would add about one
time index entry per offset index entry.

Aims printed beside the figures: os append >= 80% of the raw write rate, group commit
>= 50% of the raw fsync'd rate, recovery of 1 GiB < 1 s. The machine should be otherwise
idle; rerun when figures look noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import random
import shutil
import signal
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from luong.protocol.records import Compression, Record, build_batch
from luong.storage.api import FileRegion, ReadResult, Region
from luong.storage.log import LogStorage
from luong.types import TopicPartition

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30
MB = 1_000_000
SEED = 20240601
TOPIC = "bench"
LATEST = -1  # ListOffsets timestamp for the log end offset
RECOVERY_SEGMENT_BYTES = GiB
_BASE_OFFSET = struct.Struct(">q")


@dataclass(frozen=True, slots=True)
class Params:
    """Volumes and bounds of one run."""

    write_volume: int  # os appends, raw write and raw read
    sync_volume: int  # group/fsync appends and raw write + fsync
    time_limit_s: float  # per append case and per raw write
    recovery_volume: int
    appenders: int
    partitions: int
    read_chunk: int = MiB
    segment_bytes: int = GiB
    batch_sizes: tuple[int, ...] = (KiB, 64 * KiB)
    policies: tuple[str, ...] = ("os", "group", "fsync")


FULL = Params(GiB, 512 * MiB, 10.0, GiB, appenders=64, partitions=8)
QUICK = Params(64 * MiB, 16 * MiB, 1.0, 64 * MiB, appenders=64, partitions=8)


@dataclass(slots=True)
class Result:
    """One luong figure beside its ceiling."""

    section: str
    name: str
    value: float
    unit: str  # "MB/s" (higher is better) or "s" (lower is better)
    ceiling: float | None = None
    ceiling_name: str = ""
    aim: str = ""
    aim_percent: float | None = None  # met when percent >= this
    aim_seconds: float | None = None  # met when value < this
    op_us: float | None = None  # microseconds per append or per read call
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def percent(self) -> float | None:
        """The figure as a % of its ceiling (for times: ceiling time / luong time)."""
        if not self.ceiling or not self.value:
            return None
        ratio = self.value / self.ceiling if self.unit == "MB/s" else self.ceiling / self.value
        return 100 * ratio

    @property
    def met(self) -> bool | None:
        if self.aim_percent is not None:
            return self.percent is not None and self.percent >= self.aim_percent
        if self.aim_seconds is not None:
            return self.value < self.aim_seconds
        return None


# -- helpers -------------------------------------------------------------------------


def rate(nbytes: int, seconds: float) -> float:
    return nbytes / seconds / MB if seconds > 0 else 0.0


def size_name(nbytes: int) -> str:
    for unit, name in ((GiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")):
        if nbytes >= unit and nbytes % unit == 0:
            return f"{nbytes // unit} {name}"
    return f"{nbytes} B"


def payload_batch(size: int, rng: random.Random) -> bytes:
    """A v2 batch of exactly `size` bytes holding one record of random bytes."""
    timestamp = int(time.time() * 1000)
    value_length = size
    for _ in range(4):
        record = Record(0, timestamp, None, rng.randbytes(value_length))
        batch = build_batch([record], compression=Compression.NONE)
        if len(batch) == size:
            return batch
        value_length -= len(batch) - size
    raise ValueError(f"cannot build a batch of exactly {size} bytes")


def filesystem_of(path: str) -> str:
    """'device fstype' of the mount holding `path` (Linux), or '?'."""
    best, found = "", "?"
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                device, mount_point, fstype, *_ = line.split()
                inside = path == mount_point or path.startswith(mount_point.rstrip("/") + "/")
                if inside and len(mount_point) >= len(best):
                    best, found = mount_point, f"{device} {fstype}"
    except OSError:
        pass
    return found


def settle() -> None:
    """Write back dirty pages between cases so one case's writeback does not slow the next."""
    os.sync()


def prefault(root: str, volume: int) -> None:
    """Write and delete a scratch file of `volume` bytes, so the measured writes that follow
    get page-cache pages the guest already holds (see "Page cache" in the module docstring)."""
    path = os.path.join(root, "prefault.dat")
    block = bytes(MiB)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for _ in range(volume // MiB):
            os.write(fd, block)
    finally:
        os.close(fd)
        os.unlink(path)  # its dirty pages are dropped, not written back


# -- ceilings ------------------------------------------------------------------------


def raw_write(
    path: str, volume: int, time_limit_s: float, *, fsync_each: bool, block_size: int = MiB
) -> float:
    """MB/s of os.write in blocks (1 MiB) into a new file (fsync after each block if asked)."""
    block = random.Random(SEED).randbytes(block_size)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    written = 0
    try:
        start = time.perf_counter()
        deadline = start + time_limit_s
        while written < volume and time.perf_counter() < deadline:
            written += os.write(fd, block)
            if fsync_each:
                os.fsync(fd)
        elapsed = time.perf_counter() - start
    finally:
        os.close(fd)
    return rate(written, elapsed)


def raw_read(path: str) -> float:
    """MB/s of a sequential os.preadv of the whole file into a reused 1 MiB buffer."""
    view = memoryview(bytearray(MiB))
    fd = os.open(path, os.O_RDONLY)
    position = 0
    try:
        start = time.perf_counter()
        while got := os.preadv(fd, [view], position):
            position += got
        elapsed = time.perf_counter() - start
    finally:
        os.close(fd)
    return rate(position, elapsed)


@dataclass(frozen=True, slots=True)
class Ceilings:
    write: float
    write_fsync: float
    read: float
    write_in_blocks: dict[int, float]  # raw write, one os.write per batch-sized block


def measure_ceilings(root: str, params: Params) -> Ceilings:
    path = os.path.join(root, "raw.dat")
    prefault(root, params.write_volume)
    write = raw_write(path, params.write_volume, params.time_limit_s, fsync_each=False)
    read = raw_read(path)
    os.unlink(path)
    settle()
    prefault(root, params.sync_volume)
    write_fsync = raw_write(path, params.sync_volume, params.time_limit_s, fsync_each=True)
    os.unlink(path)
    settle()
    in_blocks = {}
    for size in params.batch_sizes:
        prefault(root, params.write_volume)
        in_blocks[size] = raw_write(
            path, params.write_volume, params.time_limit_s, fsync_each=False, block_size=size
        )
        os.unlink(path)
        settle()
    return Ceilings(write, write_fsync, read, in_blocks)


# -- appends -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AppendRun:
    bytes: int
    appends: int
    seconds: float
    flush_passes: int | None


async def append_concurrently(
    storage: LogStorage, batch: bytes, params: Params, volume: int
) -> AppendRun:
    """N appenders, each doing durable appends of `batch` until its share or the deadline."""
    share = volume // len(batch) // params.appenders
    deadline = time.perf_counter() + params.time_limit_s

    async def appender(tp: TopicPartition) -> int:
        done = 0
        while done < share and time.perf_counter() < deadline:
            await storage.append(tp, batch, durable=True)
            done += 1
        return done

    tps = [TopicPartition(TOPIC, i % params.partitions) for i in range(params.appenders)]
    passes_before = flush_passes(storage)
    start = time.perf_counter()
    counts = await asyncio.gather(*(appender(tp) for tp in tps))
    elapsed = time.perf_counter() - start
    passes = flush_passes(storage)
    appends = sum(counts)
    delta = None if passes is None or passes_before is None else passes - passes_before
    return AppendRun(appends * len(batch), appends, elapsed, delta)


def flush_passes(storage: LogStorage) -> int | None:
    """fsync passes the engine ran so far (an internal counter; None if it went away)."""
    passes = getattr(getattr(storage, "_flusher", None), "passes", None)
    return passes if isinstance(passes, int) else None


# -- reads ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadRun:
    bytes: int
    reads: int
    seconds: float


async def end_offsets(storage: LogStorage, params: Params) -> dict[TopicPartition, int]:
    tps = [TopicPartition(TOPIC, p) for p in range(params.partitions)]
    return {tp: (await storage.list_offset(tp, LATEST)).offset for tp in tps}


async def read_all(
    storage: LogStorage,
    ends: dict[TopicPartition, int],
    batch_size: int,
    consume: Callable[[ReadResult, int], int],
    chunk: int,
) -> ReadRun:
    """Read every partition from 0 to its end; `consume(result, offset)` returns bytes taken.

    Every stored batch holds one record and is `batch_size` bytes, so the next offset is
    the current one plus the bytes returned divided by the batch size.
    """
    total = reads = 0
    start = time.perf_counter()
    for tp, end in ends.items():
        offset = 0
        while offset < end:
            result = await storage.read(tp, offset, chunk)
            taken = consume(result, offset)
            offset += taken // batch_size
            total += taken
            reads += 1
    return ReadRun(total, reads, time.perf_counter() - start)


def lookup_only(result: ReadResult, offset: int) -> int:
    return result.size


class ByteReader:
    """preadv every region of a read into one reused buffer."""

    def __init__(self, size: int) -> None:
        self._view = memoryview(bytearray(size))

    def __call__(self, result: ReadResult, offset: int) -> int:
        taken = 0
        for i, region in enumerate(result.regions):
            self._read_region(region)
            if i == 0 and _BASE_OFFSET.unpack_from(self._view)[0] != offset:
                raise AssertionError(f"read at offset {offset} did not start with its batch")
            taken += region.length
        return taken

    def _read_region(self, region: Region) -> None:
        if not isinstance(region, FileRegion):
            raise TypeError(f"expected a FileRegion from LogStorage, got {region!r}")
        if region.length > len(self._view):
            self._view = memoryview(bytearray(region.length))
        got = os.preadv(region.fd, [self._view[: region.length]], region.position)
        if got != region.length:
            raise AssertionError(f"short read: {got} of {region.length} bytes")


# -- append and read cases -----------------------------------------------------------


def topic_config(policy: str, params: Params) -> dict[str, str | None]:
    return {"luong.flush.policy": policy, "segment.bytes": str(params.segment_bytes)}


async def append_case(
    root: str, batch: bytes, policy: str, params: Params, ceilings: Ceilings
) -> list[Result]:
    path = os.path.join(root, f"append-{policy}-{len(batch)}")
    storage = LogStorage(path)
    try:
        await storage.create_topic(TOPIC, params.partitions, topic_config(policy, params))
        volume = params.write_volume if policy == "os" else params.sync_volume
        prefault(root, volume)
        run = await append_concurrently(storage, batch, params, volume)
        results = [append_result(run, len(batch), policy, params, ceilings)]
        if policy == "os":
            results += await read_cases(storage, len(batch), run.bytes, params, ceilings)
    finally:
        await storage.close()
        shutil.rmtree(path)
        settle()
    return results


def append_result(
    run: AppendRun, batch_size: int, policy: str, params: Params, ceilings: Ceilings
) -> Result:
    name = f"{policy:<5} {size_name(batch_size):>6} batches"
    result = Result(
        "append",
        name,
        rate(run.bytes, run.seconds),
        "MB/s",
        op_us=1e6 * run.seconds / max(run.appends, 1),
    )
    result.detail = {
        "bytes": run.bytes,
        "appends": run.appends,
        "seconds": run.seconds,
        "appenders": params.appenders,
        "partitions": params.partitions,
        "fsync_passes": run.flush_passes,
        "raw_write_in_batch_sized_blocks_mb_s": ceilings.write_in_blocks.get(batch_size),
    }
    if policy == "os":
        result.ceiling, result.ceiling_name = ceilings.write, "raw write"
        result.aim, result.aim_percent = ">= 80%", 80.0
    else:
        result.ceiling, result.ceiling_name = ceilings.write_fsync, "raw write+fsync"
        if policy == "group":
            result.aim, result.aim_percent = ">= 50%", 50.0
    return result


async def read_cases(
    storage: LogStorage, batch_size: int, written: int, params: Params, ceilings: Ceilings
) -> list[Result]:
    ends = await end_offsets(storage, params)
    results = []
    readers: list[tuple[str, Callable[[ReadResult, int], int]]] = [
        ("lookup only", lookup_only),
        ("with bytes", ByteReader(params.read_chunk + batch_size)),
    ]
    for label, consume in readers:
        run = await read_all(storage, ends, batch_size, consume, params.read_chunk)
        if run.bytes != written:
            raise AssertionError(f"read {run.bytes} bytes back of {written} written")
        name = f"{label:<11} {size_name(batch_size):>6} batches"
        result = Result(
            "read",
            name,
            rate(run.bytes, run.seconds),
            "MB/s",
            ceilings.read,
            "raw read",
            op_us=1e6 * run.seconds / max(run.reads, 1),
        )
        result.detail = {
            "bytes": run.bytes,
            "reads": run.reads,
            "seconds": run.seconds,
            "max_bytes": params.read_chunk,
        }
        results.append(result)
    return results


# -- recovery ------------------------------------------------------------------------


RECOVERY_MODES = ("worst case", "serving", "checkpointed")


def recovery_writer(path: str, batch: bytes, count: int, mode: str, conn: Connection) -> None:
    """Child process: write `count` batches, report the log end offset, wait to be killed."""
    end = asyncio.run(write_log(path, batch, count, mode))
    conn.send(end)
    conn.close()
    while True:
        time.sleep(60)


async def write_log(path: str, batch: bytes, count: int, mode: str) -> int:
    storage = LogStorage(path, checkpoint_bytes=1 << 62 if mode == "worst case" else 64 << 20)
    policy = "group" if mode == "checkpointed" else "os"
    await storage.create_topic(
        TOPIC, 1, {"luong.flush.policy": policy, "segment.bytes": str(RECOVERY_SEGMENT_BYTES)}
    )
    tp = TopicPartition(TOPIC, 0)
    for i in range(count):
        await storage.append(tp, batch, durable=i == count - 1)
        if mode == "serving" and i % 16 == 15:
            await asyncio.sleep(0)  # a broker's loop turns between requests
    if mode == "checkpointed":
        await storage.checkpoint()
    return (await storage.list_offset(tp, LATEST)).offset


def spawn_and_kill(path: str, batch: bytes, count: int, mode: str) -> int:
    """Run the writer in a fresh process, SIGKILL it once written; return its log end."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    writer = context.Process(target=recovery_writer, args=(path, batch, count, mode, sender))
    writer.start()
    sender.close()
    try:
        end: int = receiver.recv()
    except EOFError:
        writer.join()
        raise RuntimeError(f"recovery writer died with exit code {writer.exitcode}") from None
    finally:
        writer.kill()
        writer.join()
    if writer.exitcode != -signal.SIGKILL:
        raise RuntimeError(f"recovery writer ended with {writer.exitcode}, not SIGKILL")
    return end


async def recovered_end(storage: LogStorage) -> int:
    try:
        return (await storage.list_offset(TopicPartition(TOPIC, 0), LATEST)).offset
    finally:
        await storage.close()


def recovery_case(root: str, batch: bytes, mode: str, params: Params, ceilings: Ceilings) -> Result:
    path = os.path.join(root, f"recovery-{len(batch)}-{mode.replace(' ', '-')}")
    count = params.recovery_volume // len(batch)
    try:
        written_end = spawn_and_kill(path, batch, count, mode)
        settle()
        start = time.perf_counter()
        storage = LogStorage(path)
        seconds = time.perf_counter() - start
        end = asyncio.run(recovered_end(storage))
    finally:
        shutil.rmtree(path, ignore_errors=True)
        settle()
    if end != written_end:
        raise AssertionError(f"recovered log end {end}, written {written_end}")
    volume = count * len(batch)
    name = f"{size_name(volume)} {mode:<13} {size_name(len(batch)):>6} batches"
    return Result(
        "recovery",
        name,
        seconds,
        "s",
        volume / (ceilings.read * MB),
        "raw read",
        "< 1 s",
        aim_seconds=1.0,
        detail={"bytes": volume, "batches": count, "log_end_offset": end},
    )


# -- report --------------------------------------------------------------------------


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:8.1f} MB/s" if unit == "MB/s" else f"{value:8.3f} s   "


def print_table(results: Sequence[Result]) -> None:
    header = (
        f"{'section':<9} {'workload':<40} {'luong':>13} {'us/op':>8}  {'ceiling':<30} "
        f"{'% ceil':>7}  aim"
    )
    print(header)
    print("-" * len(header))
    section = ""
    for r in results:
        if r.section != section and section:
            print()
        section = r.section
        ceiling = f"{format_value(r.ceiling, r.unit)} {r.ceiling_name}" if r.ceiling else "-"
        percent = f"{r.percent:6.1f}%" if r.percent is not None else "-"
        verdict = {True: "ok", False: "MISSED", None: ""}[r.met]
        aim = f"{r.aim} {verdict}".strip() or "-"
        per_op = f"{r.op_us:8.1f}" if r.op_us is not None else "-"
        print(
            f"{r.section:<9} {r.name:<40} {format_value(r.value, r.unit):>13} {per_op:>8}  "
            f"{ceiling:<30} {percent:>7}  {aim}"
        )


def machine_info(root: str) -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "filesystem": filesystem_of(root),
        "load_average": os.getloadavg(),
    }


def write_json(
    path: str,
    params: Params,
    machine: dict[str, Any],
    ceilings: Ceilings,
    results: Sequence[Result],
) -> None:
    rows = [asdict(r) | {"percent": r.percent, "met": r.met} for r in results]
    document = {
        "params": asdict(params),
        "machine": machine,
        "ceilings_mb_s": asdict(ceilings),
        "results": rows,
    }
    with open(path, "w", encoding="utf-8") as file:
        json.dump(document, file, indent=1)


# -- main ----------------------------------------------------------------------------


def run(root: str, params: Params) -> tuple[Ceilings, list[Result]]:
    ceilings = measure_ceilings(root, params)
    print(
        f"ceilings: raw write {ceilings.write:.1f} MB/s, raw write+fsync/MiB "
        f"{ceilings.write_fsync:.1f} MB/s, raw read {ceilings.read:.1f} MB/s",
        flush=True,
    )
    for size, speed in ceilings.write_in_blocks.items():
        print(f"ceilings: raw write, one os.write per {size_name(size)}: {speed:.1f} MB/s")
    rng = random.Random(SEED)
    batches = {size: payload_batch(size, rng) for size in params.batch_sizes}
    results: list[Result] = []
    for size, batch in batches.items():
        for policy in params.policies:
            results += asyncio.run(append_case(root, batch, policy, params, ceilings))
            print(f"  done: append {policy} {size_name(size)}", flush=True)
    reads = [r for r in results if r.section == "read"]
    results = [r for r in results if r.section != "read"] + reads
    for size in sorted(batches, reverse=True):
        for mode in RECOVERY_MODES:
            results.append(recovery_case(root, batches[size], mode, params, ceilings))
            print(f"  done: recovery {size_name(size)} {mode}", flush=True)
    return ceilings, results


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small volumes, well under a minute")
    parser.add_argument("--dir", default=None, help="parent of the temporary data directory")
    parser.add_argument("--json", default=None, metavar="OUT", help="also write results here")
    parser.add_argument("--appenders", type=int, default=None, help="concurrent appenders (64)")
    parser.add_argument("--partitions", type=int, default=None, help="partitions appended (8)")
    return parser.parse_args(argv)


def params_from(args: argparse.Namespace) -> Params:
    params = QUICK if args.quick else FULL
    changes = {"appenders": args.appenders, "partitions": args.partitions}
    fields = asdict(params) | {k: v for k, v in changes.items() if v is not None}
    fields["batch_sizes"], fields["policies"] = params.batch_sizes, params.policies
    return Params(**fields)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    params = params_from(args)
    root = tempfile.mkdtemp(prefix="luong-storage-bench-", dir=args.dir)
    needed = 3 * max(params.write_volume, params.recovery_volume)
    try:
        if shutil.disk_usage(root).free < needed:
            print(f"not enough free space in {root}: need {size_name(needed)}", file=sys.stderr)
            return 1
        machine = machine_info(root)
        print(f"luong storage benchmark ({'quick' if args.quick else 'full'}) in {root}")
        print(f"  {machine}")
        print(
            f"  {params.appenders} appenders over {params.partitions} partitions; volumes: "
            f"os {size_name(params.write_volume)}, group/fsync {size_name(params.sync_volume)}"
            f", at most {params.time_limit_s:g} s per case; recovery "
            f"{size_name(params.recovery_volume)}",
            flush=True,
        )
        ceilings, results = run(root, params)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print()
    print_table(results)
    if args.json:
        write_json(args.json, params, machine, ceilings, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
