"""Subscribe-time filters: what each expression matches, and what is refused."""

from __future__ import annotations

import pytest

from luong.gateway.filters import FilterError, Matchable, compile_filters

ORDER = Matchable(
    b"user-17",
    b'{"type": "order", "qty": 3, "city": "Hanoi", "total": 12.5, "paid": true,'
    b' "shipping": {"country": "VN"}}',
    (("source", b"web"), ("trace", None)),
)
NOT_JSON = Matchable(None, b"plain text", ())


@pytest.mark.parametrize(
    ("expressions", "matches"),
    [
        ([], True),
        (["header.source"], True),
        (["header.trace"], True),  # a header without a value still exists
        (["header.missing"], False),
        (["header.source=web"], True),
        (["header.source=app"], False),
        (["header.source!=app"], True),
        (["header.source^=w"], True),
        (["key=user-17"], True),
        (["key^=user-"], True),
        (["key^=admin"], False),
        (["value.type=order"], True),
        (['value.type="order"'], True),  # a JSON literal or bare text: the same string
        (["value.qty=3"], True),
        (["value.qty>=3", "value.qty<4"], True),
        (["value.qty>3"], False),
        (["value.total>12"], True),
        (["value.paid=true"], True),
        (["value.paid>0"], False),  # booleans are not numbers here
        (["value.city^=Ha"], True),
        (["value.city>Ha"], True),  # text against text
        (["value.city>3"], False),  # text against a number never matches
        (["value.shipping.country=VN"], True),
        (["value.shipping.zip"], False),
        (["value.shipping"], True),
        (["value.type=order", "header.source=app"], False),  # every filter must match
    ],
)
def test_expressions_match_as_documented(expressions: list[str], matches: bool) -> None:
    assert compile_filters(expressions)(ORDER) is matches


def test_a_value_that_is_not_json_matches_no_value_filter() -> None:
    assert compile_filters(["value.type"])(NOT_JSON) is False
    assert compile_filters(["value.type!=x"])(NOT_JSON) is False
    assert compile_filters(["key"])(NOT_JSON) is False  # no key at all


def test_the_json_value_is_parsed_once() -> None:
    record = Matchable(None, b'{"a": 1}', ())
    compile_filters(["value.a=1", "value.a>0", "value.b"])(record)
    first = record.json_value()
    assert record.json_value() is first


@pytest.mark.parametrize("bad", ["", "value", "value.", "body.x=1", "header.", "value.a.=1", "x"])
def test_bad_expressions_are_refused_naming_them(bad: str) -> None:
    with pytest.raises(FilterError, match="bad filter"):
        compile_filters([bad])
