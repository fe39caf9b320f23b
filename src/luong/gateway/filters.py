"""Subscribe-time filters for live streams: the broker drops what a receiver did not ask for.

A filter is one expression; a record must match all of a stream's filters:

    header.NAME              the header exists
    header.NAME=TEXT         a header with that name has that value (also != ^= < <= > >=)
    key=TEXT                 the key, as text (same operators)
    value.a.b OP LITERAL     a field of the JSON value; LITERAL is read as JSON when it
                             parses (2, true, "x") and as text otherwise
    value.a.b                the field exists

`^=` is "starts with" (text only); `<`, `<=`, `>`, `>=` compare numbers with numbers
and text with text (anything else does not match). A value that is not a JSON
object matches no `value.` filter. A bad expression is a FilterError naming it.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["FilterError", "Matchable", "compile_filters"]

_EXPRESSION = re.compile(
    r"^(?P<field>header\.[^=!<>^]+|key|value(?:\.[^=!<>^.]+)+)"
    r"(?:(?P<op>=|!=|<=|>=|<|>|\^=)(?P<literal>.*))?$"
)
_MISSING = object()
_ORDERED = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class FilterError(ValueError):
    """An expression that is not a filter."""


class Matchable:
    """What a filter looks at: headers, key text and the parsed JSON value (once)."""

    def __init__(
        self, key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes | None]]
    ) -> None:
        self.key, self.value, self.headers = key, value, headers
        self._json: Any = _MISSING

    def json_value(self) -> Any:
        if self._json is _MISSING:
            try:
                self._json = json.loads(self.value) if self.value is not None else None
            except ValueError:
                self._json = None
        return self._json


Predicate = Callable[[Matchable], bool]


def compile_filters(expressions: Sequence[str]) -> Predicate:
    """One predicate for all `expressions` (every one must match)."""
    predicates = [_compile(e) for e in expressions]
    return lambda record: all(p(record) for p in predicates)


def _compile(expression: str) -> Predicate:
    found = _EXPRESSION.match(expression)
    if found is None:
        raise FilterError(
            f"bad filter {expression!r}: want header.NAME, key or value.FIELD,"
            " optionally followed by = != < <= > >= ^= and a value"
        )
    field, op, literal = found["field"], found["op"], found["literal"]
    fetch = _fetcher(field)
    if op is None:
        return lambda record: fetch(record) is not _MISSING
    wanted: Any = literal if not field.startswith("value.") else _literal(literal)
    compare = _comparison(op, wanted)
    return lambda record: _safe(compare, fetch(record))


def _fetcher(field: str) -> Callable[[Matchable], Any]:
    if field == "key":
        return lambda r: _MISSING if r.key is None else r.key.decode("utf-8", "replace")
    if field.startswith("header."):
        name = field[len("header.") :]
        return lambda r: next((_text(v) for n, v in r.headers if n == name), _MISSING)
    path = field.split(".")[1:]
    return lambda r: _walk(r.json_value(), path)


def _text(value: bytes | None) -> Any:
    return "" if value is None else value.decode("utf-8", "replace")


def _walk(data: Any, path: list[str]) -> Any:
    for step in path:
        if not isinstance(data, dict) or step not in data:
            return _MISSING
        data = data[step]
    return data


def _literal(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _comparison(op: str, wanted: Any) -> Callable[[Any], bool]:
    if op == "=":
        return lambda got: bool(got == wanted)
    if op == "!=":
        return lambda got: bool(got != wanted)
    if op == "^=":
        prefix = str(wanted)
        return lambda got: isinstance(got, str) and got.startswith(prefix)
    compare = _ORDERED[op]
    return lambda got: _same_kind(got, wanted) and bool(compare(got, wanted))


def _same_kind(a: Any, b: Any) -> bool:
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    return (isinstance(a, numbers) and isinstance(b, numbers)) or (
        isinstance(a, str) and isinstance(b, str)
    )


def _safe(compare: Callable[[Any], bool], got: Any) -> bool:
    return got is not _MISSING and compare(got)
