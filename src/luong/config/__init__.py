"""Settings by their Kafka names: topic settings and broker settings."""

from luong.config.broker import BROKER_CONFIGS, TOPIC_DEFAULT_NAMES, BrokerConfig
from luong.config.definitions import ConfigDef
from luong.config.topic import TOPIC_CONFIGS, FlushPolicy, TopicConfig, parse_value

__all__ = [
    "BROKER_CONFIGS",
    "TOPIC_CONFIGS",
    "TOPIC_DEFAULT_NAMES",
    "BrokerConfig",
    "ConfigDef",
    "FlushPolicy",
    "TopicConfig",
    "parse_value",
]
