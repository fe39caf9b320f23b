"""Bad input never takes the broker down, and acknowledged writes survive kill -9."""

from __future__ import annotations

import random
import struct
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from luong.testing.node import LuongProcess, wait_until
from luong.testing.wire import WireClient, request_frame

API_VERSIONS_V0 = request_frame(18, 0, {})
# Metadata v1 frames are 10 + 4 + 2 + len(client id "wire") bytes before the topics:
# cutting at 17 leaves the topic name's length without its bytes (a truncated body).


def still_serves(node: LuongProcess) -> None:
    """A fresh connection gets ApiVersions, and a real client produces and consumes."""
    with WireClient("127.0.0.1", node.port) as wire:
        response = wire.call(18, 3, {"client_software_name": "t", "client_software_version": "1"})
        assert response.error_code == 0 and response.api_keys
    producer = Producer({"bootstrap.servers": node.bootstrap})
    producer.produce("alive", value=b"yes", partition=0)
    assert producer.flush(10) == 0
    consumer = Consumer({"bootstrap.servers": node.bootstrap, "group.id": "unused"})
    _, high = consumer.get_watermark_offsets(TopicPartition("alive", 0), timeout=10)
    consumer.close()
    assert high >= 1


@pytest.mark.parametrize(
    "frame",
    [
        struct.pack(">i", -5) + b"xxxx",  # negative size
        struct.pack(">i", 200 * 1024 * 1024),  # larger than socket.request.max.bytes
        struct.pack(">i", 2) + b"\x00\x12",  # shorter than a request header
        struct.pack(">ihhih", 10, 999, 0, 1, 0),  # unknown API key
        struct.pack(">ihhih", 10, 0, 2, 1, 0),  # Produce v2: advertised, not accepted
        struct.pack(">i", 17) + request_frame(3, 1, {"topics": [{"name": "xyz"}]})[4:21],
        struct.pack(">i", 20) + b"\xff" * 20,  # garbage
    ],
)
def test_a_bad_frame_closes_only_its_connection(luong: LuongProcess, frame: bytes) -> None:
    with WireClient("127.0.0.1", luong.port) as other:
        with WireClient("127.0.0.1", luong.port) as bad:
            bad.send_raw(frame if len(frame) < 100 else frame[:8])
            wait_until(bad.closed_by_server, 10, "the bad connection to be closed")
        other.send_raw(API_VERSIONS_V0)  # a connection opened before still works
        assert other.recv_frame()
    still_serves(luong)


def test_api_versions_above_the_broker_gets_v0_unsupported_version(luong: LuongProcess) -> None:
    with WireClient("127.0.0.1", luong.port) as wire:
        wire.send_raw(struct.pack(">ihhih", 10, 18, 99, 7, 0) + b"")
        payload = wire.recv_frame()
        correlation_id, error_code, count = struct.unpack_from(">ihi", payload)
        assert (correlation_id, error_code) == (7, 35)
        keys = {struct.unpack_from(">h", payload, 10 + 6 * i)[0] for i in range(count)}
        assert {0, 1, 2, 3, 18} <= keys


def test_random_and_mutated_frames_do_not_hurt_the_broker(luong: LuongProcess) -> None:
    rng = random.Random(1234)
    valid = [
        API_VERSIONS_V0,
        request_frame(3, 9, {"topics": None}),
        request_frame(
            1,
            12,
            {
                "max_wait": 0,
                "min_bytes": 1,
                "topics": [
                    {
                        "topic": "alive",
                        "partitions": [
                            {"partition": 0, "fetch_offset": 0, "partition_max_bytes": 1000}
                        ],
                    }
                ],
            },
        ),
    ]
    for _ in range(150):
        base = bytearray(rng.choice(valid))
        for _ in range(rng.randrange(1, 6)):
            base[rng.randrange(4, len(base))] = rng.randrange(256)
        frame = bytes(base) if rng.random() < 0.7 else rng.randbytes(rng.randrange(1, 64))
        with WireClient("127.0.0.1", luong.port, timeout_s=5) as wire:
            wire.send_raw(frame)
            wire.sock.shutdown(1)  # no more requests: the broker answers or closes
            try:
                while wire.sock.recv(65536):
                    pass
            except OSError:
                pass
    still_serves(luong)


def test_a_client_that_never_reads_does_not_grow_the_broker(luong: LuongProcess) -> None:
    with WireClient("127.0.0.1", luong.port) as wire:
        frame = request_frame(3, 9, {"topics": None})
        deadline = time.monotonic() + 20
        wire.sock.settimeout(0.5)
        sent, blocked = 0, False
        try:
            while time.monotonic() < deadline:
                wire.sock.sendall(frame * 100)
                sent += 100
        except TimeoutError:
            blocked = True  # the broker stopped reading: backpressure reached the client
        assert blocked, f"the broker kept reading {sent} unanswered requests"
        still_serves(luong)


