"""Sigterm (opt-in): on ``SIGTERM``, pending events are flushed, then the signal takes its course.

Process managers (systemd, Kubernetes, supervisord) stop programs with ``SIGTERM``, whose default
action ends the process at once, without ``atexit`` handlers: whatever was queued is lost. With
this integration the handler flushes within ``shutdown_timeout`` first, then hands the signal to
the handler that was installed before it, or, if that was the default action, re-raises it so the
process ends exactly as it would have.

``init`` must run in the main thread for it to enable (only that thread may install signal
handlers); enable it before installing handlers of your own, or ours will replace yours.
"""

from __future__ import annotations

import os
import signal
import threading

from .._log import report_internal_error
from . import DidNotEnable, Integration

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FrameType
    from typing import Any

__all__ = ["SigtermIntegration"]

_previous: Any = signal.SIG_DFL


class SigtermIntegration(Integration):
    """Flush on ``SIGTERM``, then let the previous handler (or the default action) run."""

    identifier = "sigterm"

    @staticmethod
    def setup_once() -> None:
        global _previous
        if not hasattr(signal, "SIGTERM"):
            raise DidNotEnable("this platform has no SIGTERM")
        if threading.current_thread() is not threading.main_thread():
            raise DidNotEnable("signal handlers can only be installed from the main thread")
        _previous = signal.signal(signal.SIGTERM, _on_sigterm)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    from ..hub import Hub

    try:
        client = Hub.current.client
        if client is not None and client.get_integration(SigtermIntegration) is not None:
            client.flush()
    except Exception:
        report_internal_error()
    previous = _previous
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_IGN:
        return
    else:  # the default action (or a handler not set from Python): end as SIGTERM would have
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
