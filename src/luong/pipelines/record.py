"""The record every operator can see: a value with its key, time and coordinates."""

from __future__ import annotations

from typing import Any

__all__ = ["Headers", "Record"]

Headers = list[tuple[str, bytes | None]]


class Record:
    """One event as a pipeline's operators see it.

    `value` and `key` are decoded by the source's codecs (JSON values and str keys by
    default) and then whatever the operators made of them; `timestamp` is the event
    time in milliseconds since the epoch (the Kafka record's timestamp, carried to
    every output the record causes); `headers` are Kafka's (name, bytes) pairs;
    `topic`, `partition` and `offset` name the input record it came from (for
    window results: the record that closed or updated the window).

    Operators never change a record they were given: `replace` makes the next one.
    """

    __slots__ = ("headers", "key", "offset", "partition", "timestamp", "topic", "value")

    def __init__(
        self,
        value: Any,
        key: Any = None,
        timestamp: int = 0,
        headers: Headers | None = None,
        topic: str = "",
        partition: int = 0,
        offset: int = -1,
    ) -> None:
        self.value = value
        self.key = key
        self.timestamp = timestamp
        self.headers: Headers = headers if headers is not None else []
        self.topic = topic
        self.partition = partition
        self.offset = offset

    def replace(self, value: Any, key: Any = None, *, timestamp: int | None = None) -> Record:
        """This record with a new value (and key, and time, when given)."""
        return Record(
            value,
            self.key if key is None else key,
            self.timestamp if timestamp is None else timestamp,
            self.headers,
            self.topic,
            self.partition,
            self.offset,
        )

    def with_key(self, key: Any) -> Record:
        """This record with a new key (which may be None)."""
        return Record(
            self.value, key, self.timestamp, self.headers, self.topic, self.partition, self.offset
        )

    def header(self, name: str) -> bytes | None:
        """The last value of header `name`, or None."""
        for header, value in reversed(self.headers):
            if header == name:
                return value
        return None

    def __repr__(self) -> str:
        return (
            f"Record(value={self.value!r}, key={self.key!r}, timestamp={self.timestamp}, "
            f"topic={self.topic!r}, partition={self.partition}, offset={self.offset})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    __hash__ = None  # type: ignore[assignment]
