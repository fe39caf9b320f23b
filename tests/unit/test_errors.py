"""The error vocabulary: one tree of exceptions, one table of Kafka's codes."""

from __future__ import annotations

import ast
from pathlib import Path

import luong
from luong import errors
from luong.errors import ErrorCode, LuongError

SOURCE = Path(luong.__file__).parent


def _error_classes() -> list[type[LuongError]]:
    return [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, LuongError)
    ]


def test_every_error_carries_a_code_of_the_table() -> None:
    for cls in _error_classes():
        assert isinstance(cls.error_code, ErrorCode), cls


def test_codes_are_kafkas() -> None:
    assert ErrorCode.UNKNOWN_MEMBER_ID == 25
    assert ErrorCode.FENCED_INSTANCE_ID == 82
    assert ErrorCode.PRODUCER_FENCED == 90
    assert ErrorCode.INVALID_SESSION_TIMEOUT == 26


def test_retriable_follows_kafkas_exception_classes() -> None:
    assert ErrorCode.NOT_COORDINATOR.retriable
    assert ErrorCode.KAFKA_STORAGE_ERROR.retriable
    assert ErrorCode.CONCURRENT_TRANSACTIONS.retriable
    assert not ErrorCode.INVALID_RECORD.retriable
    assert not ErrorCode.PRODUCER_FENCED.retriable
    assert not ErrorCode.NONE.retriable


def test_no_module_defines_its_own_error_numbers() -> None:
    """A module-level `UNKNOWN_MEMBER_ID = 25` (any name of the table bound to a number)
    outside errors.py would be a second table."""
    names = set(ErrorCode.__members__)
    found = []
    for path in SOURCE.rglob("*.py"):
        if path.name == "errors.py" and path.parent == SOURCE:
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                bound = {t.id for t in node.targets if isinstance(t, ast.Name)}
                found += [f"{path.relative_to(SOURCE)}: {n}" for n in bound & names]
    assert found == []
