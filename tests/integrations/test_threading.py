"""Threads: exceptions that end a thread are reported, and scope data follows the thread that starts one."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import sentry_sdk
from sentry_sdk.integrations.threading import ThreadingIntegration
from sentry_sdk.testing import CapturingTransport


def _init(**integration_options: bool) -> CapturingTransport:
    transport = CapturingTransport()
    sentry_sdk.init(
        transport=transport,
        integrations=[ThreadingIntegration(**integration_options)],
        default_integrations=False,
    )
    return transport


def _recording_excepthook(monkeypatch: pytest.MonkeyPatch) -> list[threading.ExceptHookArgs]:
    seen: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", seen.append)
    return seen


def test_an_exception_ending_a_thread_is_reported_and_still_reaches_threading_excepthook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The exception is sent as unhandled (mechanism threading, level error), then excepthook runs."""
    transport = _init()
    hooked = _recording_excepthook(monkeypatch)
    error = RuntimeError("thread crashed on purpose")

    def work() -> None:
        raise error

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()

    (event,) = transport.events
    (exc,) = event["exception"]["values"]
    assert ("RuntimeError", "thread crashed on purpose") == (exc["type"], exc["value"])
    assert ("threading", False) == (exc["mechanism"]["type"], exc["mechanism"]["handled"])
    assert "work" == exc["stacktrace"]["frames"][-1]["function"]
    assert "error" == event["level"]
    assert [(RuntimeError, error, thread)] == [(h.exc_type, h.exc_value, h.thread) for h in hooked]


def test_a_subclass_overriding_run_is_reported_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Thread subclass with its own run() is covered, and its run is the class's again afterwards."""
    transport = _init()
    _recording_excepthook(monkeypatch)

    class Worker(threading.Thread):
        def run(self) -> None:
            raise KeyError("from a subclass")

    thread = Worker()
    thread.start()
    thread.join()

    assert ["KeyError"] == [e["exception"]["values"][0]["type"] for e in transport.events]
    assert "run" not in vars(thread)


def test_without_the_integration_enabled_threads_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once set up, the patch does nothing for a client that does not enable the integration."""
    _init()  # sets the integration up in this process, if no earlier test did
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, default_integrations=False)
    hooked = _recording_excepthook(monkeypatch)

    def work() -> None:
        raise ValueError("not reported")

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()

    assert [] == transport.events
    assert [ValueError] == [h.exc_type for h in hooked]


def test_a_thread_sees_what_its_spawner_set_before_start_and_nothing_leaks_back_or_sideways() -> None:
    """20 threads: each sees the spawner's pushed scope as of start(), and only its own tag."""
    transport = _init()
    count = 20
    barrier = threading.Barrier(count + 1)

    def work(i: int) -> None:
        sentry_sdk.set_tag(f"thread-{i}", "yes")
        barrier.wait()  # every thread has tagged itself, and the spawner has tagged late, by now
        sentry_sdk.capture_message(f"thread-{i}")

    with sentry_sdk.push_scope() as scope:
        scope.set_tag("spawner", "yes")
        threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        scope.set_tag("late", "after start")
        barrier.wait()
        for thread in threads:
            thread.join()
        sentry_sdk.capture_message("spawner")

    tags = {e["message"]: e["tags"] for e in transport.events}
    expected = {f"thread-{i}": {"spawner": "yes", f"thread-{i}": "yes"} for i in range(count)}
    expected["spawner"] = {"spawner": "yes", "late": "after start"}
    assert expected == tags


def test_without_propagation_a_thread_starts_from_the_main_hub() -> None:
    """propagate_scope=False: the main hub's data reaches the thread, the spawner's pushed scope does not."""
    transport = _init(propagate_scope=False)
    sentry_sdk.set_tag("app", "main")

    def work() -> None:
        sentry_sdk.capture_message("from thread")

    with sentry_sdk.push_scope() as scope:
        scope.set_tag("request", "only in the spawner")
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()

    (event,) = transport.events
    assert {"app": "main"} == event["tags"]


def test_pool_tasks_on_reused_workers_each_see_only_their_own_tag() -> None:
    """A pool of 2 workers runs 50 tasks that each tag themselves; every event has exactly its own tag."""
    transport = _init()

    def work(i: int) -> None:
        sentry_sdk.set_tag(f"task-{i}", "yes")
        sentry_sdk.capture_message(f"task-{i}")

    with sentry_sdk.push_scope() as scope:
        scope.set_tag("submitter", "yes")
        with ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(work, i) for i in range(50)]:
                future.result()

    tags = {e["message"]: e["tags"] for e in transport.events}
    assert {f"task-{i}": {"submitter": "yes", f"task-{i}": "yes"} for i in range(50)} == tags


def test_an_exception_in_a_pool_task_belongs_to_its_future() -> None:
    """A pool task that raises is not reported: the exception is the future's, for the caller to handle."""
    transport = _init()

    def work() -> None:
        raise ValueError("for the caller")

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(work)
        with pytest.raises(ValueError, match="for the caller"):
            future.result()

    assert [] == transport.events
