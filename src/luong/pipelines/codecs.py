"""Codecs turn Kafka's bytes into Python values and back.

A source decodes keys and values with its codecs; a sink encodes them with its own.
Built in: `"json"` (orjson: UTF-8 JSON text; the default for values), `"str"` (UTF-8
text; the default for keys: a key that is not a str or bytes is written as JSON, so
`key_by(lambda v: v["user_id"])` with int ids gives the key `42`), `"bytes"` (as
is). Any object with `encode(value) -> bytes | None` and `decode(data) -> value`
is a codec too. None (a null key or a tombstone) passes through every codec.

Inside a pipeline keys are encoded once more, canonically, as JSON (`key_bytes`):
that is how state stores, changelogs and repartition topics name a key, whatever
codec the source used.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import orjson

from luong.errors import LuongError

__all__ = [
    "BytesCodec",
    "Codec",
    "CodecError",
    "JsonCodec",
    "StrCodec",
    "key_bytes",
    "resolve_codec",
]


class CodecError(LuongError):
    """A value could not be decoded or encoded; the message says which and why."""


@runtime_checkable
class Codec(Protocol):
    """Turns a Python value into Kafka bytes and back; None stays None."""

    def encode(self, value: Any) -> bytes | None: ...

    def decode(self, data: bytes | None) -> Any: ...


class JsonCodec:
    """UTF-8 JSON through orjson (non-str dict keys allowed on encode)."""

    def encode(self, value: Any) -> bytes | None:
        if value is None:
            return None
        try:
            return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
        except TypeError as error:
            raise CodecError(f"cannot encode as JSON: {error}") from None

    def decode(self, data: bytes | None) -> Any:
        if data is None:
            return None
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as error:
            raise CodecError(f"not JSON: {error}") from None


class StrCodec:
    """UTF-8 text; on encode, bytes pass as they are and other values become JSON."""

    def encode(self, value: Any) -> bytes | None:
        if value is None or isinstance(value, bytes):
            return value
        if isinstance(value, str):
            return value.encode()
        return JSON.encode(value)

    def decode(self, data: bytes | None) -> Any:
        if data is None:
            return None
        try:
            return data.decode()
        except UnicodeDecodeError as error:
            raise CodecError(f"not UTF-8 text: {error}") from None


class BytesCodec:
    """Bytes as they are (bytearray and memoryview are copied to bytes on encode)."""

    def encode(self, value: Any) -> bytes | None:
        if value is None or isinstance(value, bytes):
            return value
        if isinstance(value, bytearray | memoryview):
            return bytes(value)
        raise CodecError(f"the bytes codec encodes bytes, not {type(value).__name__}")

    def decode(self, data: bytes | None) -> Any:
        return data


JSON = JsonCodec()
_BY_NAME: dict[str, Codec] = {"json": JSON, "str": StrCodec(), "bytes": BytesCodec()}


def resolve_codec(codec: str | Codec) -> Codec:
    """A codec by name ("json", "str", "bytes") or the codec object itself."""
    if isinstance(codec, str):
        try:
            return _BY_NAME[codec]
        except KeyError:
            names = ", ".join(sorted(_BY_NAME))
            raise ValueError(f"unknown codec {codec!r}: use {names} or a codec object") from None
    if not isinstance(codec, Codec):
        raise TypeError(f"a codec needs encode() and decode(), {type(codec).__name__} has not")
    return codec


def key_bytes(key: Any) -> bytes:
    """The canonical bytes of a key inside a pipeline: JSON, dict keys sorted."""
    try:
        return orjson.dumps(key, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError as error:
        raise CodecError(f"a key must be JSON-serialisable: {error}") from None
