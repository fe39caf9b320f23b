"""Transactions with real clients: read_committed sees committed transactions only,
zombies are fenced, hung transactions time out, a broker killed mid-transaction
recovers, and a consume-transform-produce loop killed at random points still turns
every input into exactly one output."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from luong.testing.node import LuongProcess, wait_until
from luong.testing.wire import WireClient

WORKER = Path(__file__).with_name("eos_worker.py")
FAST_TIMEOUTS = {"transaction.abort.timed.out.transaction.cleanup.interval.ms": "200"}


def create(node: LuongProcess, topic: str, partitions: int = 2) -> None:
    admin = AdminClient({"bootstrap.servers": node.bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(10)


def transactional(node: LuongProcess, transactional_id: str, **config: object) -> Producer:
    producer = Producer(
        {"bootstrap.servers": node.bootstrap, "transactional.id": transactional_id, **config}
    )
    producer.init_transactions(20)
    return producer


def read_all(node: LuongProcess, topic: str, isolation: str, partitions: int = 2) -> list[bytes]:
    consumer = Consumer(
        {"bootstrap.servers": node.bootstrap, "group.id": "reader", "isolation.level": isolation}
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    values: list[bytes] = []
    idle = 0
    while idle < 8:
        message = consumer.poll(0.25)
        if message is None:
            idle += 1
        elif message.error() is None:
            idle = 0
            values.append(message.value() or b"")
    consumer.close()
    return values


def send(producer: Producer, topic: str, prefix: str, count: int) -> list[bytes]:
    values = [f"{prefix}-{i}".encode() for i in range(count)]
    for i, value in enumerate(values):
        producer.produce(topic, key=b"%d" % i, value=value)
    assert producer.flush(10) == 0  # written to the log before the transaction ends
    return values


def test_read_committed_sees_committed_transactions_only(luong: LuongProcess) -> None:
    topic = f"tx-{uuid.uuid4().hex[:6]}"
    create(luong, topic)
    producer = transactional(luong, f"app-{topic}")
    producer.begin_transaction()
    first = send(producer, topic, "first", 100)
    producer.commit_transaction(10)
    producer.begin_transaction()
    aborted = send(producer, topic, "aborted", 100)
    producer.abort_transaction(10)
    producer.begin_transaction()
    last = send(producer, topic, "last", 50)
    producer.commit_transaction(10)
    assert sorted(read_all(luong, topic, "read_committed")) == sorted(first + last)
    assert sorted(read_all(luong, topic, "read_uncommitted")) == sorted(first + aborted + last)


def test_read_committed_waits_for_an_open_transaction(luong: LuongProcess) -> None:
    topic = f"tx-{uuid.uuid4().hex[:6]}"
    create(luong, topic, 1)
    producer = transactional(luong, f"app-{topic}")
    producer.begin_transaction()
    pending = send(producer, topic, "pending", 20)
    assert read_all(luong, topic, "read_committed", 1) == []
    assert read_all(luong, topic, "read_uncommitted", 1) == pending
    producer.commit_transaction(10)
    assert read_all(luong, topic, "read_committed", 1) == pending


def test_a_zombie_producer_is_fenced(luong: LuongProcess) -> None:
    topic = f"tx-{uuid.uuid4().hex[:6]}"
    create(luong, topic)
    zombie = transactional(luong, f"app-{topic}")
    zombie.begin_transaction()
    send(zombie, topic, "zombie", 30)
    successor = transactional(luong, f"app-{topic}")  # aborts the zombie's transaction
    successor.begin_transaction()
    fresh = send(successor, topic, "fresh", 30)
    successor.commit_transaction(10)
    with pytest.raises(KafkaException) as raised:
        zombie.commit_transaction(10)
    assert raised.value.args[0].fatal() or "fenced" in str(raised.value).lower()
    assert sorted(read_all(luong, topic, "read_committed")) == sorted(fresh)


def test_a_hung_transaction_times_out_and_aborts(tmp_path: Path) -> None:
    with LuongProcess(tmp_path / "data", settings=FAST_TIMEOUTS) as node:
        topic = "hung"
        create(node, topic)
        hung = transactional(node, "hung-app", **{"transaction.timeout.ms": 1500})
        hung.begin_transaction()
        send(hung, topic, "never", 40)
        other = transactional(node, "other-app")
        other.begin_transaction()
        done = send(other, topic, "done", 40)
        other.commit_transaction(10)
        # the hung transaction holds back read_committed until its timeout aborts it
        wait_until(
            lambda: sorted(read_all(node, topic, "read_committed")) == sorted(done),
            15,
            "the hung transaction to be aborted",
        )
        state = describe(node, "hung-app")
        assert state["transaction_state"] == "CompleteAbort"


def describe(node: LuongProcess, transactional_id: str) -> dict[str, object]:
    with WireClient("127.0.0.1", node.port) as wire:
        answer = wire.call(65, 0, {"transactional_ids": [transactional_id]})
    [state] = answer.transaction_states
    return {"error_code": state.error_code, "transaction_state": state.transaction_state}


def test_broker_kill_9_in_the_middle_of_transactions(tmp_path: Path) -> None:
    node = LuongProcess(tmp_path / "data", settings=FAST_TIMEOUTS).start()
    create(node, "ledger")
    committed = transactional(node, "committer")
    committed.begin_transaction()
    kept = send(committed, "ledger", "kept", 100)
    committed.commit_transaction(10)
    hanging = transactional(node, "hanger", **{"transaction.timeout.ms": 2000})
    hanging.begin_transaction()
    send(hanging, "ledger", "lost", 100)
    assert node.kill() == -9
    restarted = LuongProcess(node.data_dir, settings=FAST_TIMEOUTS, port=node.port).start()
    try:
        wait_until(
            lambda: sorted(read_all(restarted, "ledger", "read_committed")) == sorted(kept),
            20,
            "the open transaction to time out after the restart",
        )
        assert describe(restarted, "hanger")["transaction_state"] == "CompleteAbort"
        assert describe(restarted, "committer")["transaction_state"] == "CompleteCommit"
        again = transactional(restarted, "committer")  # the id survived: its epoch is bumped
        again.begin_transaction()
        more = send(again, "ledger", "more", 10)
        again.commit_transaction(10)
        assert sorted(read_all(restarted, "ledger", "read_committed")) == sorted(kept + more)
    finally:
        restarted.stop()


def test_consume_transform_produce_killed_at_random_is_exactly_once(tmp_path: Path) -> None:
    with LuongProcess(tmp_path / "data", settings={"num.partitions": "2"}) as node:
        create(node, "input")
        create(node, "output")
        producer = Producer({"bootstrap.servers": node.bootstrap})
        inputs = [b"event-%d" % i for i in range(3000)]
        for i, value in enumerate(inputs):
            producer.produce("input", key=b"%d" % i, value=value)
        assert producer.flush(10) == 0
        command = [sys.executable, str(WORKER), node.bootstrap, "input", "output", "etl", "etl-1"]
        rng = random.Random(11)
        for _ in range(3):
            worker = subprocess.Popen(command)
            time.sleep(rng.uniform(2.0, 4.0))
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        finisher = subprocess.run(command, check=False, timeout=120)
        assert finisher.returncode == 0
        outputs = read_all(node, "output", "read_committed")
        assert sorted(outputs) == sorted(v.upper() for v in inputs)


def test_aiokafka_transactions_use_the_v0_apis(luong: LuongProcess) -> None:
    """aiokafka sends InitProducerId, AddPartitionsToTxn, EndTxn and friends at v0."""
    import asyncio

    from aiokafka import AIOKafkaProducer

    topic = f"tx-{uuid.uuid4().hex[:6]}"
    create(luong, topic)

    async def produce() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=luong.bootstrap, transactional_id=topic)
        await producer.start()
        try:
            async with producer.transaction():
                for i in range(20):
                    await producer.send(topic, value=b"kept-%d" % i, partition=i % 2)
            await producer.begin_transaction()
            for i in range(20):
                await producer.send(topic, value=b"dropped-%d" % i, partition=i % 2)
            await producer.flush()
            await producer.abort_transaction()
        finally:
            await producer.stop()

    asyncio.run(produce())
    assert sorted(read_all(luong, topic, "read_committed")) == sorted(
        b"kept-%d" % i for i in range(20)
    )
    assert len(read_all(luong, topic, "read_uncommitted")) == 40


def test_an_old_client_sees_fencing_as_the_error_it_knows(luong: LuongProcess) -> None:
    """aiokafka speaks EndTxn and AddPartitionsToTxn v0, which predate PRODUCER_FENCED:
    fenced, it must get INVALID_PRODUCER_EPOCH, which it knows as ProducerFenced."""
    import asyncio

    from aiokafka import AIOKafkaProducer
    from aiokafka.errors import ProducerFenced

    topic = f"tx-{uuid.uuid4().hex[:6]}"
    create(luong, topic)

    async def fenced() -> type[BaseException]:
        old = AIOKafkaProducer(bootstrap_servers=luong.bootstrap, transactional_id=topic)
        await old.start()
        try:
            await old.begin_transaction()
            await old.send_and_wait(topic, b"zombie", partition=0)
            transactional(luong, topic)  # a newer instance bumps the epoch
            try:
                await asyncio.wait_for(old.commit_transaction(), 10)
            except Exception as error:  # the test asserts which one
                return type(error)
            return type(None)
        finally:
            await asyncio.wait_for(old.stop(), 10)

    assert issubclass(asyncio.run(fenced()), ProducerFenced)
    assert read_all(luong, topic, "read_committed") == []


def test_produce_refuses_unknown_producers_and_partitions_outside_the_transaction(
    luong: LuongProcess,
) -> None:
    from luong.testing import make_batch

    topic = f"tx-{uuid.uuid4().hex[:6]}"
    create(luong, topic)

    def produce(batch: bytes) -> int:
        body = {
            "transactional_id": None,
            "acks": -1,
            "timeout": 5000,
            "topic_data": [{"name": topic, "partition_data": [{"index": 0, "records": batch}]}],
        }
        [answer] = wire.call(0, 9, body).responses
        return int(answer.partition_responses[0].error_code)

    with WireClient("127.0.0.1", luong.port) as wire:
        assert produce(make_batch([b"x"], producer=(10**12, 0, 0))) == 59  # UNKNOWN_PRODUCER_ID
        init = wire.call(22, 4, {"transactional_id": None, "transaction_timeout": 60_000})
        idempotent = make_batch([b"y"], producer=(init.producer_id, 0, 0))
        assert produce(idempotent) == 0
        assert produce(idempotent) == 0  # a retry: answered, not written again
        txn = wire.call(22, 4, {"transactional_id": f"id-{topic}", "transaction_timeout": 60_000})
        stray = make_batch(
            [b"z"], producer=(txn.producer_id, txn.producer_epoch, 0), transactional=True
        )
        assert produce(stray) == 48  # INVALID_TXN_STATE: never added to a transaction
    assert read_all(luong, topic, "read_uncommitted") == [b"y"]


def test_transaction_cli_lists_and_describes(luong: LuongProcess) -> None:
    topic = f"tx-{uuid.uuid4().hex[:6]}"
    create(luong, topic)
    producer = transactional(luong, f"cli-{topic}")
    producer.begin_transaction()
    send(producer, topic, "open", 5)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [
            sys.executable,
            "-m",
            "luong",
            "transaction",
            *args,
            "--bootstrap",
            luong.bootstrap,
        ]
        return subprocess.run(command, check=False, capture_output=True, text=True, timeout=60)

    listed = cli("list", "--state", "Ongoing")
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[-1] for line in listed.stdout.splitlines() if f"cli-{topic}" in line] == [
        "Ongoing"
    ]
    described = cli("describe", f"cli-{topic}")
    assert described.returncode == 0, described.stderr
    [row] = [line.split() for line in described.stdout.splitlines() if f"cli-{topic}" in line]
    assert row[1] == "Ongoing" and row[-1] == f"{topic}-0,{topic}-1"
    producer.commit_transaction(10)
    assert "CompleteCommit" in cli("describe", f"cli-{topic}").stdout
    unknown = cli("describe", "no-such-id")
    assert unknown.returncode == 1 and "unknown transactional id" in unknown.stderr
    assert cli("list", "--state", "Bogus").returncode == 1
