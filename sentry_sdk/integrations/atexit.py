"""Atexit: at interpreter exit, pending events are flushed within ``shutdown_timeout``.

``multiprocessing`` children end with ``os._exit``, so their ``atexit`` handlers never run; they
get the same flush from a ``multiprocessing`` finalizer instead (fork and spawn alike).
"""

from __future__ import annotations

import atexit
import os
import sys

from .._log import report_internal_error
from . import Integration

__all__ = ["AtexitIntegration"]


def _tell_stderr(pending: int, timeout: float) -> None:
    sys.stderr.write(
        f"sentry_sdk: sending {pending} pending event(s) before exit (waiting up to {timeout:g}s)\n"
    )
    sys.stderr.flush()


class AtexitIntegration(Integration):
    """Flushes and closes the client when the interpreter exits, telling stderr what is pending."""

    identifier = "atexit"

    @staticmethod
    def setup_once() -> None:
        atexit.register(_shutdown)
        # A spawned child (or one whose parent never initialised the SDK) initialises here.
        _watch_this_process_if_a_child()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_watch_this_process_if_a_child)


class _Token:
    """Kept alive here: multiprocessing holds its after-fork callbacks by weak reference."""


_TOKEN = _Token()


def _watch_this_process_if_a_child() -> None:
    # Never imports multiprocessing: a program that does not use it has no children of its kind.
    util = sys.modules.get("multiprocessing.util")
    if util is None:
        return
    try:
        # Runs after multiprocessing clears its finalizers in the child (_bootstrap), so the
        # finalizer registered then survives until the child's _exit_function runs it.
        util.register_after_fork(_TOKEN, _register_finalizer)
        process = sys.modules["multiprocessing"].parent_process()
        if process is not None:  # already inside a child: its bootstrap has run
            _register_finalizer(_TOKEN)
    except Exception:
        report_internal_error()


def _register_finalizer(_token: object) -> None:
    util = sys.modules.get("multiprocessing.util")
    if util is not None:
        util.Finalize(None, _shutdown, exitpriority=10)


def _shutdown() -> None:
    from ..hub import Hub

    try:
        for hub in (Hub.current, Hub.main):
            client = hub.client
            if client is not None and client.get_integration(AtexitIntegration) is not None:
                client.close(callback=_tell_stderr)
    except Exception:
        report_internal_error()
