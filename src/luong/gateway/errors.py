"""REST Proxy v2 errors: `{"error_code": N, "message": "..."}` with an HTTP status.

Codes as Confluent's REST Proxy defines them: the HTTP status itself for plain
HTTP failures (400 malformed JSON, 404 no such route, 406, 413, 415, 422), and
40401 topic not found, 40402 partition not found, 50002 a Kafka error, 50003 a
retriable one. Every failure goes through `error_middleware`, so no route
answers with anything but this JSON body, and an unexpected exception is a 500
with the same shape (logged), never a dropped connection.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from luong.errors import LuongError

__all__ = [
    "RestError",
    "error_body",
    "error_middleware",
    "kafka_error_code",
    "partition_not_found",
    "topic_not_found",
]

log = logging.getLogger("luong.gateway")
ERROR_TYPE = "application/vnd.kafka.v2+json"


class RestError(Exception):
    """A request refused with `status` and a REST Proxy `error_code`."""

    def __init__(self, status: int, error_code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message


def topic_not_found(topic: str) -> RestError:
    return RestError(404, 40401, f"Topic {topic} not found.")


def partition_not_found(message: str) -> RestError:
    return RestError(404, 40402, f"Partition not found: {message}")


def kafka_error_code(error: LuongError) -> int:
    """50003 for an error a retry may clear, 50002 for any other Kafka error."""
    return 50003 if error.error_code.retriable else 50002


def error_body(status: int, error_code: int, message: str) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps({"error_code": error_code, "message": message}),
        content_type=ERROR_TYPE,
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except RestError as error:
        return error_body(error.status, error.error_code, error.message)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return error_body(error.status, error.status, f"HTTP {error.status} {error.reason}")
    except LuongError as error:
        return error_body(500, kafka_error_code(error), str(error) or type(error).__name__)
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return error_body(500, 500, "Internal server error")
