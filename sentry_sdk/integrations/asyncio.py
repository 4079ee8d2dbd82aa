"""Asyncio: each task gets its own scope, and an exception that ends a task is reported.

Opt-in: ``sentry_sdk.init(integrations=[AsyncioIntegration()])``, from inside or outside a running
loop. When the client of the context creating a task has this integration enabled, the task's
coroutine runs in a fork of the hub current at ``create_task`` time: the task sees what its creator
had set until then, and what it sets stays in the task. An exception escaping the coroutine (other
than cancellation) is captured as unhandled (mechanism ``asyncio``, level ``error``) and re-raised,
so the task fails exactly as it would have.

How: ``setup_once`` patches ``asyncio.BaseEventLoop.create_task``, through which every task of
asyncio's own event loops is made (``asyncio.create_task``, ``ensure_future``, ``gather``,
``TaskGroup``, ...), whenever the loop was created. A task factory installed on the running loop
was not used because ``setup_once`` runs once per process: such a factory would reach only the loop
running at the first ``init``, and a program (or test suite) calling ``asyncio.run`` again would
lose it. Task factories set by the program, before or after ``init``, keep working unchanged: they
are called by the patched method with the wrapped coroutine.

Not covered: loops that do not derive from ``asyncio.BaseEventLoop`` (uvloop's, for example) and
tasks made by calling ``asyncio.Task(...)`` directly. ``task.get_coro()`` returns the wrapping
coroutine rather than the one passed in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine

from .._log import report_internal_error
from ..hub import Hub
from . import Integration
from ._capture import capture_unhandled

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    _T = TypeVar("_T")

__all__ = ["AsyncioIntegration"]


class AsyncioIntegration(Integration):
    """Runs every new task in its own fork of its creator's hub and reports exceptions that end one."""

    identifier = "asyncio"

    @staticmethod
    def setup_once() -> None:
        original = asyncio.BaseEventLoop.create_task

        def sentry_create_task(self: asyncio.BaseEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
            wrapped = None
            try:
                wrapped = _wrap(coro)
            except Exception:
                report_internal_error()
            if wrapped is None:
                return original(self, coro, **kwargs)
            try:
                task = original(self, wrapped, **kwargs)
            except BaseException:
                # The wrapper never ran; the caller's coroutine is left as it would be without us.
                wrapped.close()
                raise
            # A task cancelled before its first step never starts the wrapper, so the wrapped
            # coroutine would be reported as "never awaited"; closing it when the task is done
            # prevents that (and does nothing to a coroutine that ran).
            task.add_done_callback(lambda _task: _close(coro))
            return task

        asyncio.BaseEventLoop.create_task = sentry_create_task  # type: ignore[method-assign]


def _wrap(coro: object) -> Coroutine[Any, Any, Any] | None:
    """The coroutine to run instead of ``coro``, or ``None`` to leave it alone."""
    if not asyncio.iscoroutine(coro):
        return None
    client = Hub.current.client
    if client is None or client.get_integration(AsyncioIntegration) is None:
        return None
    return _run_in(Hub(Hub.current), coro)


async def _run_in(hub: Hub, coro: Coroutine[Any, Any, _T]) -> _T:
    active: Hub | None = None
    try:
        hub.__enter__()
        active = hub
    except Exception:
        report_internal_error()
    try:
        return await coro
    except Exception as exc:
        _capture_unhandled(exc)
        raise
    finally:
        if active is not None:
            try:
                active.__exit__(None, None, None)
            except Exception:
                report_internal_error()


def _capture_unhandled(exc: Exception) -> None:
    capture_unhandled(AsyncioIntegration, exc, "asyncio")


def _close(coro: Coroutine[Any, Any, Any]) -> None:
    try:
        coro.close()
    except Exception:
        report_internal_error()
