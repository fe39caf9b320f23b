"""The broker: one handler per Kafka API over a service layer shared with the gateway."""

from luong.broker.broker import Broker, BrokerIdentity, ProtocolViolation

__all__ = ["Broker", "BrokerIdentity", "ProtocolViolation"]
