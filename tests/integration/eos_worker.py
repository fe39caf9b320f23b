"""A consume-transform-produce worker for the exactly-once test, killed at random.

    python eos_worker.py BOOTSTRAP INPUT OUTPUT GROUP TRANSACTIONAL_ID

Reads INPUT as a member of GROUP (read_committed, no auto commit) and, per poll
batch of up to 50, in one transaction: writes each value upper-cased to OUTPUT,
flushes, "works" for 0.1 s (so a kill is likely to land inside a transaction whose
output is already in the log), and commits the consumed offsets with
send_offsets_to_transaction. Exits 0 after 5 s without input. Static membership
(group.instance.id = TRANSACTIONAL_ID) gives a restarted worker its partitions back
at once.
"""

from __future__ import annotations

import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition


def main(bootstrap: str, source: str, sink: str, group: str, transactional_id: str) -> None:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "session.timeout.ms": 6000,
            "group.instance.id": transactional_id,  # a restarted worker takes its place back
        }
    )
    producer = Producer(
        {"bootstrap.servers": bootstrap, "transactional.id": transactional_id, "linger.ms": 5}
    )
    producer.init_transactions(30)
    consumer.subscribe([source])
    idle_since = time.monotonic()
    while time.monotonic() - idle_since < 5:
        messages = [m for m in consumer.consume(50, timeout=0.5) if m.error() is None]
        if not messages:
            continue
        idle_since = time.monotonic()
        producer.begin_transaction()
        ends: dict[int, int] = {}
        for message in messages:
            value = message.value() or b""
            producer.produce(sink, key=message.key(), value=value.upper())
            ends[message.partition()] = message.offset() + 1
        producer.flush(30)
        time.sleep(0.1)
        offsets = [TopicPartition(source, p, o) for p, o in ends.items()]
        producer.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata(), 30)
        producer.commit_transaction(30)
    consumer.close()


if __name__ == "__main__":
    main(*sys.argv[1:6])
