"""Bearer tokens for the HTTP gateway, from the broker setting `luong.http.tokens`.

With no token configured every request is served (and `luong serve` keeps the
gateway on loopback). With tokens, a request needs `Authorization: Bearer TOKEN`
(401, error_code 40101, otherwise). A read-only (`ro`) token may read: GET
anything, run consumer instances, subscribe to streams; writing (producing,
admin changes, webhooks, WebSocket produce frames) takes `rw` (403, 40301).
A token with a topic prefix reaches only topics whose names start with it: topic
paths, topics named in bodies, and the `GET /topics` listing are held to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from luong.gateway.errors import Handler, RestError

__all__ = ["ACCESS", "AccessPolicy", "check_topic", "check_write", "grant_of"]

READS = frozenset({"GET", "HEAD", "OPTIONS"})
GRANT = "luong.grant"  # request key: the (mode, prefix) of the caller's token


class AccessPolicy:
    def __init__(self, tokens: Sequence[tuple[str, str, str]]) -> None:
        self.grants = {token: (mode, prefix) for token, mode, prefix in tokens}

    @property
    def enabled(self) -> bool:
        return bool(self.grants)

    def grant(self, authorization: str | None) -> tuple[str, str]:
        scheme, _, token = (authorization or "").partition(" ")
        found = self.grants.get(token.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            raise RestError(401, 40101, "a valid 'Authorization: Bearer TOKEN' header is needed")
        return found

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.enabled and request.path not in ("/openapi.json", "/docs"):
            request[GRANT] = self.grant(request.headers.get("Authorization"))
            if request.method not in READS and not request.path.startswith("/consumers/"):
                check_write(request)
            topic = request.match_info.get("topic")
            if topic is not None:
                check_topic(request, topic)
        return await handler(request)


ACCESS = web.AppKey("access", AccessPolicy)


def grant_of(request: web.Request) -> tuple[str, str]:
    """The caller's (mode, topic prefix); full access when tokens are off."""
    grant: tuple[str, str] = request.get(GRANT, ("rw", ""))
    return grant


def check_write(request: web.Request) -> None:
    if grant_of(request)[0] != "rw":
        raise RestError(403, 40301, "this token is read-only")


def check_topic(request: web.Request, topic: str) -> None:
    prefix = grant_of(request)[1]
    if not topic.startswith(prefix):
        raise RestError(403, 40301, f"this token reaches only topics starting with {prefix!r}")
