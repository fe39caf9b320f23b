"""A blocking JSON-over-HTTP call for tests of the gateway (standard library only).

    status, body = http_call(node.http_url, "POST", "/topics/t", {"records": [...]})

The body is sent as JSON with `content_type` (or `raw` bytes as they are); the
answer's body is parsed as JSON (None when empty, as for a 204).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

__all__ = ["BINARY", "JSON", "V2", "http_call"]

V2 = "application/vnd.kafka.v2+json"
BINARY = "application/vnd.kafka.binary.v2+json"
JSON = "application/vnd.kafka.json.v2+json"


def http_call(
    base_url: str,
    method: str,
    path: str,
    body: Any = None,
    content_type: str = BINARY,
    accept: str | None = None,
    raw: bytes | None = None,
    timeout_s: float = 10.0,
) -> tuple[int, Any]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(f"{base_url}{path}", data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", content_type)
    if accept:
        request.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, _json(response.read())
    except urllib.error.HTTPError as error:
        return error.code, _json(error.read())


def _json(data: bytes) -> Any:
    return json.loads(data) if data else None
