"""Threads and asyncio tasks never see each other's scopes (over real HTTP to a local server)."""

from __future__ import annotations

import asyncio
import threading

import sentry_sdk
from sentry_sdk.testing import IngestServer


def _tags_by_message(server: IngestServer, count: int) -> dict[str, dict[str, object]]:
    sentry_sdk.flush(timeout=10)
    events = server.wait_for_events(count, timeout=10)
    return {e["message"]: e.get("tags", {}) for e in events}


def test_fifty_threads_each_see_only_their_own_tag(ingest: IngestServer) -> None:
    """50 threads push a scope with their own tag at the same time; each event carries exactly it."""
    sentry_sdk.init(dsn=ingest.dsn, transport_queue_size=1000)
    barrier = threading.Barrier(50)

    def work(i: int) -> None:
        with sentry_sdk.push_scope() as scope:
            scope.set_tag("worker", f"thread-{i}")
            barrier.wait()  # every thread holds its scope before any of them captures
            sentry_sdk.capture_message(f"thread-{i}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    tags = _tags_by_message(ingest, 50)
    assert {f"thread-{i}": {"worker": f"thread-{i}"} for i in range(50)} == tags


def test_two_hundred_tasks_each_see_only_their_own_tag(ingest: IngestServer) -> None:
    """200 concurrent asyncio tasks push a scope with their own tag; each event carries exactly it."""
    sentry_sdk.init(dsn=ingest.dsn, transport_queue_size=1000)

    async def main() -> None:
        gate = asyncio.Event()
        ready = 0

        async def work(i: int) -> None:
            nonlocal ready
            with sentry_sdk.push_scope() as scope:
                scope.set_tag("worker", f"task-{i}")
                ready += 1
                if ready == 200:
                    gate.set()
                await gate.wait()  # all 200 scopes are pushed and interleaved before capturing
                sentry_sdk.capture_message(f"task-{i}")

        await asyncio.gather(*(work(i) for i in range(200)))

    asyncio.run(main())
    tags = _tags_by_message(ingest, 200)
    assert {f"task-{i}": {"worker": f"task-{i}"} for i in range(200)} == tags


def test_a_new_thread_starts_with_the_main_scope_data_but_cannot_change_it() -> None:
    """A thread starts from a copy of the main hub's scope; its changes stay in the thread."""
    from sentry_sdk.testing import capture_events

    with capture_events() as events:
        with sentry_sdk.configure_scope() as scope:
            scope.set_tag("app", "main")

        def work() -> None:
            with sentry_sdk.configure_scope() as scope:
                scope.set_tag("thread", "yes")
            sentry_sdk.capture_message("from thread")

        t = threading.Thread(target=work)
        t.start()
        t.join()
        sentry_sdk.capture_message("from main")

    assert [{"app": "main", "thread": "yes"}, {"app": "main"}] == [e["tags"] for e in events]


def test_tasks_that_do_not_push_a_scope_still_get_their_own_copy() -> None:
    """Tags and breadcrumbs set in a task without push_scope stay in that task."""
    from sentry_sdk.testing import capture_events

    with capture_events() as events:
        with sentry_sdk.configure_scope() as scope:
            scope.set_tag("app", "main")

        async def main() -> None:
            gate = asyncio.Event()
            ready = 0

            async def work(i: int) -> None:
                nonlocal ready
                with sentry_sdk.configure_scope() as scope:
                    scope.set_tag("task", str(i))
                sentry_sdk.add_breadcrumb(message=f"crumb {i}")
                ready += 1
                if ready == 20:
                    gate.set()
                await gate.wait()
                sentry_sdk.capture_message(str(i))

            await asyncio.gather(*(work(i) for i in range(20)))

        asyncio.run(main())
        sentry_sdk.capture_message("main")

    by_message = {e["message"]: e for e in events}
    for i in range(20):
        event = by_message[str(i)]
        assert {"app": "main", "task": str(i)} == event["tags"]
        assert [f"crumb {i}"] == [c["message"] for c in event["breadcrumbs"]["values"]]
    assert {"app": "main"} == by_message["main"]["tags"]
    assert "breadcrumbs" not in by_message["main"]
