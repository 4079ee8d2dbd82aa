"""The module-level API: each function works on the current hub (see :mod:`sentry_sdk.hub`).

None of these raise into the calling program, except ``init`` on bad configuration.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from ._log import report_internal_error
from .hub import Hub, _current_hub
from .scope import Scope

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .client import Client
    from .types import Breadcrumb, BreadcrumbHint, Event, ExcInfo, Hint


__all__ = [
    "add_breadcrumb",
    "capture_event",
    "capture_exception",
    "capture_message",
    "configure_scope",
    "flush",
    "get_current_hub",
    "init",
    "last_event_id",
    "push_scope",
    "set_context",
    "set_extra",
    "set_level",
    "set_tag",
    "set_tags",
    "set_user",
]


class _InitGuard:
    """Returned by ``init``: as a context manager, flushes and closes the client on exit."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __enter__(self) -> _InitGuard:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._client.close()

    @property
    def client(self) -> Client:
        """The client ``init`` created."""
        return self._client


def init(dsn: str | None = None, **options: Any) -> _InitGuard:
    """Create a client from the options and bind it, for this thread and the ones started later.

    Raises ``TypeError`` or ``ValueError`` naming the option when the configuration is wrong.
    Without a DSN (argument or ``SENTRY_DSN``) nothing is sent, but scopes, breadcrumbs and
    processors still run.
    """
    from .client import Client  # the pipeline and transport load at init, not at import

    client = Client(dsn, **options)
    hub = Hub.current
    hub.bind_client(client)
    if hub is not Hub.main:
        Hub.main.bind_client(client)
    return _InitGuard(client)


def get_current_hub() -> Hub:
    """The hub of the calling thread or task."""
    return Hub.current


def capture_event(event: Event, hint: Hint | None = None, scope: Scope | None = None) -> str | None:
    """Send an event dict; returns its id, or ``None`` when it was not sent."""
    return Hub.current.capture_event(event, hint, scope)


def capture_message(message: str, level: str | None = None, scope: Scope | None = None) -> str | None:
    """Send a message at ``level`` (default ``"info"``); returns the event id or ``None``."""
    return Hub.current.capture_message(message, level, scope)


def capture_exception(error: BaseException | ExcInfo | None = None, scope: Scope | None = None) -> str | None:
    """Send an exception, an ``exc_info`` tuple, or (with no argument) the one being handled."""
    return Hub.current.capture_exception(error, scope)


def add_breadcrumb(
    crumb: Breadcrumb | Callable[[], Breadcrumb] | None = None,
    hint: BreadcrumbHint | None = None,
    **kwargs: Any,
) -> None:
    """Record a breadcrumb. ``crumb`` may be a callable returning it, called only when a client is bound."""
    (_current_hub.get() or Hub.current)._add_breadcrumb(crumb, hint, kwargs)


def configure_scope(callback: Callable[[Scope], None] | None = None) -> Any:
    """``with configure_scope() as scope:``, or ``@configure_scope`` (run only when a client is bound)."""
    try:
        return Hub.current.configure_scope(callback)
    except Exception:
        report_internal_error()
        return Hub.current.configure_scope(None) if callback is None else None


def push_scope(callback: Callable[[Scope], None] | None = None) -> Any:
    """``with push_scope() as scope:`` for data that applies only inside the block."""
    return (_current_hub.get() or Hub.current).push_scope(callback)


def set_tag(key: str, value: Any) -> None:
    """Set a tag on the current scope."""
    Hub.current.scope.set_tag(key, value)


def set_tags(tags: dict[str, Any]) -> None:
    """Set several tags on the current scope."""
    Hub.current.scope.set_tags(tags)


def set_extra(key: str, value: Any) -> None:
    """Set extra data on the current scope."""
    Hub.current.scope.set_extra(key, value)


def set_context(key: str, value: dict[str, Any]) -> None:
    """Set a structured context on the current scope."""
    Hub.current.scope.set_context(key, value)


def set_user(value: dict[str, Any] | None) -> None:
    """Set (or with ``None`` clear) the user on the current scope."""
    Hub.current.scope.set_user(value)


def set_level(value: str) -> None:
    """Set the level of events captured under the current scope."""
    Hub.current.scope.set_level(value)


def last_event_id() -> str | None:
    """The id of the last event sent from the current hub."""
    return Hub.current.last_event_id()


def flush(timeout: float | None = None, callback: Callable[[int, float], None] | None = None) -> None:
    """Wait up to ``timeout`` seconds (default ``shutdown_timeout``) for pending events to be sent."""
    try:
        Hub.current.flush(timeout=timeout, callback=callback)
    except Exception:
        report_internal_error()
