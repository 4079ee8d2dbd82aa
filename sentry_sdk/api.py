"""The module-level API: each function works on the current hub (see :mod:`sentry_sdk.hub`).

None of these raise into the calling program, except ``init`` on bad configuration.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from ._log import report_internal_error
from ._typing import overload
from .hub import Hub, _capture_with, _current_hub
from .scope import GLOBAL_SCOPE, Scope
from .scope import _hub as _scope_side

# Bound once. CPython 3.11 compiles `name.method()` on a name bound by an import as an attribute
# load, which builds a bound-method object on every call (about 500 machine instructions, more than
# the rest of `set_tag`); a bound method kept here is called directly.
_hub_in_context = _current_hub.get

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from typing import Any

    from ._tracing.spans import Span, Transaction
    from .client import Client, NonRecordingClient
    from .types import Breadcrumb, BreadcrumbHint, Event, ExcInfo, Hint


__all__ = [
    "continue_trace",
    "get_baggage",
    "get_current_span",
    "get_traceparent",
    "set_measurement",
    "start_span",
    "start_transaction",
    "update_current_span",
    "add_attachment",
    "add_breadcrumb",
    "capture_event",
    "capture_exception",
    "capture_message",
    "configure_scope",
    "flush",
    "flush_async",
    "get_client",
    "get_current_hub",
    "get_current_scope",
    "get_global_scope",
    "get_isolation_scope",
    "init",
    "is_initialized",
    "isolation_scope",
    "last_event_id",
    "new_scope",
    "push_scope",
    "set_context",
    "set_extra",
    "set_level",
    "set_tag",
    "set_tags",
    "set_transaction_name",
    "set_user",
    "use_isolation_scope",
    "use_scope",
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
    GLOBAL_SCOPE.set_client(client)
    hub = Hub.current
    if hub.client is not client:  # a client bound in this context (``Hub(client)``) is replaced too
        hub.bind_client(client)
    return _InitGuard(client)


def get_current_hub() -> Hub:
    """The hub of the calling thread or task."""
    return Hub.current


def capture_event(
    event: Event, hint: Hint | None = None, scope: Scope | None = None, **scope_kwargs: Any
) -> str | None:
    """Send an event dict; returns its id, or ``None`` when it was not sent.

    ``scope`` and keyword arguments (``tags=``, ``user=``, ``level=``, ``extras=``, ``contexts=``,
    ``fingerprint=``) add data for this event only, on top of the scopes in effect.
    """
    return (_hub_in_context() or Hub.current).capture_event(event, hint, scope, **scope_kwargs)


def capture_message(
    message: str, level: str | None = None, scope: Scope | None = None, **scope_kwargs: Any
) -> str | None:
    """Send a message at ``level`` (default ``"info"``); returns the event id or ``None``."""
    return (_hub_in_context() or Hub.current).capture_message(message, level, scope, **scope_kwargs)


def capture_exception(
    error: BaseException | ExcInfo | None = None, scope: Scope | None = None, **scope_kwargs: Any
) -> str | None:
    """Send an exception, an ``exc_info`` tuple, or (with no argument) the one being handled."""
    return (_hub_in_context() or Hub.current).capture_exception(error, scope, **scope_kwargs)


def add_breadcrumb(
    crumb: Breadcrumb | Callable[[], Breadcrumb] | None = None,
    hint: BreadcrumbHint | None = None,
    **kwargs: Any,
) -> None:
    """Record a breadcrumb. ``crumb`` may be a callable returning it, called only when a client is bound."""
    (_hub_in_context() or Hub.current)._add_breadcrumb(crumb, hint, kwargs)


@overload
def configure_scope(callback: None = None) -> AbstractContextManager[Scope]: ...


@overload
def configure_scope(callback: Callable[[Scope], None]) -> None: ...


def configure_scope(
    callback: Callable[[Scope], None] | None = None,
) -> AbstractContextManager[Scope] | None:
    """``with configure_scope() as scope:``, or ``@configure_scope`` (run only when a client is bound)."""
    try:
        return Hub.current.configure_scope(callback)
    except Exception:
        report_internal_error()
        return Hub.current.configure_scope(None) if callback is None else None


@overload
def push_scope(callback: None = None) -> AbstractContextManager[Scope]: ...


@overload
def push_scope(callback: Callable[[Scope], None]) -> None: ...


def push_scope(callback: Callable[[Scope], None] | None = None) -> AbstractContextManager[Scope] | None:
    """``with push_scope() as scope:`` for data that applies only inside the block."""
    return (_hub_in_context() or Hub.current).push_scope(callback)


def set_tag(key: str, value: Any) -> None:
    """Set a tag on the current scope."""
    (_hub_in_context() or Hub.current)._writable_layer().isolation.set_tag(key, value)


def set_tags(tags: dict[str, Any]) -> None:
    """Set several tags on the current scope."""
    (_hub_in_context() or Hub.current)._writable_layer().isolation.set_tags(tags)


def set_extra(key: str, value: Any) -> None:
    """Set extra data on the current scope."""
    (_hub_in_context() or Hub.current)._writable_layer().isolation.set_extra(key, value)


def set_context(key: str, value: dict[str, Any]) -> None:
    """Set a structured context on the current scope."""
    (_hub_in_context() or Hub.current)._writable_layer().isolation.set_context(key, value)


def set_user(value: dict[str, Any] | None) -> None:
    """Set (or with ``None`` clear) the user on the current scope."""
    (_hub_in_context() or Hub.current)._writable_layer().isolation.set_user(value)


def set_level(value: str) -> None:
    """Set the level of events captured under the current scope."""
    (_hub_in_context() or Hub.current)._writable_layer().isolation.set_level(value)


def add_attachment(
    bytes: bytes | None = None,  # noqa: A002 - sentry-sdk's keyword
    filename: str | None = None,
    path: str | None = None,
    content_type: str | None = None,
    add_to_transactions: bool = False,
) -> None:
    """Send a file with every later event of this thread or task (on the isolation scope)."""
    isolation = (_hub_in_context() or Hub.current)._writable_layer().isolation
    isolation.add_attachment(bytes, filename, path, content_type, add_to_transactions)


# -- the 2.x scope API: views of the hub's stack (see sentry_sdk.hub) --------------------------


def get_client() -> Client | NonRecordingClient:
    """The client in effect here, or one that records nothing before ``init``."""
    client = Hub.current.client
    if client is not None:
        return client
    from .client import NonRecordingClient

    return NonRecordingClient()


def is_initialized() -> bool:
    """Whether a client that sends events is in effect here."""
    client = Hub.current.client
    return client is not None and client.is_active()


def get_current_scope() -> Scope:
    """The current scope of this thread or task (what ``new_scope()`` forks)."""
    return Hub.current._writable_layer().scope


def get_isolation_scope() -> Scope:
    """The isolation scope of this thread or task (where ``set_tag`` and breadcrumbs go)."""
    return Hub.current._writable_layer().isolation


def get_global_scope() -> Scope:
    """The scope applied to every event of the process; ``init`` binds its client here."""
    return GLOBAL_SCOPE


def new_scope() -> AbstractContextManager[Scope]:
    """``with new_scope() as scope:`` runs the block with a fork of the current scope."""
    hub = Hub.current
    top = hub._writable_layer()
    current = top.current.fork()
    return hub._push(current, top.isolation, current)


def isolation_scope() -> AbstractContextManager[Scope]:
    """``with isolation_scope() as scope:`` forks both the isolation and the current scope."""
    hub = Hub.current
    # The top layer is only read (both scopes are forked), so a new asyncio task need not get a
    # layer of its own first, as _writable_layer would give it.
    top = hub._stack_layer()
    isolation = top.isolation.fork()
    return hub._push(top.current, isolation, isolation, inherited=True)


def use_scope(scope: Scope) -> AbstractContextManager[Scope]:
    """``with use_scope(scope):`` makes ``scope`` itself the current scope for the block."""
    hub = Hub.current
    return hub._push(scope, hub._writable_layer().isolation, scope)


def use_isolation_scope(isolation_scope: Scope) -> AbstractContextManager[Scope]:
    """``with use_isolation_scope(scope):`` makes ``scope`` the isolation scope for the block."""
    hub = Hub.current
    # The current scope is copied only if the block writes to it (web integrations enter a
    # request's scope again for each chunk of its response).
    return hub._push(hub._writable_layer().current, isolation_scope, isolation_scope, inherited=True)


def set_transaction_name(name: str, source: str | None = None) -> None:
    """Name what the program is doing (a route, a task): events get it as their ``transaction``."""
    get_current_scope().set_transaction_name(name, source)


# -- tracing (sentry_sdk.tracing holds the model; these work on the current scope) -------------


def start_transaction(
    transaction: Transaction | None = None,
    instrumenter: str = "sentry",
    custom_sampling_context: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Transaction:
    """Start and sample a transaction (``name=``, ``op=``, ``source=``, ``sampled=``...).

    ``with start_transaction(...)`` makes it the current span for the block and sends it at the
    end, when sampled; without ``with``, call ``finish()``.
    """
    from ._tracing.api import start_transaction as _start

    try:
        return _start(get_current_scope(), transaction, custom_sampling_context, kwargs)
    except Exception:
        report_internal_error()
        from ._tracing.spans import Transaction as _Transaction

        return _Transaction(sampled=False)


# The tracing model, loaded on first use (``import sentry_sdk`` does not load it); kept here so
# that a hot call such as start_span does not run an import statement each time.
_tracing_api: Any = None


def _load_tracing() -> Any:
    global _tracing_api
    from ._tracing import api

    _tracing_api = api
    return api


def start_span(instrumenter: str = "sentry", **kwargs: Any) -> Span:
    """A child of the current span (``op=``, ``name=``/``description=``); ``with`` it or ``finish()``."""
    try:
        tracing = _tracing_api or _load_tracing()
        span: Span = tracing.start_span(get_current_scope(), kwargs)
        return span
    except Exception:
        report_internal_error()
        from ._tracing.spans import NoOpSpan

        return NoOpSpan()


def get_current_span(scope: Scope | None = None) -> Span | None:
    """The span running in the current scope (or in ``scope``), if any."""
    # Read without asking for a writable scope: that would copy a scope only to look at it.
    return (scope if scope is not None else Hub.current._writable_layer().current)._span


def update_current_span(
    op: str | None = None,
    name: str | None = None,
    attributes: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Change the current span's op, name or data (nothing happens when no span runs)."""
    span = get_current_span()
    if span is None:
        return
    if op is not None:
        span.op = op
    if name is not None:
        span.name = name
    for values in (attributes, data):
        if values:
            span.update_data(values)


