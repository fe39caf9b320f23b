"""The asyncio Kafka listener and the Node that assembles a running process."""

from luong.server.node import Node, NodeConfig

__all__ = ["Node", "NodeConfig"]
