"""The hub: a client plus a stack of scopes, and which hub is current in each thread or task.

The current hub lives in a ContextVar. A thread that has never seen a hub gets a clone of the main
hub (its client and a copy of its scope). Layers pushed on a hub are kept in a ContextVar of that
hub, so a scope pushed in one thread or asyncio task is never visible in another, and leaving the
block restores exactly what was there before.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextvars import ContextVar, Token
from time import time
from types import TracebackType

from ._log import logger, report_internal_error
from .scope import Scope

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False


if TYPE_CHECKING:
    from typing import Any, TypeVar

    from .client import Client
    from .integrations import Integration
    from .types import Breadcrumb, BreadcrumbHint, Event, ExcInfo, Hint

    _T = TypeVar("_T")


_LEVELS = frozenset(("fatal", "error", "warning", "info", "debug"))


class _Layer:
    """One (client, scope) entry of a hub's stack; for a pushed one, also the ``with`` block popping it.

    Mutable, so that binding a client keeps the layer's identity (leaving ``with push_scope()``
    pops by it). ``owner`` is the asyncio task that made the layer, or ``None`` outside tasks.
    """

    __slots__ = ("client", "hub", "owner", "scope", "token")

    def __init__(self, client: Client | None, scope: Scope, owner: object) -> None:
        self.client = client
        self.scope = scope
        self.owner = owner
        self.hub: Hub | None = None
        self.token: Token[tuple[_Layer, ...]] | None = None

    def __enter__(self) -> Scope:
        return self.scope

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        hub, token = self.hub, self.token
        if hub is None or token is None:
            return
        if hub._pushed.get()[-1:] == (self,):
            try:
                hub._pushed.reset(token)
                return
            except ValueError:  # the token belongs to another context (a copied one)
                pass
        hub._pop_layer(self)


# What ``push_scope()`` returns, under the name earlier versions of this module used.
_ScopeManager = _Layer


class _HubMeta(type):
    @property
    def current(cls) -> Hub:
        """The hub of the calling thread or task (created from the main hub on first use)."""
        rv = _current_hub.get(None)
        if rv is None:
            rv = Hub(GLOBAL_HUB)
            _current_hub.set(rv)
        return rv

    @property
    def main(cls) -> Hub:
        """The hub of the main thread; new threads start from a copy of it."""
        return GLOBAL_HUB


class Hub(metaclass=_HubMeta):
    """A client and a stack of scopes. ``Hub(hub)`` clones a hub; ``Hub(client)`` starts a new one."""

    def __init__(self, client_or_hub: Client | Hub | None = None, scope: Scope | None = None) -> None:
        if isinstance(client_or_hub, Hub):
            client = client_or_hub.client
            if scope is None:
                scope = client_or_hub.scope.copy()
        else:
            client = client_or_hub
        # The bottom layer is shared by every thread and task using this hub (binding a client
        # to the main hub must reach threads started later); pushed layers are per context.
        self._base: _Layer = _Layer(client, scope if scope is not None else Scope(), None)
        self._pushed: ContextVar[tuple[_Layer, ...]] = ContextVar("sentry_hub_layers", default=())
        self._activations: list[Token[Hub | None]] = []
        self._last_event_id: str | None = None

    # -- the stack ----------------------------------------------------------------------------

    @property
    def client(self) -> Client | None:
        """The client of the top layer, or ``None`` when no client is bound."""
        pushed = self._pushed.get()
        return (pushed[-1] if pushed else self._base).client

    @property
    def scope(self) -> Scope:
        """The scope of the top layer (this task's own copy, when called inside an asyncio task)."""
        return self._writable_layer().scope

    def _stack_layer(self) -> _Layer:
        pushed = self._pushed.get()
        return pushed[-1] if pushed else self._base

    def _writable_layer(self) -> _Layer:
        """The top layer, first copied into this asyncio task's context if another task owns it.

        Tasks inherit their creator's context, so without this a task that sets a tag without
        pushing a scope would change the scope every other task shares.
        """
        pushed = self._pushed.get()
        top = pushed[-1] if pushed else self._base
        task = _current_task()
        if task is None or top.owner is task:
            return top
        layer = _Layer(top.client, top.scope.copy(), task)
        self._pushed.set((*pushed, layer))
        return layer

    def bind_client(self, client: Client | None) -> None:
        """Bind ``client`` to the top layer."""
        # In place, even in a layer another task shares: binding a client is process-wide news.
        pushed = self._pushed.get()
        (pushed[-1] if pushed else self._base).client = client

    def push_scope(self, callback: Callable[[Scope], None] | None = None) -> _ScopeManager | None:
        """Push a copy of the top scope.

        Without a callback, returns a context manager that pops it. With one, runs
        ``callback(scope)`` on the new scope and pops it again (so it also works as a decorator).
        """
        pushed = self._pushed.get()
        top = pushed[-1] if pushed else self._base
        layer = _Layer(top.client, top.scope.copy(), _current_task() if "asyncio" in sys.modules else None)
        layer.hub = self
        layer.token = self._pushed.set((*pushed, layer))
        if callback is None:
            return layer
        with layer as scope:
            try:
                callback(scope)
            except Exception:
                logger.error("push_scope callback raised", exc_info=True)
        return None

    def _pop_layer(self, layer: _Layer) -> None:
        pushed = self._pushed.get()
        if pushed and pushed[-1] is layer:
            self._pushed.set(pushed[:-1])
            return
        logger.warning("push_scope blocks were left out of order; popping by identity")
        self._pushed.set(tuple(item for item in pushed if item is not layer))

    def pop_scope_unsafe(self) -> tuple[Client | None, Scope] | None:
        """Pop the top layer pushed on this hub; returns its ``(client, scope)``, or ``None``."""
        pushed = self._pushed.get()
        if not pushed:
            logger.warning("pop_scope_unsafe called with no pushed scope")
            return None
        self._pushed.set(pushed[:-1])
        return pushed[-1].client, pushed[-1].scope

    def configure_scope(self, callback: Callable[[Scope], None] | None = None) -> Any:
        """Change the top scope.

        With a callback (or as a decorator), calls ``callback(scope)``, but only when a client is
        bound. Without, returns a context manager yielding the scope (a throw-away one when no
        client is bound, so that unconfigured programs collect nothing).
        """
        client = self._stack_layer().client
        if client is None:
            return None if callback is not None else _yield_scope(Scope())
        scope = self._writable_layer().scope
        if callback is not None:
            try:
                callback(scope)
            except Exception:
                logger.error("configure_scope callback raised", exc_info=True)
            return None
        return _yield_scope(scope)

    # -- activation ---------------------------------------------------------------------------

    def __enter__(self) -> Hub:
        self._activations.append(_current_hub.set(self))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        token = self._activations.pop()
        try:
            _current_hub.reset(token)
        except ValueError:
            _current_hub.set(token.old_value if token.old_value is not Token.MISSING else None)

    def run(self, callback: Callable[[], _T]) -> _T:
        """Call ``callback()`` with this hub as the current one."""
        with self:
            return callback()

    # -- capturing ----------------------------------------------------------------------------

    def capture_event(self, event: Event, hint: Hint | None = None, scope: Scope | None = None) -> str | None:
        """Send a ready-made event dict through the client's pipeline; returns its id or ``None``."""
        layer = self._stack_layer()
        client, top = layer.client, layer.scope
        if client is None:
            return None
        try:
            event_id = client.capture_event(event, hint, scope=scope or top)
        except Exception:
            report_internal_error()
            return None
        if event_id is not None:
            self._last_event_id = event_id
        return event_id

    def capture_message(
        self, message: str, level: str | None = None, scope: Scope | None = None
    ) -> str | None:
        """Send a message event at ``level`` (default ``"info"``)."""
        if self.client is None:
            return None
        if level is not None and level not in _LEVELS:
            logger.warning("unknown level %r for capture_message; using 'info'", level)
            level = None
        return self.capture_event({"message": message, "level": level or "info"}, None, scope)

    def capture_exception(
        self, error: BaseException | ExcInfo | None = None, scope: Scope | None = None
    ) -> str | None:
        """Send an exception (or an ``exc_info`` tuple, or the one being handled)."""
        client = self.client
        if client is None:
            return None
        try:
            from ._exceptions import event_from_exception, exc_info_from_error

            exc_info = exc_info_from_error(error) if error is not None else sys.exc_info()
            if exc_info[1] is None:
                return None
            event, hint = event_from_exception(exc_info, options=client.options)
        except Exception:
            report_internal_error()
            return None
        return self.capture_event(event, hint, scope)

    def add_breadcrumb(
        self,
        crumb: Breadcrumb | Callable[[], Breadcrumb] | None = None,
        hint: BreadcrumbHint | None = None,
        **kwargs: Any,
    ) -> None:
        """Record a breadcrumb on the top scope. A callable is called (only when a client is bound)."""
        self._add_breadcrumb(crumb, hint, kwargs)

    def _add_breadcrumb(
        self,
        crumb: Breadcrumb | Callable[[], Breadcrumb] | None,
        hint: BreadcrumbHint | None,
        kwargs: dict[str, Any],
    ) -> None:
        # A hot path, kept to one call for the common case: the top layer is looked up once and
        # copied only inside a task that does not own it.
        pushed = self._pushed.get()
        layer = pushed[-1] if pushed else self._base
        client = layer.client
        if client is None:
            return
        if (layer.owner is not None or "asyncio" in sys.modules) and layer.owner is not _current_task():
            layer = self._writable_layer()
        try:
            options = client.options
            if crumb is None and kwargs and options["before_breadcrumb"] is None:
                # add_breadcrumb(message=..., category=...) with no user code to run: finished
                # here (the client does the same for the general case).
                if "timestamp" not in kwargs:
                    kwargs["timestamp"] = time()
                if "type" not in kwargs:
                    kwargs["type"] = "default"
                max_breadcrumbs = options["max_breadcrumbs"]
                if max_breadcrumbs:
                    layer.scope.add_breadcrumb_raw(kwargs, max_breadcrumbs)
                return
            client.add_breadcrumb(layer.scope, crumb, hint, kwargs)
        except Exception:
            report_internal_error()

    def last_event_id(self) -> str | None:
        """The id of the last event this hub sent."""
        return self._last_event_id

    def flush(
        self, timeout: float | None = None, callback: Callable[[int, float], None] | None = None
    ) -> None:
        """Wait up to ``timeout`` seconds for pending events to be sent."""
        client = self.client
        if client is not None:
            client.flush(timeout=timeout, callback=callback)

    def get_integration(self, name_or_class: str | type[Integration]) -> Integration | None:
        """The bound client's integration of that identifier or class, if it is enabled."""
        client = self.client
        return client.get_integration(name_or_class) if client is not None else None


def _current_task() -> object:
    """The running asyncio task, or None; never imports asyncio (no loop can run without it)."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return None
    loop = asyncio._get_running_loop()
    return asyncio.current_task(loop) if loop is not None else None


class _yield_scope:  # noqa: N801 - behaves as the generator function it replaces
    """``with configure_scope() as scope:`` hands out the scope and does nothing on exit."""

    __slots__ = ("_scope",)

    def __init__(self, scope: Scope) -> None:
        self._scope = scope

    def __enter__(self) -> Scope:
        return self._scope

    def __exit__(self, *exc: object) -> None:
        return None


GLOBAL_HUB = Hub()
_current_hub: ContextVar[Hub | None] = ContextVar("sentry_current_hub", default=None)
# The importing thread (normally the main one) works on the main hub directly.
_current_hub.set(GLOBAL_HUB)

__all__ = ["GLOBAL_HUB", "Hub"]
