"""A writer for the crash tests, run as a separate process and killed with SIGKILL.

    python crash_writer.py DATA_DIR SEED DURABLE_COUNT LOOSE_COUNT CHECKPOINT_EVERY

Appends DURABLE_COUNT batches with durable=True (group commit) and prints, after
each acknowledgement, "ack <offset> <segment file> <its size>": everything up to
that size of that file is on disk. Then appends LOOSE_COUNT batches with
durable=False (nothing promised), prints "done" and waits to be killed. After
each checkpoint it prints "checkpoint 0 <segment file> <position>": recovery
trusts the log up to there without reading it. Record i
has value b"value-<i>" padded to a size drawn from SEED.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys

from luong.storage.log import LogStorage
from luong.testing import make_batch
from luong.types import TopicPartition

TP = TopicPartition("t", 0)


def value(i: int, rng: random.Random) -> bytes:
    return b"value-%d-" % i + b"x" * rng.randrange(0, 300)


async def main(path: str, seed: int, durable: int, loose: int, checkpoint_every: int) -> None:
    rng = random.Random(seed)
    storage = LogStorage(path)
    await storage.create_topic("t", 1, {"segment.bytes": "4096"})
    log = storage._logs[TP]
    for i in range(durable + loose):
        result = await storage.append(TP, make_batch([value(i, rng)]), durable=i < durable)
        if i < durable:
            print(f"ack {result.base_offset} {log.active.path} {log.active.size}", flush=True)
        if checkpoint_every and i % checkpoint_every == checkpoint_every - 1:
            await storage.checkpoint()
            point = log.recovery_point
            segment = log.segment_at(point.segment_base)
            assert segment is not None
            print(f"checkpoint 0 {segment.path} {point.position}", flush=True)
    print("done", flush=True)
    await asyncio.sleep(3600)


if __name__ == "__main__":
    data_dir, *numbers = sys.argv[1:]
    seed, durable, loose, every = map(int, numbers)
    os.makedirs(data_dir, exist_ok=True)
    asyncio.run(main(data_dir, seed, durable, loose, every))
