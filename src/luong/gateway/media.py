"""REST Proxy v2 media types and the embedded formats of keys and values.

`application/vnd.kafka.v2+json` carries metadata and answers;
`application/vnd.kafka.binary.v2+json` carries keys and values as base64 strings,
`application/vnd.kafka.json.v2+json` as any JSON value (stored as its UTF-8 JSON
text). Clients that send `Accept: application/json`, `*/*` or nothing get the v2
type; any other Accept is a 406.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aiohttp import web

from luong.gateway.errors import RestError

__all__ = ["BINARY", "JSON", "V2", "check_accept", "decode_field", "embedded_format", "read_json"]

V2 = "application/vnd.kafka.v2+json"
BINARY = "application/vnd.kafka.binary.v2+json"
JSON = "application/vnd.kafka.json.v2+json"
EMBEDDED = {BINARY: "binary", JSON: "json"}
ACCEPTABLE = frozenset({V2, "application/json", "application/*", "*/*", BINARY, JSON})


def check_accept(request: web.Request) -> None:
    """406 unless the client accepts the v2 JSON type (or anything)."""
    accept = request.headers.get("Accept", "")
    offered = {part.split(";")[0].strip() for part in accept.split(",") if part.strip()}
    if offered and not offered & ACCEPTABLE:
        raise RestError(406, 406, f"HTTP 406 Not Acceptable: cannot answer {accept!r}")


def embedded_format(request: web.Request) -> str:
    """'binary' or 'json' from the Content-Type of a produce request; 415 otherwise."""
    embedded = EMBEDDED.get(request.content_type)
    if embedded is None:
        raise RestError(
            415,
            415,
            f"HTTP 415 Unsupported Media Type: {request.content_type!r};"
            f" produce takes {BINARY} or {JSON}",
        )
    return embedded


async def read_json(request: web.Request) -> Any:
    """The body as JSON: 400 if it is not UTF-8 JSON (413 beyond the size limit)."""
    body = await request.read()
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise RestError(400, 400, f"Malformed JSON: the body is not UTF-8 ({error})") from None
    except ValueError as error:
        raise RestError(400, 400, f"Malformed JSON: {error}") from None


def decode_field(embedded: str, value: Any, what: str) -> bytes | None:
    """A record's key or value as stored bytes; `what` names it in errors (422)."""
    if value is None:
        return None
    if embedded == "json":
        return json.dumps(value, separators=(",", ":")).encode()
    if not isinstance(value, str):
        raise RestError(422, 422, f"{what} must be a base64 string, got {type(value).__name__}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise RestError(422, 422, f"{what} contains invalid base64 encoding") from None
