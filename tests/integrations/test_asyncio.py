"""Asyncio tasks: each runs in its own scope, and an exception that ends one is reported."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import sentry_sdk
from sentry_sdk.integrations.asyncio import AsyncioIntegration
from sentry_sdk.testing import CapturingTransport


def _init() -> CapturingTransport:
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, integrations=[AsyncioIntegration()], default_integrations=False)
    return transport


def test_a_hundred_tasks_each_see_their_creators_tag_and_only_their_own() -> None:
    """100 concurrent tasks tag themselves and capture; each event has the creator's tag and its own."""

    async def main() -> list[dict[str, Any]]:
        transport = _init()  # inside the running loop, as programs do
        sentry_sdk.set_tag("creator", "main")
        gate = asyncio.Event()
        ready = 0

        async def work(i: int) -> None:
            nonlocal ready
            sentry_sdk.set_tag(f"task-{i}", "yes")
            ready += 1
            if ready == 100:
                gate.set()
            await gate.wait()  # every task has tagged itself before any of them captures
            sentry_sdk.capture_message(f"task-{i}")

        await asyncio.gather(*(work(i) for i in range(100)))
        sentry_sdk.capture_message("creator")
        return transport.events

    tags = {e["message"]: e["tags"] for e in asyncio.run(main())}
    expected = {f"task-{i}": {"creator": "main", f"task-{i}": "yes"} for i in range(100)}
    expected["creator"] = {"creator": "main"}
    assert expected == tags


def test_a_task_sees_its_creators_data_as_of_create_task() -> None:
    """What the creator sets after create_task() does not reach the task, even before it first runs."""

    async def main() -> list[dict[str, Any]]:
        transport = _init()
        with sentry_sdk.push_scope() as scope:
            scope.set_tag("before", "yes")
            task = asyncio.create_task(_capture("in task"))
            scope.set_tag("after", "yes")
            await task
        return transport.events

    (event,) = asyncio.run(main())
    assert {"before": "yes"} == event["tags"]


async def _capture(message: str) -> None:
    sentry_sdk.capture_message(message)


def test_an_exception_ending_a_task_is_reported_and_the_task_still_fails() -> None:
    """The exception is sent as unhandled (mechanism asyncio, level error); awaiting the task raises it."""
    error = ValueError("task crashed on purpose")

    async def work() -> None:
        sentry_sdk.set_tag("in", "task")
        raise error

    async def main() -> list[dict[str, Any]]:
        transport = _init()
        task = asyncio.create_task(work())
        with pytest.raises(ValueError) as raised:
            await task
        assert raised.value is error
        assert task.exception() is error
        return transport.events

    (event,) = asyncio.run(main())
    (exc,) = event["exception"]["values"]
    assert ("ValueError", "task crashed on purpose") == (exc["type"], exc["value"])
    assert ("asyncio", False) == (exc["mechanism"]["type"], exc["mechanism"]["handled"])
    assert "work" == exc["stacktrace"]["frames"][-1]["function"]
    assert "error" == event["level"]
    assert {"in": "task"} == event["tags"]


def test_a_cancelled_task_is_not_reported() -> None:
    """Cancellation is how tasks are stopped, not an error: nothing is sent, and the task is cancelled."""

    async def main() -> list[dict[str, Any]]:
        transport = _init()
        started = asyncio.Event()

        async def work() -> None:
            started.set()
            await asyncio.sleep(3600)

        running = asyncio.create_task(work())
        never_started = asyncio.create_task(work())
        never_started.cancel()  # cancelled before its first step: its coroutine never runs
        await started.wait()
        running.cancel()
        for task in (running, never_started):
            with pytest.raises(asyncio.CancelledError):
                await task
            assert task.cancelled()
        return transport.events

    assert [] == asyncio.run(main())


def test_a_task_factory_set_by_the_program_is_still_used() -> None:
    """A custom task factory, set before or after init, still makes every task, and tasks stay isolated."""
    made: list[str] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, /, **kwargs: Any) -> asyncio.Task[Any]:
        made.append("task")
        return asyncio.Task(coro, loop=loop, **kwargs)

    async def main() -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        loop.set_task_factory(factory)
        transport = _init()
        await asyncio.gather(*(_tag_and_capture(i) for i in range(3)))
        loop.set_task_factory(None)
        loop.set_task_factory(factory)  # set again after init
        await asyncio.gather(*(_tag_and_capture(i) for i in range(3, 5)))
        loop.set_task_factory(None)  # asyncio.run makes tasks of its own while closing the loop
        return transport.events

    events = asyncio.run(main())
    assert 5 == len(made)
    assert [{f"task-{i}": "yes"} for i in range(5)] == [e["tags"] for e in events]


async def _tag_and_capture(i: int) -> None:
    sentry_sdk.set_tag(f"task-{i}", "yes")
    await asyncio.sleep(0)
    sentry_sdk.capture_message(f"task-{i}")


def test_without_the_integration_enabled_tasks_are_left_alone() -> None:
    """Once set up, the patch does nothing for a client that does not enable the integration."""

    async def work() -> None:
        raise ValueError("not reported")

    async def main() -> tuple[list[dict[str, Any]], bool]:
        _init()  # sets the integration up in this process, if no earlier test did
        transport = CapturingTransport()
        sentry_sdk.init(transport=transport, default_integrations=False)
        coro = work()
        task = asyncio.create_task(coro)
        with pytest.raises(ValueError):
            await task
        return transport.events, task.get_coro() is coro

    assert ([], True) == asyncio.run(main())
