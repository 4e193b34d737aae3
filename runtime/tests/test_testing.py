"""The test harness generated tests use: the path production takes, and failures that name
the model file and test case with a diff."""

from __future__ import annotations

import pytest
from toy import model
from toy.registry import REGISTRY

from draftsman_runtime.testing import Flow, FlowCase, matches

ADD = Flow("Counter", "Add", "toy/Counter/Add.yaml")
COUNT = Flow("Tally", "Count", "toy/Tally/Count.yaml")


def test_a_command_case_runs_through_submit() -> None:
    case = FlowCase(REGISTRY, ADD, "AddToCounter", 12, "AddsUp")
    trigger_input = {"name": "a", "amount": 2, "ref": "r"}
    case.given_state(trigger_input, {"name": "a", "count": 3, "limit": 10})
    result = case.when(trigger_input)
    case.then_events(result, [("Added", {"amount": 2})])
    case.then_state("a", {"count": 5})
    case.then_replay_matches(result)


def test_an_event_case_runs_through_a_delivery() -> None:
    case = FlowCase(REGISTRY, COUNT, "Added", 8, "Counts")
    trigger_input = {"name": "a", "amount": 4}
    case.given_state(trigger_input, {"name": "a", "total": 1})
    result = case.when(trigger_input)
    case.then_events(result, [("Counted", {"amount": 4})])
    case.then_state("a", {"total": 5})
    (delivery,) = case.service.deliveries(("done",))
    assert delivery.flow == "Tally.Count"  # it went through the dispatcher


def test_a_missing_target_of_an_event_case() -> None:
    case = FlowCase(REGISTRY, COUNT, "Added", 8, "Missing")
    case.then_error(case.when({"name": "zz", "amount": 4}), "not found")


def test_failures_name_the_model_file_and_case() -> None:
    case = FlowCase(REGISTRY, ADD, "AddToCounter", 12, "AddsUp")
    trigger_input = {"name": "a", "amount": 2}
    case.given_state(trigger_input, {"name": "a", "count": 3, "limit": 10})
    result = case.when(trigger_input)
    with pytest.raises(AssertionError) as caught:
        case.then_state("a", {"count": 99})
    text = str(caught.value)
    assert text.startswith("toy/Counter/Add.yaml:12 (test case AddsUp)\nstate of Counter 'a'")
    assert '-  "count": 99' in text and '+  "count": 5' in text
    with pytest.raises(AssertionError, match="but the flow succeeded"):
        case.then_error(result, "nope")


def test_a_technical_error_shows_its_traceback() -> None:
    model.BROKEN.add(6)
    case = FlowCase(REGISTRY, COUNT, "Added", 8, "Broken")
    case.given_state({"name": "a", "amount": 6}, {"name": "a"})
    with pytest.raises(AssertionError, match=r"(?s)rejected \(technical-error\).*RuntimeError"):
        case.then_events(case.when({"name": "a", "amount": 6}), [("Counted", {})])


def test_an_empty_expected_error_takes_any_functional_error_but_no_technical_one() -> None:
    case = FlowCase(REGISTRY, COUNT, "Added", 8, "Missing")
    case.then_error(case.when({"name": "zz", "amount": 4}), "")  # not found: functional
    model.BROKEN.add(7)
    case = FlowCase(REGISTRY, COUNT, "Added", 8, "Broken")
    case.given_state({"name": "a", "amount": 7}, {"name": "a"})
    with pytest.raises(AssertionError, match="expected a functional error, got a technical one"):
        case.then_error(case.when({"name": "a", "amount": 7}), "")


def test_a_flow_that_the_source_does_not_trigger() -> None:
    with pytest.raises(AssertionError, match="Counter.Add is not triggered by Reset"):
        FlowCase(REGISTRY, ADD, "Reset", 1, "Wrong")


def test_matches() -> None:
    assert matches({"a": [1, 2.0]}, {"a": [1.0, 2]})
    assert not matches({"a": True}, {"a": 1})
    assert matches(0.1 + 0.2, 0.3)
    assert not matches({"a": 1}, {"a": 1, "b": 2})


def test_a_state_only_case_still_needs_the_flow_to_accept() -> None:
    """A case that expects only a state must fail when the flow is rejected, even when the
    given state already looks like the expected one."""
    case = FlowCase(REGISTRY, ADD, "AddToCounter", 12, "StateOnly")
    trigger_input = {"name": "a", "amount": 0}  # rejected: the amount must be positive
    case.given_state(trigger_input, {"name": "a", "count": 3, "limit": 10})
    result = case.when(trigger_input)
    case.then_state("a", {"count": 3})  # unchanged: this alone would pass
    with pytest.raises(AssertionError, match=r"rejected \(functional\)"):
        case.then_accepted(result)
