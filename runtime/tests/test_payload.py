"""Client input never reaches Python's internals: each bad payload is one clear PayloadError
and nothing is stored."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from draftsman_runtime import PayloadError, Service
from draftsman_runtime.checks import value_problem
from draftsman_runtime.payload import decode_json


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "payload is not valid JSON: Expecting property name"),
        ('{"amount": 1' + "0" * 400 + "}", "payload has a number of 401 digits"),
        ('{"amount": ' + "9" * 5000 + "}", "payload has a number of 5000 digits"),
        ('{"amount": 1e' + "9" * 50 + "}", "payload has a number of 52 characters"),
        ('{"amount": NaN}', "NaN is not a number in JSON"),
        ('{"amount": -Infinity}', "-Infinity is not a number in JSON"),
        ("[" * 200_000 + "]" * 200_000, "nested more than 32 levels deep"),
        ('{"a":' * 40 + "1" + "}" * 40, "nested more than 32 levels deep"),
    ],
)
def test_bad_json_is_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(PayloadError, match=message.replace("(", r"\(")):
        decode_json(text)


def test_size_limit() -> None:
    text = json.dumps({"name": "x" * 2000})
    assert decode_json(text, max_bytes=3000)["name"] == "x" * 2000
    with pytest.raises(PayloadError, match="payload is 2,012 bytes; the limit is 1,000"):
        decode_json(text, max_bytes=1000)


def test_bytes_that_are_not_utf8() -> None:
    with pytest.raises(PayloadError, match="payload is not UTF-8 .byte 10."):
        decode_json(b'{"name": "\xff\xfe"}')


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"name": "\ud800"}, r"CreateCounter.name: contains an unpaired surrogate \(U\+D800\)"),
        ({"name": "a", "limit": 10**400}, r"CreateCounter.limit: integer out of range"),
        ({"name": "a", "limit": 2**63}, r"CreateCounter.limit: integer out of range"),
        ({"name": "a", "limit": 1.5}, r"CreateCounter.limit: expected an integer, got a number"),
        ({"name": "a", "limit": True}, r"CreateCounter.limit: expected an integer, got a boolean"),
        ({"name": ["a"]}, r"CreateCounter.name: expected a string, got a list"),
        ({"name": "a", "\ud800": 1}, r"CreateCounter: unknown field\(s\): \?"),
        ([1, 2], r"CreateCounter: expected a JSON object, got a list"),
        ({}, r"CreateCounter.name: required field is missing"),
    ],
)
def test_bad_values_name_the_field(service: Service, payload: object, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        service.submit("CreateCounter", payload)
    assert service.show("Counter", "a") is None


def test_a_json_payload_through_the_service(service: Service) -> None:
    assert service.submit_json("CreateCounter", '{"name": "a", "limit": 3}').ok
    with pytest.raises(PayloadError, match="is not valid JSON"):
        service.submit_json("CreateCounter", '{"name": "b"')
    with pytest.raises(PayloadError, match="unpaired surrogate"):
        service.submit_json("CreateCounter", '{"name": "\\ud800"}')
    assert service.show("Counter", "b") is None


def test_value_checks_of_emitted_events() -> None:
    assert value_problem(1, "Float") is None
    assert value_problem(True, "Float") == "expected a number, got a boolean"
    assert value_problem(float("nan"), "Float") == "expected a finite number"
    assert value_problem(["a", 1], "StringList") == "item 1: expected a string, got a number (1)"
    items = (("sku", "String"), ("quantity", "Int"))
    assert value_problem([{"sku": "a", "quantity": 1}], items) is None
    assert value_problem([{"sku": "a", "quantity": "1"}], items) == (
        "item 0: field 'quantity': expected an integer, got a string ('1')"
    )
    assert value_problem("x", items) == "expected a list of objects, got a string ('x')"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_json_or_one_payload_error(text: str) -> None:
    try:
        decode_json(text)
    except PayloadError:
        pass


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda children: st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4),
        max_leaves=30,
    )
)
def test_any_value_as_a_command_payload_is_accepted_or_one_payload_error(value: object) -> None:
    from conftest import make_service

    service = make_service()
    for command in ("CreateCounter", "AddToCounter", "Reset"):
        for payload in (value, {"name": value}, {"name": "a", "limit": value, "amount": value}):
            try:
                service.submit(command, payload)
            except PayloadError:
                pass
    service.close()
