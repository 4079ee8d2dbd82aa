"""Fields Sentry would throw away for their shape arrive reshaped instead (every case passes Relay)."""

from __future__ import annotations

from typing import Any

from payload_check import check_event

from sentry_sdk._serializer import serialize_event


def _sent(**fields: Any) -> dict[str, Any]:
    out = serialize_event({"event_id": "a" * 32, "message": "m", **fields})
    check_event(out)
    return out


def test_tags_become_short_one_line_strings_under_valid_keys() -> None:
    """Keys lose characters Sentry refuses, values their newlines; containers (and numbers past
    2**53) become text; empty tags go; over-long values are cut to 200 characters, noted in _meta."""
    out = _sent(tags={"user/id": 7, "ok": "a\nb", "list": [1, 2], "": "x", "empty": "", "long": "v" * 300})
    assert {"user_id": 7, "ok": "a b", "list": "[1, 2]", "long": "v" * 197 + "..."} == out["tags"]
    assert 300 == out["_meta"]["tags"]["long"][""]["len"]


def test_a_context_that_is_not_an_object_is_wrapped() -> None:
    """set_context("step", 3) arrives as {"value": 3}; a None context is left out."""
    assert {"step": {"value": 3}, "order": {"id": 1}} == _sent(
        contexts={"step": 3, "order": {"id": 1}, "gone": None}
    )["contexts"]


def test_user_fields_take_the_types_sentry_expects() -> None:
    """A string or int user is its id; typed fields become text; a bad IP address moves to data."""
    assert ({"id": "alice"}, {"id": 7}) == (_sent(user="alice")["user"], _sent(user={"id": 7})["user"])
    assert {"id": str(2**60)} == _sent(user={"id": 2**60})["user"]
    user = _sent(user={"id": [1], "email": 5, "ip_address": "not an ip", "username": "bob"})["user"]
    assert {"id": "[1]", "email": "5", "username": "bob", "data": {"ip_address": "not an ip"}} == user
    assert "user" not in _sent(user=[1, 2])


def test_levels_are_spelled_as_sentry_spells_them() -> None:
    """WARN becomes warning; a level Sentry does not know is left out, in events and breadcrumbs."""
    assert "warning" == _sent(level="WARN")["level"]
    assert "level" not in _sent(level="loud")
    crumbs = _sent(breadcrumbs={"values": [{"level": "Error"}, {"level": 5}]})["breadcrumbs"]["values"]
    assert [{"level": "error"}, {}] == crumbs


def test_breadcrumb_fields_sentry_does_not_know_move_into_data() -> None:
    """Unknown keys join data; message and category become text; data that is not an object is wrapped."""
    crumb = {"message": 5, "category": ["a"], "url": "/x", "data": "raw", "timestamp": "not a time"}
    (sent,) = _sent(breadcrumbs={"values": [crumb, "not a crumb"]})["breadcrumbs"]["values"]
    assert {"message": "5", "category": "['a']", "data": {"value": "raw", "url": "/x"}} == sent


def test_a_fingerprint_is_a_list_of_strings() -> None:
    """One string is a one-part fingerprint; numbers and other parts become text, None parts go."""
    assert ["{{ default }}"] == _sent(fingerprint="{{ default }}")["fingerprint"]
    assert ["a", "1", "[2]"] == _sent(fingerprint=["a", 1, None, [2]])["fingerprint"]


def test_top_level_fields_sentry_does_not_know_become_extras() -> None:
    """A field Sentry would drop (say, put there by before_send) arrives under extra."""
    out = _sent(order_id=7, extra={"a": 1})
    assert ({"a": 1, "order_id": 7}, False) == (out["extra"], "order_id" in out)