def test_acknowledged_writes_survive_kill_9(fresh_luong: LuongProcess, tmp_path: Path) -> None:
    producer = Producer({"bootstrap.servers": fresh_luong.bootstrap, "acks": "all", "linger.ms": 2})
    acked: list[tuple[int, bytes]] = []
    for i in range(2000):
        producer.produce(
            "durable",
            value=b"event-%d" % i,
            partition=0,
            on_delivery=lambda e, m: acked.append((m.offset(), m.value())) if e is None else None,
        )
    assert producer.flush(30) == 0
    assert fresh_luong.kill() == -9
    restarted = LuongProcess(fresh_luong.data_dir, port=fresh_luong.port).start()
    try:
        consumer = Consumer({"bootstrap.servers": restarted.bootstrap, "group.id": "unused"})
        consumer.assign([TopicPartition("durable", 0, 0)])
        got: list[tuple[int, bytes]] = []
        deadline = time.monotonic() + 30
        while len(got) < len(acked) and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                got.append((message.offset(), message.value()))
        consumer.close()
        assert sorted(got) == sorted(acked)
        assert len(acked) == 2000
    finally:
        restarted.stop()


def produce_request(partitions: dict[int, bytes], acks: int = -1) -> dict[str, object]:
    return {
        "acks": acks,
        "timeout": 5000,
        "topic_data": [
            {
                "name": "wire-produce",
                "partition_data": [{"index": p, "records": r} for p, r in partitions.items()],
            }
        ],
    }


def test_a_corrupt_batch_fails_only_its_partition(luong: LuongProcess) -> None:
    from luong.testing import make_batch

    with WireClient("127.0.0.1", luong.port) as wire:
        wire.call(3, 9, {"topics": [{"name": "wire-produce"}], "allow_auto_topic_creation": True})
        corrupt = bytearray(make_batch([b"bad"]))
        corrupt[-1] ^= 0x55
        answer = wire.call(0, 9, produce_request({0: make_batch([b"good"]), 1: bytes(corrupt)}))
        results = {p.index: p for p in answer.responses[0].partition_responses}
        assert results[0].error_code == 0 and results[0].base_offset == 0
        assert results[1].error_code == 2  # CORRUPT_MESSAGE
        assert "CRC" in (results[1].error_message or "")
        bad_acks = wire.call(0, 9, produce_request({0: make_batch([b"x"])}, acks=5))
        assert bad_acks.responses[0].partition_responses[0].error_code == 21
        unknown = wire.call(0, 9, produce_request({7: make_batch([b"x"])}))
        assert unknown.responses[0].partition_responses[0].error_code == 3
        offsets = wire.call(
            2,
            7,
            {
                "replica_id": -1,
                "isolation_level": 0,
                "topics": [
                    {
                        "name": "wire-produce",
                        "partitions": [
                            {"partition_index": 0, "timestamp": -1},
                            {"partition_index": 1, "timestamp": -1},
                        ],
                    }
                ],
            },
        )
        ends = {p.partition_index: p.offset for p in offsets.topics[0].partitions}
        assert ends == {0: 1, 1: 0}  # nothing of the refused batches was appended


def test_pipelined_requests_are_applied_and_answered_in_order(luong: LuongProcess) -> None:
    """Produce requests overlap (each appended before the next, answered when durable);
    any other request waits for them: answers come back in request order, offsets
    follow request order, and a Metadata or Fetch after them sees every batch."""
    from kio.index import load_response_schema
    from kio.serial import entity_reader

    from luong.testing import make_batch

    with WireClient("127.0.0.1", luong.port) as wire:
        wire.call(3, 9, {"topics": [{"name": "wire-produce"}], "allow_auto_topic_creation": True})
        frames = [
            request_frame(0, 9, produce_request({0: make_batch([b"%d" % i])}), correlation_id=i)
            for i in range(1, 31)
        ]
        fetch = {
            "max_wait": 0,
            "min_bytes": 1,
            "max_bytes": 1 << 20,
            "topics": [
                {
                    "topic": "wire-produce",
                    "partitions": [
                        {"partition": 0, "fetch_offset": 0, "partition_max_bytes": 1 << 20}
                    ],
                }
            ],
        }
        wire.send_raw(b"".join(frames) + request_frame(1, 11, fetch, correlation_id=99))
        produce_cls = load_response_schema(0, 9)
        offsets = []
        for expected in range(1, 31):
            payload = wire.recv_frame()
            assert struct.unpack_from(">i", payload)[0] == expected
            answer, _ = entity_reader(produce_cls)(payload, 5)
            [partition] = answer.responses[0].partition_responses
            assert partition.error_code == 0
            offsets.append(partition.base_offset)
        assert offsets == sorted(offsets) and len(set(offsets)) == 30
        payload = wire.recv_frame()
        assert struct.unpack_from(">i", payload)[0] == 99
        fetched, _ = entity_reader(load_response_schema(1, 11))(payload, 4)
        high_watermark = fetched.responses[0].partitions[0].high_watermark
        assert high_watermark >= offsets[-1] + 1
