"""luong's record API against v2 record batches captured from real Kafka clients.

The fixtures were recorded by `tests/fixtures/capture_batches.py` from confluent-kafka
(librdkafka), kafka-python and aiokafka, once per codec. `manifest.json` lists each file's
client, codec and the records the client was asked to send.
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path
from typing import Any

import pytest

from luong.errors import CorruptRecordError
from luong.protocol.records import BatchHeader, Compression, Record, decode_batch, split_batches

BATCHES_DIR = Path(__file__).parents[2] / "fixtures" / "batches"
MANIFEST: list[dict[str, Any]] = json.loads(
    (BATCHES_DIR / "manifest.json").read_text(encoding="utf-8")
)["fixtures"]
CODECS = {
    "none": Compression.NONE,
    "gzip": Compression.GZIP,
    "snappy": Compression.SNAPPY,
    "lz4": Compression.LZ4,
    "zstd": Compression.ZSTD,
}

RecordTuple = tuple[bytes | None, bytes | None, tuple[tuple[str, bytes | None], ...], int]

ENTRIES = [pytest.param(entry, id=entry["file"].removesuffix(".bin")) for entry in MANIFEST]


def load(entry: dict[str, Any]) -> bytes:
    return (BATCHES_DIR / entry["file"]).read_bytes()


def unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


def expected_records(entry: dict[str, Any]) -> list[RecordTuple]:
    return [
        (
            unb64(r["key"]),
            unb64(r["value"]),
            tuple((key, unb64(value)) for key, value in r["headers"]),
            r["timestamp"],
        )
        for r in entry["records"]
    ]


def as_tuple(record: Record) -> RecordTuple:
    return (record.key, record.value, tuple(record.headers), record.timestamp)


def decoded_records(data: bytes) -> list[Record]:
    return [record for view in split_batches(data) for record in decode_batch(view).records]


def test_manifest_covers_every_client_and_codec() -> None:
    pairs = {(entry["client"], entry["codec"]) for entry in MANIFEST}
    assert pairs == {(c, k) for c in ("confluent", "kafkapython", "aiokafka") for k in CODECS}


@pytest.mark.parametrize("entry", ENTRIES)
def test_batches_validate_and_carry_the_requested_codec(entry: dict[str, Any]) -> None:
    data = load(entry)
    views = split_batches(data)
    assert views
    assert sum(len(view) for view in views) == len(data)
    for view in views:
        header = BatchHeader.parse(view)
        assert header.magic == 2
        assert header.batch_length == len(view) - 12
        assert header.compression == CODECS[entry["codec"]]
        assert header.timestamp_type == 0  # CreateTime: the producer's timestamps
        assert not header.is_transactional
        assert not header.is_control


@pytest.mark.parametrize("entry", ENTRIES)
def test_records_match_what_the_client_sent(entry: dict[str, Any]) -> None:
    records = decoded_records(load(entry))
    assert [as_tuple(record) for record in records] == expected_records(entry)
    assert [record.offset for record in records] == list(range(len(records)))


@pytest.mark.parametrize("entry", ENTRIES)
def test_batch_headers_agree_with_their_records(entry: dict[str, Any]) -> None:
    for view in split_batches(load(entry)):
        batch = decode_batch(view)
        assert batch.header.record_count == len(batch.records)
        assert batch.header.last_offset_delta == len(batch.records) - 1
        assert batch.header.max_timestamp == max(r.timestamp for r in batch.records)
        assert [r.offset for r in batch.records] == [
            batch.header.base_offset + delta for delta in range(len(batch.records))
        ]


@pytest.mark.parametrize("entry", ENTRIES)
def test_record_fields_are_bytes(entry: dict[str, Any]) -> None:
    for record in decoded_records(load(entry)):
        assert record.key is None or type(record.key) is bytes
        assert record.value is None or type(record.value) is bytes
        for key, value in record.headers:
            assert type(key) is str
            assert value is None or type(value) is bytes


@pytest.mark.parametrize("entry", ENTRIES)
def test_rewriting_base_offset_and_leader_epoch_needs_no_new_crc(entry: dict[str, Any]) -> None:
    data = bytearray(load(entry))
    first_size = len(split_batches(bytes(data))[0])
    struct.pack_into(">q", data, 0, 1000)  # baseOffset and partitionLeaderEpoch lie before
    struct.pack_into(">i", data, 12, 7)  # the CRC32C range, as a broker rewrites them
    views = split_batches(bytes(data))
    header = BatchHeader.parse(views[0])
    assert (header.base_offset, header.partition_leader_epoch) == (1000, 7)
    assert len(views[0]) == first_size
    assert decode_batch(views[0]).records[0].offset == 1000


def flip_positions(batch_size: int) -> list[int]:
    """Bytes under the CRC32C (which covers 21..end): a header field, the records, the end."""
    return [27, 61 + (batch_size - 61) // 2, batch_size - 1]


@pytest.mark.parametrize("entry", ENTRIES)
def test_a_flipped_byte_in_the_first_batch_is_corrupt(entry: dict[str, Any]) -> None:
    data = load(entry)
    first_size = len(split_batches(data)[0])
    for position in flip_positions(first_size):
        damaged = bytearray(data)
        damaged[position] ^= 0xFF
        with pytest.raises(CorruptRecordError):
            split_batches(bytes(damaged))


@pytest.mark.parametrize("entry", ENTRIES)
def test_truncated_data_is_corrupt(entry: dict[str, Any]) -> None:
    data = load(entry)
    for size in (len(data) - 1, len(data) // 2, 40, 11):
        with pytest.raises(CorruptRecordError):
            split_batches(data[:size])
