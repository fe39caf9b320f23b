"""open_storage(url): the one place that maps URLs to engines.

memory://             MemoryStorage (nothing persists)
log:///abs/path       LogStorage in that directory
log://relative/path   LogStorage relative to the working directory
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from luong.clock import Clock
from luong.errors import InvalidConfigError
from luong.storage.api import Storage

__all__ = ["open_storage"]


def open_storage(
    url: str, clock: Clock | None = None, topic_defaults: Mapping[str, str] | None = None
) -> Storage:
    """Open the engine a storage URL names; `topic_defaults` are broker-level topic
    settings (by topic setting name) that topics without an override take."""
    parts = urlsplit(url)
    if parts.scheme == "memory":
        from luong.storage.memory import MemoryStorage

        return MemoryStorage(clock, topic_defaults)
    if parts.scheme == "log":
        from luong.storage.log import LogStorage

        path = parts.netloc + parts.path
        if not path:
            raise InvalidConfigError(f"storage URL {url!r} names no directory")
        return LogStorage(path, clock, topic_defaults=topic_defaults)
    raise InvalidConfigError(f"unknown storage URL scheme {parts.scheme!r} in {url!r}")
