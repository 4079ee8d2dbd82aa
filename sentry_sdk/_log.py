"""The SDK's own diagnostics: the ``sentry_sdk.errors`` logger and the guard around internal errors.

Every public entry point and every hook the SDK installs runs under :func:`capture_internal_exceptions`
(or calls :func:`report_internal_error` from an ``except`` block), so a bug in the SDK is logged here
instead of reaching the host program. Tests install a hook with :func:`set_internal_error_hook` that
turns such a report into a test failure.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    from typing import Any

_LOGGER_NAME = "sentry_sdk.errors"
_real: logging.Logger | None = None


def _logger() -> logging.Logger:
    global _real
    if _real is None:
        import logging

        real = logging.getLogger(_LOGGER_NAME)
        # Without a handler of its own, Python's last-resort handler would print our
        # errors to stderr even when the user did not ask for debug output.
        real.addHandler(logging.NullHandler())
        _real = real
    return _real


class _LazyLogger:
    """The ``sentry_sdk.errors`` logger, looked up at its first use.

    ``import sentry_sdk`` then does not import :mod:`logging` (a good part of the import's cost
    in programs that do not log); the SDK logs nothing on its hot paths.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        return getattr(_logger(), name)


logger: logging.Logger = _LazyLogger()  # type: ignore[assignment]

_debug_handler: logging.Handler | None = None
_internal_error_hook: Callable[[BaseException], None] | None = None


def set_debug(enabled: bool) -> None:
    """Show (or stop showing) the SDK's diagnostics on stderr."""
    global _debug_handler
    if enabled and _debug_handler is None:
        import logging

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(" [sentry] %(levelname)s: %(message)s"))
        _logger().addHandler(handler)
        _logger().setLevel(logging.DEBUG)
        _debug_handler = handler
    elif not enabled and _debug_handler is not None:
        _logger().removeHandler(_debug_handler)
        _logger().setLevel(0)  # NOTSET
        _debug_handler = None


def set_internal_error_hook(hook: Callable[[BaseException], None] | None) -> None:
    """Call ``hook`` with every internal error the guard catches (the test suite fails on them)."""
    global _internal_error_hook
    _internal_error_hook = hook


def report_internal_error(exc: BaseException | None = None) -> None:
    """Log the exception being handled (or ``exc``) as an SDK bug; never raises."""
    if exc is None:
        exc = sys.exc_info()[1]
    try:
        logger.error("Internal error in sentry_sdk", exc_info=exc)
    except Exception:  # noqa: S110 - logging itself failed; there is nowhere left to report
        pass
    hook = _internal_error_hook
    if hook is not None and exc is not None:
        hook(exc)


class capture_internal_exceptions:  # noqa: N801 - used like a function, as in sentry-sdk
    """``with capture_internal_exceptions():`` reports an ``Exception`` from the block and swallows it."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        if exc is not None and isinstance(exc, Exception):
            report_internal_error(exc)
            return True
        return False


__all__ = [
    "capture_internal_exceptions",
    "logger",
    "report_internal_error",
    "set_debug",
    "set_internal_error_hook",
]
