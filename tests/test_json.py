"""The JSON text of payloads: the parts every event repeats are encoded once, and never go stale."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sentry_sdk import _json


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_json, "_kept", {})
    monkeypatch.setattr(_json, "_changes", {})


def _event(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": "a" * 32,
        "message": "hello",
        "timestamp": 1796326202.5,
        "modules": {"urllib3": "2.2.1", "certifi": "2024.2.2"},
        "sdk": {"name": "sentry.python", "version": "2.68.0", "integrations": ["logging"]},
        "contexts": {
            "trace": {"trace_id": "b" * 32, "span_id": "c" * 16},
            "runtime": {"name": "CPython", "version": "3.11.7"},
            "os": {"name": "Linux"},
        },
    }
    event.update(changes)
    return event


def test_an_event_is_sent_as_exactly_its_data_every_time() -> None:
    for _ in range(3):
        event = _event()
        assert json.loads(_json.payload_text(event)) == event
    assert set(_json._kept) == {"modules", "sdk", "contexts.runtime", "contexts.os"}


def test_the_payload_given_is_not_changed() -> None:
    event = _event()
    before = json.dumps(event)
    _json.payload_text(event)
    _json.payload_text(event)
    assert json.dumps(event) == before


def test_a_part_that_changed_is_sent_as_it_is_now() -> None:
    _json.payload_text(_event())
    changed = _event(sdk={"name": "sentry.python", "version": "2.68.0", "integrations": ["logging", "flask"]})
    changed["contexts"]["runtime"]["version"] = "3.12.0"
    assert json.loads(_json.payload_text(changed)) == changed
    assert json.loads(_json.payload_text(_event())) == _event()


def test_a_part_changed_in_place_after_it_was_kept_is_sent_as_it_is_now() -> None:
    event = _event()
    _json.payload_text(event)
    event["modules"]["urllib3"] = "9.9.9"
    event["contexts"]["os"]["name"] = "Darwin"
    assert json.loads(_json.payload_text(event)) == event


def test_parts_holding_more_than_strings_are_sent_right_and_not_kept() -> None:
    # 1 == 1.0 == True in Python, but not in JSON: only all-string parts may be matched with ==.
    for value in (1, 1.0, True):
        event = _event(modules={"urllib3": value})
        assert json.loads(_json.payload_text(event)) == event
        assert _json.payload_text(event).count('"urllib3":' + json.dumps(value)) == 1
    assert "modules" not in _json._kept


def test_a_part_that_varies_from_event_to_event_stops_being_kept() -> None:
    for n in range(_json._MAX_CHANGES + 5):
        event = _event(sdk={"name": "sentry.python", "version": str(n)})
        assert json.loads(_json.payload_text(event)) == event
    assert _json._changes["sdk"] == _json._MAX_CHANGES


def test_text_that_looks_like_the_stand_in_is_sent_unchanged() -> None:
    event = _event(extra={"note": "\x01" + "0" * 16 + "modules"}, message="\x01modules")
    assert json.loads(_json.payload_text(event)) == event


def test_values_json_cannot_hold_fail_as_with_json_itself() -> None:
    with pytest.raises(ValueError):
        _json.payload_text(_event(extra={"x": float("nan")}))
    with pytest.raises(TypeError):
        _json.payload_text(_event(extra={"x": object()}))
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    with pytest.raises(RecursionError):
        _json.payload_text(_event(extra=cyclic))


def test_text_is_compact_and_keeps_non_ascii_as_it_is() -> None:
    assert _json.text({"a": [1, 2.5, None, True, "é"]}) == '{"a":[1,2.5,null,true,"é"]}'
