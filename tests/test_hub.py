"""The hub and its stack of scopes: nesting, restoring, cloning and activation."""

from __future__ import annotations

import pytest

import sentry_sdk
from sentry_sdk import Hub, Scope
from sentry_sdk.testing import capture_events


def test_nested_scopes_inherit_and_restore_exactly() -> None:
    """A pushed scope starts as a copy of the outer one; leaving it restores the outer data."""
    with capture_events() as events:
        with sentry_sdk.configure_scope() as scope:
            scope.set_tag("level0", "a")
            scope.set_extra("x", 1)
        with sentry_sdk.push_scope() as outer:
            outer.set_tag("level1", "b")
            outer.remove_tag("level0")
            with sentry_sdk.push_scope() as inner:
                inner.set_tag("level2", "c")
                inner.user = {"id": 1}
                sentry_sdk.capture_message("inner")
            sentry_sdk.capture_message("outer")
        sentry_sdk.capture_message("base")

    assert [
        ({"level1": "b", "level2": "c"}, {"id": 1}),
        ({"level1": "b"}, None),
        ({"level0": "a"}, None),
    ] == [(e["tags"], e.get("user")) for e in events]
    assert [{"x": 1}] * 3 == [e["extra"] for e in events]


def test_breadcrumbs_added_inside_a_pushed_scope_do_not_leak_out() -> None:
    """Breadcrumbs recorded inside ``push_scope`` are gone after the block; outer ones are kept."""
    with capture_events() as events:
        sentry_sdk.add_breadcrumb(message="outer")
        with sentry_sdk.push_scope():
            sentry_sdk.add_breadcrumb(message="inner")
            sentry_sdk.capture_message("inside")
        sentry_sdk.capture_message("outside")
    assert [["outer", "inner"], ["outer"]] == [
        [c["message"] for c in e["breadcrumbs"]["values"]] for e in events
    ]


def test_push_scope_takes_a_callback_and_works_as_a_decorator() -> None:
    """``@push_scope`` runs the function on a fresh scope and pops it afterwards."""
    with capture_events() as events:

        @sentry_sdk.push_scope
        def _(scope: Scope) -> None:
            scope.set_tag("in", "callback")
            sentry_sdk.capture_message("inside")

        sentry_sdk.capture_message("after")
    assert [{"in": "callback"}, None] == [e.get("tags") for e in events]


def test_pop_scope_unsafe_pops_what_push_scope_pushed() -> None:
    """``hub.push_scope()`` without ``with`` can be undone with ``pop_scope_unsafe()``."""
    hub = Hub.current
    base = hub.scope
    hub.push_scope()
    assert base is not hub.scope
    hub.pop_scope_unsafe()
    assert base is hub.scope
    assert None is hub.pop_scope_unsafe()


def test_configure_scope_without_a_client_yields_a_throwaway_scope() -> None:
    """Before ``init``, data set through ``configure_scope`` is not kept."""
    with sentry_sdk.configure_scope() as scope:
        scope.set_tag("lost", "yes")
    with capture_events() as events:
        sentry_sdk.capture_message("later")
    assert "tags" not in events[0]


def test_a_cloned_hub_copies_client_and_scope() -> None:
    """``Hub(hub)`` has the same client and a copy of the scope that does not write back."""
    with capture_events() as events:
        with sentry_sdk.configure_scope() as scope:
            scope.set_tag("origin", "main")
        clone = Hub(Hub.current)
        assert Hub.current.client is clone.client
        with clone:
            assert Hub.current is clone
            with sentry_sdk.configure_scope() as scope:
                scope.set_tag("clone", "yes")
            sentry_sdk.capture_message("from clone")
        assert Hub.current is not clone
        clone.run(lambda: sentry_sdk.capture_message("run"))
        sentry_sdk.capture_message("from main")
    assert [
        {"origin": "main", "clone": "yes"},
        {"origin": "main", "clone": "yes"},
        {"origin": "main"},
    ] == [e["tags"] for e in events]


def test_a_hub_with_its_own_client_sends_there() -> None:
    """``Hub(client)`` captures through that client, not the global one."""
    from sentry_sdk.testing import CapturingTransport

    transport = CapturingTransport()
    hub = Hub(sentry_sdk.Client(transport=transport, default_integrations=False))
    with capture_events() as events:
        hub.capture_message("to the other hub")
    assert [] == events
    assert ["to the other hub"] == [e["message"] for e in transport.events]


def test_last_event_id_is_the_id_of_the_last_sent_event() -> None:
    """``last_event_id()`` returns what the last capture returned."""
    with capture_events():
        event_id = sentry_sdk.capture_message("one")
        assert event_id is not None and len(event_id) == 32
        assert event_id == sentry_sdk.last_event_id()


def test_capture_without_a_client_returns_none() -> None:
    """Before ``init`` nothing is captured and nothing raises."""
    assert None is sentry_sdk.capture_message("nobody listens")
    assert None is sentry_sdk.capture_exception(ValueError())
    assert None is sentry_sdk.capture_event({"message": "x"})
    sentry_sdk.add_breadcrumb(message="dropped")
    sentry_sdk.flush()


def test_a_scope_left_in_another_context_is_popped_by_identity() -> None:
    """A ``push_scope`` manager exited from a copied context still pops its own layer."""
    import contextvars

    hub = Hub.current
    base = hub.scope
    manager = hub.push_scope()
    assert manager is not None
    contextvars.copy_context().run(manager.__exit__, None, None, None)
    # In the copied context the layer was popped; here it is still on top and can be popped.
    assert base is not hub.scope
    manager.__exit__(None, None, None)
    assert base is hub.scope


def test_init_inside_a_pushed_scope_keeps_the_stack_intact(caplog: pytest.LogCaptureFixture) -> None:
    """``init`` inside ``with push_scope():`` binds the client there; leaving pops that scope cleanly."""
    hub = Hub.current
    base = hub.scope
    with sentry_sdk.push_scope() as scope:
        scope.set_tag("inner", "yes")
        with capture_events() as events:
            sentry_sdk.capture_message("inside")
    assert base is hub.scope
    assert [{"inner": "yes"}] == [e.get("tags") for e in events]
    assert "out of order" not in caplog.text
