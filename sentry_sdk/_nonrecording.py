"""The client that ``get_client()`` returns before ``init``.

Its own module, importing nothing of the SDK's but its type aliases, so that the scope can hand
it out without importing the client (which imports the scope). ``ClientLike`` (for type checkers
only) is the surface both clients share: what a scope's ``client`` is typed as, since the scope
cannot name the client's class without importing it.
"""

from __future__ import annotations

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Protocol

    from .types import Event, Hint

    class ClientLike(Protocol):
        """What every client answers: the real one after ``init``, a non-recording one before."""

        options: dict[str, Any]

        @property
        def dsn(self) -> str | None: ...
        def is_active(self) -> bool: ...
        def should_send_default_pii(self) -> bool: ...
        def get_integration(self, name_or_class: Any) -> Any: ...
        def capture_event(self, event: Event, hint: Hint | None = None, scope: Any = None) -> str | None: ...
        def flush(
            self, timeout: float | None = None, callback: Callable[[int, float], None] | None = None
        ) -> None: ...
        def close(
            self, timeout: float | None = None, callback: Callable[[int, float], None] | None = None
        ) -> None: ...


__all__ = ["NonRecordingClient"]


class NonRecordingClient:
    """What ``get_client()`` returns before ``init``: answers like a client, records nothing."""

    options: dict[str, Any] = {}
    transport = None
    parsed_dsn = None
    integrations: dict[str, Any] = {}

    @property
    def dsn(self) -> str | None:
        """Always ``None``."""
        return None

    def is_active(self) -> bool:
        """Always ``False``: nothing is sent."""
        return False

    def should_send_default_pii(self) -> bool:
        """Always ``False``."""
        return False

    def get_integration(self, name_or_class: Any) -> None:
        """Always ``None``: no integration is enabled."""
        return None

    def capture_event(self, event: Event, hint: Hint | None = None, scope: object = None) -> None:
        """Does nothing."""
        return None

    def flush(
        self, timeout: float | None = None, callback: Callable[[int, float], None] | None = None
    ) -> None:
        """Does nothing."""

    def close(
        self, timeout: float | None = None, callback: Callable[[int, float], None] | None = None
    ) -> None:
        """Does nothing."""

    def __repr__(self) -> str:
        return "<NonRecordingClient>"
