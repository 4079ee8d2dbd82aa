"""Scope data: what each setter puts on events, and which side wins when the event has its own."""

from __future__ import annotations

import sentry_sdk
from sentry_sdk import Scope
from sentry_sdk.testing import capture_events


def test_every_scope_setter_reaches_the_event() -> None:
    """level, fingerprint, transaction, user, tags, extras and contexts all arrive on the event."""
    with capture_events() as events:
        with sentry_sdk.configure_scope() as scope:
            scope.level = "warning"
            scope.fingerprint = ["{{ default }}", "checkout"]
            scope.transaction = "/cart"
            scope.set_user({"id": "u1"})
            scope.set_tag("region", "eu")
            scope.set_extra("cart_size", 3)
            scope.set_context("order", {"id": 17})
        sentry_sdk.capture_message("scoped")
    (event,) = events
    assert ("warning", ["{{ default }}", "checkout"], "/cart", {"id": "u1"}) == (
        event["level"],
        event["fingerprint"],
        event["transaction"],
        event["user"],
    )
    assert ({"region": "eu"}, {"cart_size": 3}, {"id": 17}) == (
        event["tags"],
        event["extra"],
        event["contexts"]["order"],
    )


def test_removing_and_clearing() -> None:
    """remove_tag/extra/context, set_user(None), clear_breadcrumbs and clear undo what was set."""
    with capture_events() as events:
        with sentry_sdk.configure_scope() as scope:
            scope.set_tag("a", "1")
            scope.set_extra("b", 2)
            scope.set_context("c", {"x": 1})
            scope.set_user({"id": 1})
            scope.remove_tag("a")
            scope.remove_extra("b")
            scope.remove_context("c")
            scope.set_user(None)
        sentry_sdk.add_breadcrumb(message="gone")
        with sentry_sdk.configure_scope() as scope:
            scope.clear_breadcrumbs()
        sentry_sdk.capture_message("clean")
        with sentry_sdk.configure_scope() as scope:
            scope.set_level("fatal")
            scope.set_tag("t", "v")
            scope.clear()
        sentry_sdk.capture_message("cleared")
    for event in events:
        assert {"tags", "extra", "user", "breadcrumbs"}.isdisjoint(event)
        assert "c" not in event["contexts"]
    assert ["info", "info"] == [e["level"] for e in events]


def test_the_events_own_values_win_over_the_scope() -> None:
    """Tags, extras and user given on the event itself take precedence over scope data."""
    with capture_events() as events:
        with sentry_sdk.configure_scope() as scope:
            scope.set_tag("who", "scope")
            scope.set_tag("only_scope", "yes")
            scope.set_user({"id": "scope"})
        sentry_sdk.capture_event({"message": "own", "tags": {"who": "event"}, "user": {"id": "event"}})
    (event,) = events
    assert {"who": "event", "only_scope": "yes"} == event["tags"]
    assert {"id": "event"} == event["user"]


def test_a_copied_scope_is_independent() -> None:
    """Changing a copy never changes the original, and the other way round."""
    original = Scope()
    original.set_tag("a", "1")
    original.add_breadcrumb_raw({"message": "one"}, 10)
    copy = original.copy()
    copy.set_tag("b", "2")
    copy.add_breadcrumb_raw({"message": "two"}, 10)
    original.set_tag("c", "3")
    assert [{"message": "one"}] == original.breadcrumbs
    assert [{"message": "one"}, {"message": "two"}] == copy.breadcrumbs
    assert {"a": "1", "c": "3"} == original._tags
    assert {"a": "1", "b": "2"} == copy._tags


def test_module_level_setters_write_to_the_current_scope() -> None:
    """set_tag, set_tags, set_extra, set_context, set_user and set_level work without configure_scope."""
    with capture_events() as events:
        with sentry_sdk.push_scope():
            sentry_sdk.set_tag("a", "1")
            sentry_sdk.set_tags({"b": "2"})
            sentry_sdk.set_extra("e", [1])
            sentry_sdk.set_context("ctx", {"k": "v"})
            sentry_sdk.set_user({"id": 9})
            sentry_sdk.set_level("warning")
            sentry_sdk.capture_message("inside")
        sentry_sdk.capture_message("outside")
    inside, outside = events
    assert ({"a": "1", "b": "2"}, {"e": [1]}, {"k": "v"}, {"id": 9}, "warning") == (
        inside["tags"],
        inside["extra"],
        inside["contexts"]["ctx"],
        inside["user"],
        inside["level"],
    )
    assert {"tags", "extra", "user"}.isdisjoint(outside)
    assert "info" == outside["level"]
