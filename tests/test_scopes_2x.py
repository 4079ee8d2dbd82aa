"""The sentry-sdk 2.x scope API, and code that mixes it with the early API, on one model."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import sentry_sdk
from sentry_sdk import Hub, Scope
from sentry_sdk.client import NonRecordingClient
from sentry_sdk.scope import use_isolation_scope, use_scope
from sentry_sdk.testing import CapturingTransport, IngestServer


def init(**options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    options.setdefault("default_integrations", False)
    sentry_sdk.init(transport=transport, **options)
    return transport


def tags(transport: CapturingTransport) -> list[dict[str, Any] | None]:
    return [event.get("tags") for event in transport.events]


def test_before_init_get_client_is_a_client_that_records_nothing() -> None:
    """``get_client()`` answers before ``init``; ``is_initialized()`` tells the two apart."""
    client = sentry_sdk.get_client()
    assert isinstance(client, NonRecordingClient)
    assert (False, None, None) == (client.is_active(), client.dsn, client.get_integration("logging"))
    assert not sentry_sdk.is_initialized()
    guard = sentry_sdk.init(dsn="https://key@example.invalid/1", default_integrations=False)
    assert guard.client is sentry_sdk.get_client()
    assert sentry_sdk.is_initialized()
    assert guard.client is sentry_sdk.get_global_scope().client


def test_set_tag_inside_push_scope_or_new_scope_lands_on_events_of_the_block() -> None:
    """Mixed code: the 2.x ``set_tag`` inside either block reaches the events captured there."""
    transport = init()
    with sentry_sdk.push_scope():
        sentry_sdk.set_tag("block", "push_scope")
        sentry_sdk.capture_message("in push_scope")
    sentry_sdk.capture_message("after push_scope")
    with sentry_sdk.new_scope():
        sentry_sdk.get_current_scope().set_tag("current", "yes")
        sentry_sdk.set_tag("block", "new_scope")
        sentry_sdk.capture_message("in new_scope")
    assert [
        {"block": "push_scope"},
        None,
        {"block": "new_scope", "current": "yes"},
    ] == tags(transport)


def test_what_new_scope_forks_is_the_current_scope_only() -> None:
    """As in 2.x: the current scope is restored after ``new_scope()``; the isolation scope is shared."""
    transport = init()
    with sentry_sdk.new_scope() as scope:
        assert scope is sentry_sdk.get_current_scope()
        scope.set_tag("current_only", "yes")
        sentry_sdk.get_isolation_scope().set_tag("isolation", "yes")
    sentry_sdk.capture_message("after")
    assert [{"isolation": "yes"}] == tags(transport)


def test_isolation_scope_forks_both_scopes() -> None:
    """``isolation_scope()`` (what web frameworks use per request) leaves nothing behind."""
    transport = init()
    sentry_sdk.set_tag("outer", "kept")
    with sentry_sdk.isolation_scope() as scope:
        assert scope is sentry_sdk.get_isolation_scope()
        sentry_sdk.set_tag("request", "1")
        sentry_sdk.get_current_scope().set_tag("current", "1")
        sentry_sdk.add_breadcrumb(message="in request")
        sentry_sdk.capture_message("in")
    sentry_sdk.capture_message("out")
    inside, outside = transport.events
    assert {"outer": "kept", "request": "1", "current": "1"} == inside["tags"]
    assert ["in request"] == [c["message"] for c in inside["breadcrumbs"]["values"]]
    assert {"outer": "kept"} == outside["tags"]
    assert "breadcrumbs" not in outside


def test_a_top_level_tag_reaches_later_events_of_the_same_thread_and_no_other() -> None:
    """Each thread starts from the main thread's scopes; what it sets stays in that thread."""
    transport = init()
    sentry_sdk.set_tag("main", "yes")
    barrier = threading.Barrier(5)

    def work(i: int) -> None:
        sentry_sdk.set_tag("worker", str(i))
        barrier.wait()
        sentry_sdk.capture_message(f"from {i}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sentry_sdk.capture_message("main again")
    by_message = {event["message"]: event.get("tags") for event in transport.events}
    for i in range(5):
        assert {"main": "yes", "worker": str(i)} == by_message[f"from {i}"]
    assert {"main": "yes"} == by_message["main again"]


def test_a_top_level_tag_set_in_a_task_stays_in_that_task() -> None:
    """Concurrent tasks that tag without pushing a scope never see each other's tags."""
    transport = init()

    async def task(i: int) -> None:
        sentry_sdk.set_tag("task", str(i))
        await asyncio.sleep(0)
        sentry_sdk.capture_message(f"task {i}")

    async def main() -> None:
        await asyncio.gather(*(task(i) for i in range(50)))

    asyncio.run(main())
    assert {f"task {i}": {"task": str(i)} for i in range(50)} == {
        e["message"]: e.get("tags") for e in transport.events
    }


def test_last_event_id_belongs_to_the_task_that_captured() -> None:
    """``last_event_id()`` in a task is that task's last event, not a sibling's."""
    init()
    seen: dict[int, tuple[str | None, str | None]] = {}

    async def task(i: int) -> None:
        event_id = sentry_sdk.capture_message(f"task {i}")
        await asyncio.sleep(0.01 * (5 - i))
        seen[i] = (event_id, sentry_sdk.last_event_id())

    async def main() -> None:
        await asyncio.gather(*(task(i) for i in range(5)))

    asyncio.run(main())
    for captured, last in seen.values():
        assert captured is not None
        assert captured == last


def test_capture_keyword_arguments_apply_to_that_event_only() -> None:
    """``capture_*(tags=, user=, level=, extras=, contexts=, fingerprint=)`` as in 2.x."""
    transport = init()
    sentry_sdk.set_tag("scope", "tag")
    sentry_sdk.capture_message(
        "with kwargs",
        tags={"kw": "tag"},
        user={"id": "7"},
        level="warning",
        extras={"e": 1},
        contexts={"order": {"id": 5}},
        fingerprint=["custom"],
    )
    try:
        raise KeyError("k")
    except KeyError:
        sentry_sdk.capture_exception(tags={"kw": "exc"})
    sentry_sdk.capture_event({"message": "plain"})
    with_kwargs, exc, plain = transport.events
    assert {"scope": "tag", "kw": "tag"} == with_kwargs["tags"]
    assert ({"id": "7"}, "warning", {"e": 1}, ["custom"]) == (
        with_kwargs["user"],
        with_kwargs["level"],
        with_kwargs["extra"],
        with_kwargs["fingerprint"],
    )
    assert {"id": 5} == with_kwargs["contexts"]["order"]
    assert {"scope": "tag", "kw": "exc"} == exc["tags"]
    assert {"scope": "tag"} == plain["tags"]


def test_capture_with_a_scope_argument_adds_that_scopes_data() -> None:
    """``capture_message(..., scope=s)`` merges ``s`` on top of the scopes in effect."""
    transport = init()
    sentry_sdk.set_tag("ambient", "yes")
    extra_scope = Scope()
    extra_scope.set_tag("given", "yes")
    extra_scope.set_level("fatal")
    sentry_sdk.capture_message("x", scope=extra_scope)
    (event,) = transport.events
    assert ({"ambient": "yes", "given": "yes"}, "fatal") == (event["tags"], event["level"])


def test_use_scope_and_use_isolation_scope_make_a_given_scope_active() -> None:
    """The given scope object itself is used for the block, then the previous ones return."""
    transport = init()
    mine = Scope()
    mine.set_tag("mine", "current")
    with use_scope(mine):
        assert mine is sentry_sdk.get_current_scope()
        sentry_sdk.capture_message("in use_scope")
    isolation = Scope()
    isolation.set_tag("mine", "isolation")
    with use_isolation_scope(isolation):
        sentry_sdk.set_tag("added", "inside")
        sentry_sdk.capture_message("in use_isolation_scope")
    sentry_sdk.capture_message("after")
    assert [{"mine": "current"}, {"mine": "isolation", "added": "inside"}, None] == tags(transport)
    assert {"mine": "isolation", "added": "inside"} == isolation._tags


def test_a_client_set_on_a_scope_receives_the_events_of_that_scope() -> None:
    """``scope.set_client(other)`` inside ``new_scope()`` sends that block's events to ``other``."""
    main_transport = init()
    other_transport = CapturingTransport()
    other = sentry_sdk.Client(transport=other_transport, default_integrations=False)
    with sentry_sdk.new_scope() as scope:
        scope.set_client(other)
        assert other is sentry_sdk.get_client()
        sentry_sdk.capture_message("to other")
    sentry_sdk.capture_message("to main")
    assert (["to other"], ["to main"]) == (
        [e["message"] for e in other_transport.events],
        [e["message"] for e in main_transport.events],
    )


def test_scope_capture_methods_and_fork() -> None:
    """``scope.capture_exception()`` uses that scope as the current one; a fork is independent."""
    transport = init()
    base = Scope()
    base.set_tag("base", "1")
    fork = base.fork()
    fork.set_tag("fork", "1")
    try:
        raise ValueError("on a scope")
    except ValueError:
        event_id = fork.capture_exception()
    base.capture_message("from base")
    assert event_id == transport.events[0]["event_id"]
    assert [{"base": "1", "fork": "1"}, {"base": "1"}] == tags(transport)


def test_update_from_scope_and_from_kwargs() -> None:
    """Copy another scope's data in (its values win), or set several fields at once."""
    target = Scope()
    target.set_tag("a", "target")
    target.set_tag("b", "target")
    source = Scope()
    source.set_tag("b", "source")
    source.set_user({"id": 1})
    target.update_from_scope(source)
    target.update_from_kwargs(level="error", extras={"x": 1}, fingerprint=["f"], tags={"c": "kw"})
    event = target.apply_to_event({}, {})
    assert event is not None
    assert {"a": "target", "b": "source", "c": "kw"} == event["tags"]
    assert ({"id": 1}, "error", {"x": 1}, ["f"]) == (
        event["user"],
        event["level"],
        event["extra"],
        event["fingerprint"],
    )


def test_the_global_scope_applies_to_every_thread() -> None:
    """Data on ``get_global_scope()`` reaches events from any thread."""
    transport = init()
    sentry_sdk.get_global_scope().set_tag("service", "api")
    thread = threading.Thread(target=lambda: sentry_sdk.capture_message("from a thread"))
    thread.start()
    thread.join()
    sentry_sdk.capture_message("from main")
    assert [{"service": "api"}] * 2 == tags(transport)


def test_breadcrumbs_of_all_scopes_arrive_in_time_order() -> None:
    """Breadcrumbs on the global, isolation and current scopes are merged by timestamp."""
    transport = init()
    sentry_sdk.add_breadcrumb(message="isolation 1", timestamp=1.0)
    sentry_sdk.get_global_scope().add_breadcrumb_raw({"message": "global 2", "timestamp": 2.0}, 10)
    sentry_sdk.add_breadcrumb(message="isolation 3", timestamp=3.0)
    sentry_sdk.capture_message("x")
    crumbs = transport.events[0]["breadcrumbs"]["values"]
    assert ["isolation 1", "global 2", "isolation 3"] == [c["message"] for c in crumbs]


def test_attachments_travel_in_the_envelope(ingest: IngestServer, tmp_path: Any) -> None:
    """``add_attachment`` (bytes or a path) sends attachment items with the next events."""
    sentry_sdk.init(dsn=ingest.dsn, default_integrations=False)
    path = tmp_path / "config.txt"
    path.write_text("debug = true\n")
    sentry_sdk.add_attachment(bytes=b"hello", filename="hello.txt", content_type="text/plain")
    sentry_sdk.add_attachment(path=str(path))
    with sentry_sdk.isolation_scope():
        sentry_sdk.add_attachment(bytes=b"only here", filename="inner.txt")
        sentry_sdk.capture_message("with three")
    sentry_sdk.capture_message("with two")
    sentry_sdk.flush(timeout=5)
    (first, second) = ingest.envelopes()
    names = [
        [
            (i.headers.get("filename"), i.payload)
            for i in envelope.items
            if i.headers.get("type") == "attachment"
        ]
        for envelope in (first, second)
    ]
    assert [
        [("hello.txt", b"hello"), ("config.txt", b"debug = true\n"), ("inner.txt", b"only here")],
        [("hello.txt", b"hello"), ("config.txt", b"debug = true\n")],
    ] == names


def test_an_attachment_needs_bytes_or_a_path() -> None:
    """A call that cannot make an attachment fails at once, with a message saying why."""
    with pytest.raises(TypeError, match="bytes or a path"):
        sentry_sdk.get_isolation_scope().add_attachment(filename="x.txt")


def test_hub_clone_and_bind_client_still_work_with_the_global_client() -> None:
    """Early API on the same model: ``Hub(client)`` uses its own client; the main hub binds globally."""
    transport = init()
    own = CapturingTransport()
    with Hub(sentry_sdk.Client(transport=own, default_integrations=False)) as hub:
        hub.capture_message("own hub")
    sentry_sdk.capture_message("global")
    assert (["own hub"], ["global"]) == (
        [e["message"] for e in own.events],
        [e["message"] for e in transport.events],
    )
    Hub.main.bind_client(None)
    assert None is sentry_sdk.Hub.current.client
    assert None is sentry_sdk.capture_message("nowhere")


def test_set_transaction_name_names_the_events_of_the_current_scope() -> None:
    """``set_transaction_name`` gives later events a ``transaction`` (the culprit shown in Sentry)."""
    transport = init()
    with sentry_sdk.new_scope():
        sentry_sdk.set_transaction_name("GET /orders/{id}")
        sentry_sdk.capture_message("in the view")
    sentry_sdk.capture_message("outside")
    assert ["GET /orders/{id}", None] == [e.get("transaction") for e in transport.events]


def test_flush_async_waits_without_blocking_the_loop(ingest: IngestServer) -> None:
    """``await flush_async()`` delivers pending events while other tasks keep running."""
    ingest.delay = 0.2
    sentry_sdk.init(dsn=ingest.dsn, default_integrations=False)
    ticks: list[int] = []

    async def ticker() -> None:
        for i in range(5):
            ticks.append(i)
            await asyncio.sleep(0.02)

    async def main() -> None:
        sentry_sdk.capture_message("pending")
        await asyncio.gather(sentry_sdk.flush_async(timeout=5), ticker())

    asyncio.run(main())
    assert ["pending"] == [e["message"] for e in ingest.events()]
    assert [0, 1, 2, 3, 4] == ticks
