"""A worker's status and interactive queries over HTTP, and its status records.

HTTP (a small threaded server beside the worker; loopback by default, a token
needed for any other address):

    GET /status                          the worker's status (below)
    GET /stores                          the queryable stores: name, kind, partitions here
    GET /stores/NAME/keys/KEY            rows of KEY (a str key; ?json=1: KEY is JSON)
    GET /stores/NAME?from=A&to=B&limit=N rows of keys in [A, B), at most N (1000)

Errors are JSON `{"error_code": ..., "message": ...}`: 404 40401 unknown path,
40402 unknown store, 40403 key not held by this worker; 400 40001 bad parameter;
401 40101 missing or wrong token; 503 50301 the worker is busy restoring state.

Status (the same JSON over HTTP, in `luong pipeline status NAME`, and every few
seconds as a record keyed `<pipeline>/<worker id>` in the compacted topic
`_luong_pipelines`, a tombstone when the worker stops):

    pipeline, worker, host, pid, http,
    state ("rebalancing" | "restoring" | "running" | "stopped"; Kafka Streams' words),
    guarantee, started_ms, updated_ms,
    partitions: [{topic, partition, position, end, lag, lag_ms}],
    records_in, records_out, dead_letters, late_dropped, late_sent, commits,
    records_in_per_s, records_out_per_s (over the last status interval),
    stores: [{name, partition, keys, bytes}], restore: {records, seconds}
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from luong.pipelines.query import key_rows, range_rows, store_kind

__all__ = ["STATUS_TOPIC", "QueryError", "StatusServer", "is_loopback"]

STATUS_TOPIC = "_luong_pipelines"
_LIMIT = 1000
_LOCK_WAIT_S = 10.0


class QueryError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


class StatusServer:
    """Serves `status()` and the stores of `worker` (see module doc).

    `worker` provides `status() -> dict`, `lock` (held while reading stores),
    `queryable() -> {name: owner}` and `stores_of(name) -> [StateStore]`."""

    def __init__(self, worker: Any, host: str, port: int, token: str | None) -> None:
        if not is_loopback(host) and not token:
            raise ValueError(f"a worker's HTTP endpoint on {host} needs a token (--http-token)")
        handler = _handler(worker, token)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(worker: Any, token: str | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            try:
                self._authorize()
                body = _route(worker, self.path)
                self._send(200, body)
            except QueryError as error:
                self._send(error.status, {"error_code": error.code, "message": str(error)})

        def _authorize(self) -> None:
            if token is None:
                return
            given = self.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                raise QueryError(401, 40101, "a valid bearer token is needed")

        def _send(self, status: int, body: Any) -> None:
            data = orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def _route(worker: Any, path: str) -> Any:
    url = urlsplit(path)
    parts = [unquote(p) for p in url.path.strip("/").split("/")]
    query = {k: v[-1] for k, v in parse_qs(url.query).items()}
    if parts == ["status"]:
        return worker.status()
    if parts == ["stores"]:
        return _stores(worker)
    if len(parts) >= 2 and parts[0] == "stores":
        owner = worker.queryable().get(parts[1])
        if owner is None:
            raise QueryError(404, 40402, f"no store {parts[1]!r} in this pipeline")
        if len(parts) == 2:
            return _locked(worker, lambda: _range(worker, parts[1], owner, query))
        if len(parts) == 4 and parts[2] == "keys":
            key = _key(parts[3], query.get("json") == "1")
            return _locked(worker, lambda: _lookup(worker, parts[1], owner, key))
    raise QueryError(404, 40401, f"no such path {url.path!r}")


def _locked(worker: Any, read: Callable[[], Any]) -> Any:
    """`read()` under the worker's lock, which its thread holds while it processes a
    batch or restores state after a rebalance: 503 if that takes over 10 s."""
    if not worker.lock.acquire(timeout=_LOCK_WAIT_S):
        raise QueryError(503, 50301, "the worker is busy restoring state: try again")
    try:
        return read()
    finally:
        worker.lock.release()


def _stores(worker: Any) -> list[dict[str, Any]]:
    def describe() -> list[dict[str, Any]]:
        return [
            {"name": name, "kind": store_kind(owner), "partitions": worker.partitions_of(name)}
            for name, owner in sorted(worker.queryable().items())
        ]

    return list(_locked(worker, describe))


def _key(text: str, as_json: bool) -> Any:
    if not as_json:
        return text
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise QueryError(
            400, 40001, f"key {text!r} is not JSON (drop json=1 for a str key)"
        ) from None


def _lookup(worker: Any, name: str, owner: Any, key: Any) -> dict[str, Any]:
    rows = key_rows(owner, worker.stores_of(name), key)
    if not rows:
        held = worker.partitions_of(name)
        raise QueryError(
            404, 40403, f"key {key!r} is not in {name} on this worker (partitions here: {held})"
        )
    return {"store": name, "key": key, "rows": rows}


def _range(worker: Any, name: str, owner: Any, query: dict[str, str]) -> dict[str, Any]:
    try:
        limit = int(query.get("limit", _LIMIT))
    except ValueError:
        raise QueryError(400, 40001, f"limit must be an integer, got {query['limit']!r}") from None
    if limit <= 0:
        raise QueryError(400, 40001, "limit must be positive")
    start, stop = query.get("from"), query.get("to")
    rows = range_rows(owner, worker.stores_of(name), start, stop, limit)
    return {"store": name, "rows": rows}
