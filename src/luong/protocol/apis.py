"""The (api key, version) table: kio's classes, native reader and writer for each.

A SpecTable holds the versions the broker accepts and builds each spec on first
use, then keeps it (a kio schema lookup costs microseconds; a dict lookup does
not). Building them all means importing some 600 of kio's schema modules, about
0.7 s: done up front it delayed every start, so the node builds them in the
background once it listens (`unbuilt`), and a request that comes first builds its
own. Decoding uses kio's native reader; encoding uses kio's writer except where a
hand-rolled encoder takes over.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from kio.index import load_request_schema, load_response_schema
from kio.serial import entity_reader, entity_writer
from kio.serial.errors import SerialError

from luong.errors import InvalidRequestError
from luong.protocol.entities import build
from luong.protocol.framing import RequestHeader, skip_tagged_fields
from luong.protocol.primitives import INT32

__all__ = ["API_VERSIONS_KEY", "ApiSpec", "SpecTable", "load_specs"]

API_VERSIONS_KEY = 18


@dataclass(frozen=True, slots=True)
class ApiSpec:
    """Everything needed to decode a request and encode its response at one version."""

    api_key: int
    version: int
    request_cls: type
    response_cls: type
    read: Callable[[Any, int], tuple[Any, int]]
    write: Callable[[Any, Any], None]
    request_header_flexible: bool
    response_header_flexible: bool

    def decode(self, frame: bytes | memoryview, header: RequestHeader) -> Any:
        """The request body as a kio entity; InvalidRequestError if it does not parse."""
        position = header.body_offset
        if self.request_header_flexible:
            position = skip_tagged_fields(frame, position)
        try:
            entity, _ = self.read(frame, position)
        except (SerialError, ValueError, UnicodeDecodeError) as error:
            raise InvalidRequestError(
                f"cannot decode {self.request_cls.__name__}: {error}"
            ) from None
        return entity

    def response_header(self, correlation_id: int) -> bytes:
        return INT32.pack(correlation_id) + (b"\x00" if self.response_header_flexible else b"")

    def encode(self, correlation_id: int, data: Mapping[str, Any]) -> bytes:
        """A whole response frame (size prefix included) from a handler's plain dict."""
        return b"".join(self.frame(correlation_id, self.encode_body(data)))

    def encode_body(self, data: Mapping[str, Any]) -> bytes:
        """The response body alone (no size, no header): what a cache may keep."""
        out = io.BytesIO()
        self.write(out, build(self.response_cls, data))
        return out.getvalue()

    def frame(self, correlation_id: int, body: bytes) -> list[bytes]:
        """A response frame as pieces: size prefix and header, then `body` unchanged."""
        header = self.response_header(correlation_id)
        return [INT32.pack(len(header) + len(body)) + header, body]


def _spec(api_key: int, version: int) -> ApiSpec:
    request_cls = load_request_schema(api_key, version)
    response_cls = load_response_schema(api_key, version)
    return ApiSpec(
        api_key,
        version,
        request_cls,
        response_cls,
        entity_reader(request_cls),
        entity_writer(response_cls),
        request_cls.__header_schema__.__module__.endswith("v2.header"),
        response_cls.__header_schema__.__module__.endswith("v1.header"),
    )


class SpecTable(Mapping[tuple[int, int], ApiSpec]):
    """Specs for every (key, version) in the accepted ranges, each built on first use."""

    def __init__(self, accepted: Mapping[int, tuple[int, int]]) -> None:
        self._keys = [
            (key, version)
            for key, (low, high) in sorted(accepted.items())
            for version in range(low, high + 1)
        ]
        self._accepted = frozenset(self._keys)
        self._built: dict[tuple[int, int], ApiSpec] = {}

    def __getitem__(self, key: tuple[int, int]) -> ApiSpec:
        spec = self.get(key)
        if spec is None:
            raise KeyError(key)
        return spec

    def get(self, key: tuple[int, int], default: None = None) -> ApiSpec | None:  # type: ignore[override]
        """The spec of an accepted (key, version), built on first use; None otherwise
        (once per request: a dict lookup when built)."""
        spec = self._built.get(key)
        if spec is None and key in self._accepted:
            spec = self._built[key] = _spec(*key)
        return spec

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def unbuilt(self) -> list[tuple[int, int]]:
        """The accepted (key, version) pairs whose spec is not built yet."""
        return [key for key in self._keys if key not in self._built]


def load_specs(accepted: Mapping[int, tuple[int, int]]) -> SpecTable:
    """The spec table of the accepted ranges {key: (min, max)} (built lazily)."""
    return SpecTable(accepted)
