"""validate_batches names the records that make a batch unacceptable (KIP-467)."""

from __future__ import annotations

import pytest

from luong.config import TopicConfig
from luong.errors import InvalidRecordError, MessageTooLargeError
from luong.protocol.records import Record, build_batch
from luong.storage.common import validate_batches


def test_keyless_records_on_a_compacted_topic_are_named_by_index() -> None:
    config = TopicConfig.from_overrides({"cleanup.policy": "compact"})
    first = build_batch([Record(0, 0, b"a", b"1"), Record(1, 0, None, b"2")])
    second = build_batch([Record(0, 0, None, b"3"), Record(1, 0, b"d", b"4")])
    validate_batches(build_batch([Record(0, 0, b"k", b"v")]), config)  # keyed: accepted
    with pytest.raises(InvalidRecordError) as caught:
        validate_batches(second, config)
    assert [index for index, _ in caught.value.record_errors] == [0]
    with pytest.raises(InvalidRecordError) as caught:
        validate_batches(first, config)
    assert caught.value.record_errors == (
        (1, "Compacted topic cannot accept message without key."),
    )


def test_a_record_alone_over_the_limit_is_named() -> None:
    config = TopicConfig.from_overrides({"max.message.bytes": "1000"})
    batch = build_batch([Record(0, 0, None, b"s"), Record(1, 0, b"k", b"x" * 2000)])
    with pytest.raises(MessageTooLargeError) as caught:
        validate_batches(batch, config)
    [(index, why)] = caught.value.record_errors
    assert index == 1 and "2001 bytes exceeds max.message.bytes 1000" in why
    many = build_batch([Record(i, 0, None, b"y" * 100) for i in range(20)])
    with pytest.raises(MessageTooLargeError) as caught:
        validate_batches(many, config)
    assert caught.value.record_errors == ()  # the batch is too large, no record alone is
