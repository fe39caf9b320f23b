"""Build kio message entities of any version from plain values.

Handlers answer with plain dicts under kio's field names (`throttle_time`,
`error_code`, `topics`, …), the same for every version; `build(cls, data)` turns
one into the kio dataclass of the version at hand: keys the version lacks are
dropped, fields it has but the dict omits take their schema default, nested
lists of dicts become tuples of the version's nested entities, ints become
ErrorCode / timedelta / UUID where the schema says so.
"""

from __future__ import annotations

import dataclasses
import datetime
import typing
import uuid
from collections.abc import Mapping
from functools import cache
from typing import Any

from kio.schema.errors import ErrorCode

__all__ = ["build", "missing_fields"]

_TIMEDELTAS = {"timedelta_i32", "timedelta_i64"}


@cache
def _fields(cls: type) -> tuple[tuple[dataclasses.Field[Any], type | None], ...]:
    """Each field with the nested entity class its value holds, if any."""
    return tuple((field, _nested_entity(field.type)) for field in dataclasses.fields(cls))


def _nested_entity(annotation: Any) -> type | None:
    """The entity class inside `X`, `tuple[X, ...]`, `X | None` or `tuple[X, ...] | None`."""
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return annotation
    for argument in typing.get_args(annotation):
        found = _nested_entity(argument)
        if found is not None:
            return found
    return None


def _convert(field: dataclasses.Field[Any], nested: type | None, value: Any) -> Any:
    kind = field.metadata.get("kafka_type")
    if nested is not None:
        if isinstance(value, list | tuple):
            return tuple(build(nested, item) for item in value)
        return None if value is None else build(nested, value)
    if value is None:
        return None
    if kind == "error_code":
        return ErrorCode(int(value))
    if kind in _TIMEDELTAS and isinstance(value, int):
        return datetime.timedelta(milliseconds=value)
    if kind == "datetime_i64" and isinstance(value, int):
        if value < 0 and "None" in str(field.type):
            return None  # a nullable time: -1 means none
        return datetime.datetime.fromtimestamp(value / 1000, tz=datetime.UTC)
    if kind == "uuid" and not isinstance(value, uuid.UUID):
        return uuid.UUID(int=int(value)) if isinstance(value, int) else uuid.UUID(str(value))
    if isinstance(value, list):
        return tuple(value)
    return value


def build(cls: type, data: Mapping[str, Any]) -> Any:
    """The `cls` entity holding `data` (see the module docstring)."""
    values = {}
    for field, nested in _fields(cls):
        if field.name in data:
            values[field.name] = _convert(field, nested, data[field.name])
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            values[field.name] = _required_default(field, nested)
    return cls(**values)


def _required_default(field: dataclasses.Field[Any], nested: type | None) -> Any:
    """A neutral value for a field without a schema default that the dict left out."""
    kind = field.metadata.get("kafka_type")
    if nested is not None or typing.get_origin(field.type) is tuple:
        return ()
    if kind == "error_code":
        return ErrorCode.none
    if kind in _TIMEDELTAS:
        return datetime.timedelta(0)
    if kind == "string":
        return ""
    if kind == "bool":
        return False
    if kind == "uuid":
        return uuid.UUID(int=0)
    return 0


def missing_fields(cls: type, data: Mapping[str, Any]) -> list[str]:
    """Required fields of `cls` that `data` leaves out (for tests: nothing forgotten)."""
    return [
        f.name
        for f, _ in _fields(cls)
        if f.name not in data
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
