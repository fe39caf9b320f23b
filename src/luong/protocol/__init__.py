"""The Kafka wire protocol: bytes in, objects out, and back. No I/O here."""

__all__: list[str] = []
