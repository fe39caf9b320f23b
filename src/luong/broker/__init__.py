"""The broker: one handler per Kafka API (handlers/) over a service layer (topics,
produce, logs, offsets, groups, transactions) that the HTTP gateway's LocalCluster
uses too, so every door gets the same rules."""

from luong.broker.broker import Broker, BrokerIdentity, ProtocolViolation

__all__ = ["Broker", "BrokerIdentity", "ProtocolViolation"]