def set_measurement(name: str, value: float, unit: str = "") -> None:
    """A measurement of the running transaction (``lcp``, ``memory_used``...)."""
    transaction = get_current_scope().transaction
    if transaction is not None:
        transaction.set_measurement(name, value, unit)


def continue_trace(
    environ_or_headers: Any,
    op: str | None = None,
    name: str | None = None,
    source: str | None = None,
    origin: str = "manual",
) -> Transaction:
    """Continue the trace of incoming headers (or a WSGI environ): a transaction to start."""
    from ._tracing.api import continue_trace as _continue

    try:
        return _continue(get_current_scope(), environ_or_headers, op, name, source, origin)
    except Exception:
        report_internal_error()
        from ._tracing.spans import Transaction as _Transaction

        return _Transaction(name=name or "", op=op)


def get_traceparent() -> str | None:
    """The ``sentry-trace`` header value for an outgoing request made now."""
    try:
        return get_current_scope().get_traceparent()
    except Exception:
        report_internal_error()
        return None


def get_baggage() -> str | None:
    """The ``baggage`` header value for an outgoing request made now."""
    try:
        value: str | None = get_current_scope().get_baggage()
        return value
    except Exception:
        report_internal_error()
        return None


async def flush_async(
    timeout: float | None = None, callback: Callable[[int, float], None] | None = None
) -> None:
    """``flush`` for async code: waits in a worker thread, so the event loop keeps running."""
    import asyncio

    client = Hub.current.client
    if client is None:
        return
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, lambda: client.flush(timeout=timeout, callback=callback))
    except Exception:
        report_internal_error()


def last_event_id() -> str | None:
    """The id of the last event sent from the current hub."""
    return Hub.current.last_event_id()


def flush(timeout: float | None = None, callback: Callable[[int, float], None] | None = None) -> None:
    """Wait up to ``timeout`` seconds (default ``shutdown_timeout``) for pending events to be sent."""
    try:
        Hub.current.flush(timeout=timeout, callback=callback)
    except Exception:
        report_internal_error()


# The scope's 2.x methods (Scope.get_client(), scope.capture_message(), ...) reach the calling
# context through these; the scope module cannot import this one (see scope._HubSide).
_scope_side.capture_with = _capture_with
_scope_side.client = get_client
_scope_side.current_scope = get_current_scope
_scope_side.isolation_scope = get_isolation_scope
_scope_side.use_scope = use_scope
_scope_side.use_isolation_scope = use_isolation_scope
