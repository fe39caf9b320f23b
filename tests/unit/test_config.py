"""Topic and broker settings: Kafka names, defaults, validation messages."""

from __future__ import annotations

import pytest

from luong.config import BrokerConfig, TopicConfig
from luong.errors import InvalidConfigError


def test_topic_defaults_follow_the_broker_and_overrides_win() -> None:
    broker = BrokerConfig.from_settings({"log.retention.ms": "1000", "num.partitions": "3"})
    assert broker["num.partitions"] == 3
    assert broker.topic_defaults == {"retention.ms": "1000"}
    plain = TopicConfig.from_overrides({}, broker.topic_defaults)
    assert plain.retention_ms == 1000
    assert plain.overrides == {}
    own = TopicConfig.from_overrides({"retention.ms": "5"}, broker.topic_defaults)
    assert own.retention_ms == 5
    assert own.with_overrides({"retention.ms": None}).retention_ms == 1000


def test_bad_broker_settings_are_named() -> None:
    with pytest.raises(InvalidConfigError, match=r"Unknown broker config name: no\.such"):
        BrokerConfig.from_settings({"no.such": "1"})
    with pytest.raises(InvalidConfigError, match=r"num\.partitions.*\[1, 100000\]"):
        BrokerConfig.from_settings({"num.partitions": "0"})
    with pytest.raises(InvalidConfigError, match=r"auto\.create\.topics\.enable"):
        BrokerConfig.from_settings({"auto.create.topics.enable": "maybe"})
    with pytest.raises(InvalidConfigError, match=r"log\.retention\.ms"):
        BrokerConfig.from_settings({"log.retention.ms": "-7"})


def test_bad_topic_settings_are_named() -> None:
    with pytest.raises(InvalidConfigError, match=r"segment\.bytes.*\[14, 2\^31-1\]"):
        TopicConfig.from_overrides({"segment.bytes": "3"})
    with pytest.raises(InvalidConfigError, match=r"Null value .* retention\.ms"):
        TopicConfig.from_overrides({"retention.ms": None})
