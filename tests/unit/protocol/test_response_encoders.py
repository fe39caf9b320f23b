"""The hand-rolled Produce and Fetch response encoders agree with kio, version by version:
their bytes decode (with kio's reader) to the same entity as kio's own encoding gives."""

from __future__ import annotations

import io
import uuid

import pytest
from kio.index import load_response_schema
from kio.serial import entity_reader, entity_writer

from luong.protocol.entities import build
from luong.protocol.fetch_response import PartitionFetchData, encode_fetch_response
from luong.protocol.produce_response import PartitionProduceResult, encode_produce_response
from luong.storage import MemoryRegion
from luong.testing import make_batch


def decode_frame(api_key: int, version: int, frame: bytes) -> object:
    """Check the size prefix and response header, then decode the body with kio."""
    cls = load_response_schema(api_key, version)
    assert int.from_bytes(frame[:4], "big") == len(frame) - 4
    assert int.from_bytes(frame[4:8], "big") == 42  # correlation id
    flexible = cls.__header_schema__.__module__.endswith("v1.header")
    body_start = 9 if flexible else 8
    if flexible:
        assert frame[8] == 0
    entity, size = entity_reader(cls)(frame, body_start)
    assert body_start + size == len(frame)
    return entity


def kio_encoding(api_key: int, version: int, data: dict[str, object]) -> bytes:
    cls = load_response_schema(api_key, version)
    buffer = io.BytesIO()
    entity_writer(cls)(buffer, build(cls, data))
    return buffer.getvalue()


@pytest.mark.parametrize("version", range(3, 12))
def test_produce_response_matches_kio(version: int) -> None:
    results = [
        PartitionProduceResult(0, 0, 100, -1, 5),
        PartitionProduceResult(3, 2, -1, 1_700_000_000_000, 0, "corrupt batch"),
        PartitionProduceResult(
            4, 87, error_message="keys", record_errors=((1, "no key"), (3, None))
        ),
    ]
    frame = encode_produce_response(version, 42, [("orders", results), ("x", [])], 7)
    expected = {
        "throttle_time": 7,
        "responses": [
            {
                "name": "orders",
                "partition_responses": [
                    {
                        "index": 0,
                        "error_code": 0,
                        "base_offset": 100,
                        "log_append_time": -1,
                        "log_start_offset": 5,
                        "error_message": None,
                    },
                    {
                        "index": 3,
                        "error_code": 2,
                        "base_offset": -1,
                        "log_append_time": 1_700_000_000_000,
                        "log_start_offset": 0,
                        "error_message": "corrupt batch",
                    },
                    {
                        "index": 4,
                        "error_code": 87,
                        "base_offset": -1,
                        "log_append_time": -1,
                        "log_start_offset": -1,
                        "record_errors": [
                            {"batch_index": 1, "batch_index_error_message": "no key"},
                            {"batch_index": 3, "batch_index_error_message": None},
                        ],
                        "error_message": "keys",
                    },
                ],
            },
            {"name": "x", "partition_responses": []},
        ],
    }
    cls = load_response_schema(0, version)
    reference, _ = entity_reader(cls)(kio_encoding(0, version, expected), 0)
    assert decode_frame(0, version, frame) == reference


@pytest.mark.parametrize("version", range(4, 13))
def test_fetch_response_matches_kio(version: int) -> None:
    batch_a, batch_b = make_batch([b"a", b"b"]), make_batch([b"c"])
    regions = [MemoryRegion(batch_a), MemoryRegion(batch_b)]
    partitions = [
        PartitionFetchData(0, 0, 10, 10, 2, None, regions),
        PartitionFetchData(1, 1, 5, 5, 0, [(7, 3)], ()),
    ]
    pieces = encode_fetch_response(
        version, 42, [("t", partitions)], throttle_time_ms=3, session_id=0
    )
    frame = b"".join(p if isinstance(p, bytes) else p.read() for p in pieces)
    assert any(p is regions[0] for p in pieces)  # records passed through, not joined
    expected = {
        "throttle_time": 3,
        "error_code": 0,
        "session_id": 0,
        "responses": [
            {
                "topic": "t",
                "topic_id": uuid.UUID(int=0),
                "partitions": [
                    {
                        "partition_index": 0,
                        "error_code": 0,
                        "high_watermark": 10,
                        "last_stable_offset": 10,
                        "log_start_offset": 2,
                        "aborted_transactions": None,
                        "preferred_read_replica": -1,
                        "records": batch_a + batch_b,
                    },
                    {
                        "partition_index": 1,
                        "error_code": 1,
                        "high_watermark": 5,
                        "last_stable_offset": 5,
                        "log_start_offset": 0,
                        "aborted_transactions": [{"producer_id": 7, "first_offset": 3}],
                        "preferred_read_replica": -1,
                        "records": b"",
                    },
                ],
            }
        ],
    }
    cls = load_response_schema(1, version)
    reference, _ = entity_reader(cls)(kio_encoding(1, version, expected), 0)
    assert decode_frame(1, version, frame) == reference
