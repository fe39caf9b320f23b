"""ApiHandler: how each handler module describes itself to the registry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from luong.broker.context import RequestContext
from luong.errors import ErrorCode, LuongError
from luong.protocol.fetch_response import Chunk

__all__ = ["ApiHandler", "HandlerResult", "error_fields", "fenced_code"]

# A plain dict (encoded with kio at the request's version), a whole encoded frame,
# frame pieces (bytes and stored regions), or None: no response (Produce acks=0).
HandlerResult = Mapping[str, Any] | bytes | Sequence[bytes | Chunk] | None


@dataclass(frozen=True, slots=True)
class ApiHandler:
    """One Kafka API: its key, the versions advertised and accepted, and the handler."""

    api_key: int
    name: str
    min_version: int
    max_version: int
    handle: Callable[[RequestContext, Any], Awaitable[HandlerResult]]
    min_accepted: int | None = None  # below it: advertised (for old clients' sake) only

    @property
    def accepted(self) -> tuple[int, int]:
        low = self.min_version if self.min_accepted is None else self.min_accepted
        return low, self.max_version


def fenced_code(code: int, version: int, knows_from: int) -> int:
    """PRODUCER_FENCED as INVALID_PRODUCER_EPOCH for a request version older than
    `knows_from`, the first that knows it (KIP-588): older clients treat the old code
    as fencing and would see the new one as an unknown error."""
    if code == ErrorCode.PRODUCER_FENCED and version < knows_from:
        return ErrorCode.INVALID_PRODUCER_EPOCH
    return code


def error_fields(error: BaseException | None) -> dict[str, Any]:
    """`error_code` and `error_message` for a per-item answer (0 and None on success)."""
    if error is None:
        return {"error_code": 0, "error_message": None}
    code = error.error_code if isinstance(error, LuongError) else -1
    return {"error_code": code, "error_message": str(error) or type(error).__name__}
