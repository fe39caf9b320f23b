"""What a handler gets besides its decoded request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from luong.protocol.apis import ApiSpec
from luong.protocol.framing import RequestHeader

if TYPE_CHECKING:
    from luong.broker.broker import Broker

__all__ = ["RequestContext"]


@dataclass(frozen=True, slots=True)
class RequestContext:
    """The broker (service layer), the request's header and its (key, version) spec."""

    broker: Broker
    header: RequestHeader
    spec: ApiSpec
    client_host: str = ""

    @property
    def version(self) -> int:
        return self.header.api_version
