"""Setting definitions shared by topic and broker settings: parsers and their ranges."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from luong.errors import InvalidConfigError

__all__ = [
    "ConfigDef",
    "INT32_MAX",
    "INT64_MAX",
    "boolean",
    "cleanup_policy",
    "defs",
    "http_tokens",
    "int_in",
    "one_of",
    "parse_setting",
]

INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1


@dataclass(frozen=True, slots=True)
class ConfigDef:
    """One setting: its Kafka name, default (as text), parser and allowed values."""

    name: str
    default: str
    parse: Callable[[str], object]
    allowed: str
    doc: str


_INTEGER = re.compile(r"-?[0-9]+")


def int_in(low: int, high: int) -> Callable[[str], object]:
    def parse(text: str) -> int:
        if not isinstance(text, str) or not _INTEGER.fullmatch(text.strip()):
            raise ValueError
        value = int(text.strip())
        if not low <= value <= high:
            raise ValueError
        return value

    return parse


def one_of(*choices: str) -> Callable[[str], object]:
    def parse(text: str) -> str:
        if not isinstance(text, str):
            raise ValueError
        value = text.strip()
        if value not in choices:
            raise ValueError
        return value

    return parse


def boolean(text: str) -> bool:
    if not isinstance(text, str):
        raise ValueError
    value = text.strip().lower()
    if value not in {"true", "false"}:
        raise ValueError
    return value == "true"


HttpToken = tuple[str, str, str]  # (token, "ro" or "rw", topic name prefix)


def http_tokens(text: str) -> tuple[HttpToken, ...]:
    """`TOKEN:ro|rw[:TOPIC_PREFIX],...` -> the gateway's bearer tokens ("" for none)."""
    if not isinstance(text, str):
        raise ValueError
    tokens = []
    for entry in filter(None, (part.strip() for part in text.split(","))):
        token, _, rest = entry.partition(":")
        mode, _, prefix = rest.partition(":")
        if not token or any(c.isspace() for c in token) or mode not in ("ro", "rw"):
            raise ValueError
        tokens.append((token, mode, prefix))
    return tuple(tokens)


def cleanup_policy(text: str) -> frozenset[str]:
    if not isinstance(text, str):
        raise ValueError
    parts = frozenset(part.strip() for part in text.split(",") if part.strip())
    if not parts or not parts <= {"delete", "compact"}:
        raise ValueError
    return parts


def defs(*items: ConfigDef) -> dict[str, ConfigDef]:
    return {item.name: item for item in items}


def parse_setting(table: Mapping[str, ConfigDef], name: str, text: str | None, kind: str) -> object:
    """Parse one setting of `table`, or raise InvalidConfigError naming it and its range."""
    definition = table.get(name)
    if definition is None:
        raise InvalidConfigError(f"Unknown {kind} config name: {name}")
    if text is None:
        raise InvalidConfigError(f"Null value not supported for {kind} config: {name}")
    try:
        return definition.parse(text)
    except ValueError:
        raise InvalidConfigError(
            f"Invalid value {text!r} for configuration {name}: must be {definition.allowed}"
        ) from None
