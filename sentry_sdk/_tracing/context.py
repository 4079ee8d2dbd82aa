"""How the tracing model reaches the scopes and the client without importing the modules above it.

The hub installs these when it is imported (it always is before a span can exist), so imports
run one way: the hub and the scope use the tracing model, never the other way round.
"""

from __future__ import annotations

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .types import BoundClient as Client
    from .types import TracingScope as Scope


__all__ = [
    "client",
    "current_scope",
    "current_span",
    "install",
    "isolation_scope",
    "options",
    "send_transaction",
]


def _not_installed(*args: Any) -> Any:
    raise RuntimeError("sentry_sdk.hub has not installed the tracing context")


current_scope: Callable[[], Scope] = _not_installed
current_span: Callable[[], Any] = _not_installed  # the running span, read without copying a scope
isolation_scope: Callable[[], Scope] = _not_installed
client: Callable[[], Client | None] = _not_installed
send_transaction: Callable[[Any, Any, Any], str | None] = _not_installed


def options() -> dict[str, Any]:
    """The bound client's options, or none."""
    bound = client()
    return bound.options if bound is not None else {}


def install(
    *,
    current: Callable[[], Scope],
    isolation: Callable[[], Scope],
    bound_client: Callable[[], Client | None],
    send: Callable[[Any, Any, Any], str | None],
    span: Callable[[], Any],
) -> None:
    global current_scope, current_span, isolation_scope, client, send_transaction
    current_scope, isolation_scope, client, send_transaction = current, isolation, bound_client, send
    current_span = span
