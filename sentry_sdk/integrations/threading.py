"""Threading: exceptions that end a thread are reported, and new threads inherit the spawner's scope.

``Thread.start`` is patched once. When the client of the starting thread has this integration
enabled, the new thread's ``run`` is wrapped so that:

* an exception escaping it is captured as unhandled (mechanism ``threading``, level ``error``) and
  re-raised, so ``threading.excepthook`` still sees it as before;
* with ``propagate_scope=True`` (the default) the thread works on a fork of the hub that was current
  in the starting thread when ``start()`` was called: it sees what was set there before, and what it
  sets itself stays in the thread. With ``propagate_scope=False`` a thread starts from the main hub.

A ``ThreadPoolExecutor`` worker runs many submitted calls one after the other, so with
``propagate_scope=True`` each submitted call also runs in its own fork of the submitter's hub and
leaves nothing behind for the next call on the same worker. Exceptions raised by a submitted call
belong to its future, so they are not reported here.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from .._log import report_internal_error
from ..hub import Hub
from . import Integration
from ._capture import capture_unhandled

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ThreadingIntegration"]


class ThreadingIntegration(Integration):
    """``propagate_scope``: start each thread (and each pool task) from the spawner's scope."""

    identifier = "threading"

    def __init__(self, propagate_scope: bool = True) -> None:
        self.propagate_scope = propagate_scope

    @staticmethod
    def setup_once() -> None:
        original_start = threading.Thread.start

        def sentry_start(self: threading.Thread) -> None:
            try:
                _prepare(self)
            except Exception:
                report_internal_error()
            original_start(self)

        threading.Thread.start = sentry_start  # type: ignore[method-assign]
        _patch_pool_if_imported()


def _enabled() -> ThreadingIntegration | None:
    client = Hub.current.client
    integration = client.get_integration(ThreadingIntegration) if client is not None else None
    return integration if isinstance(integration, ThreadingIntegration) else None


def _prepare(thread: threading.Thread) -> None:
    """Runs in the starting thread, just before ``thread`` starts."""
    # Importing concurrent.futures costs every init a few milliseconds; its executor is patched
    # once it is in use instead, which is at the latest when its first worker thread starts.
    _patch_pool_if_imported()
    integration = _enabled()
    if integration is None or thread.ident is not None:  # a second start() fails on its own
        return
    hub = Hub(Hub.current) if integration.propagate_scope else None
    had_own_run = "run" in vars(thread)
    run = thread.run

    def sentry_run() -> None:
        try:
            _call_in(hub, _run_reporting, run)
        finally:
            # The wrapper refers to the thread; dropping it ends that cycle once the thread is done.
            if had_own_run:
                thread.run = run  # type: ignore[method-assign]
            else:
                vars(thread).pop("run", None)

    thread.run = sentry_run  # type: ignore[method-assign]


def _run_reporting(run: Callable[[], object]) -> None:
    try:
        run()
    except Exception as exc:
        _capture_unhandled(exc)
        raise


def _capture_unhandled(exc: Exception) -> None:
    capture_unhandled(ThreadingIntegration, exc, "threading")


def _call_in(hub: Hub | None, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` with ``hub`` as the current hub (when given); the call always happens."""
    active: Hub | None = None
    if hub is not None:
        try:
            hub.__enter__()
            active = hub
        except Exception:
            report_internal_error()
    try:
        return fn(*args, **kwargs)
    finally:
        if active is not None:
            try:
                active.__exit__(None, None, None)
            except Exception:
                report_internal_error()


_pool_lock = threading.Lock()
_pool_patched = False


def _patch_pool_if_imported() -> None:
    global _pool_patched
    if _pool_patched:
        return
    module = sys.modules.get("concurrent.futures.thread")
    if module is None:
        return
    with _pool_lock:
        if _pool_patched:
            return
        _pool_patched = True
        executor = module.ThreadPoolExecutor
        original_submit = executor.submit

        def sentry_submit(self: Any, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
            try:
                fn = _task_in_fork(self, fn)
            except Exception:
                report_internal_error()
            return original_submit(self, fn, *args, **kwargs)

        executor.submit = sentry_submit


def _task_in_fork(executor: object, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn``, or a callable that runs it in a fork of the calling thread's current hub."""
    integration = _enabled()
    if integration is None or not integration.propagate_scope:
        return fn
    interpreters = sys.modules.get("concurrent.futures.interpreter")
    if interpreters is not None and isinstance(executor, interpreters.InterpreterPoolExecutor):
        return fn  # its calls run in other interpreters, which must be able to share ``fn`` itself
    hub = Hub(Hub.current)

    def sentry_task(*args: Any, **kwargs: Any) -> Any:
        return _call_in(hub, fn, *args, **kwargs)

    return sentry_task
