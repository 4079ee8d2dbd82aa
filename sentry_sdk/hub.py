"""The hub: a stack of scopes per thread or task, and the one model both APIs are views of.

Each layer of a hub's stack holds two scopes: the *current* scope and the *isolation* scope. The
global scope (``GLOBAL_SCOPE`` in :mod:`.scope`) sits below every stack. An event captured in a
context gets the data of the global, isolation and current scopes of the top layer, merged in that
order (later ones win), and is sent by the first client bound to the current, isolation or global
scope. ``init`` binds its client to the global scope.

The early API and the 2.x API are two ways of moving on this stack:

* ``push_scope()`` pushes a layer with copies of both scopes, so everything set inside the block
  (through either API) is gone when it ends; ``configure_scope()``, ``hub.scope`` and the module's
  ``set_tag``/``add_breadcrumb``/... write to the top isolation scope.
* ``new_scope()`` pushes a copy of the current scope only (the isolation scope is shared with the
  layer below), ``isolation_scope()`` copies both, ``use_scope(s)`` and ``use_isolation_scope(s)``
  push a given scope.

The layers pushed on a hub are kept in a ContextVar of that hub, so what one thread or asyncio
task pushes is never visible in another, and leaving a block restores exactly what was there
before. A thread that has never seen a hub gets a clone of the main hub; an asyncio task that
writes without pushing first gets its own copy of the top layer.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextvars import ContextVar, Token
from time import time
from types import TracebackType

from ._log import logger, report_internal_error
from ._typing import overload
from .scope import GLOBAL_SCOPE, Scope, _merged, _new_object

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False


if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from typing import Any, TypeVar

    from .client import Client
    from .integrations import Integration
    from .types import Breadcrumb, BreadcrumbHint, Event, ExcInfo, Hint

    _T = TypeVar("_T")


_LEVELS = frozenset(("fatal", "error", "warning", "info", "debug"))


class _Layer:
    """One entry of a hub's stack: a current and an isolation scope.

    A pushed layer is also the ``with`` block that pops it; ``given`` is the scope the block hands
    out. ``owner`` is the asyncio task that made the layer, or ``None`` outside tasks.

    ``push_scope()`` must not let changes to the current scope outlive the block, but most blocks
    never touch it: the layer then starts with the current scope of the layer below (``current``,
    read as is) and copies it only when something asks for it to write (``scope``).
    """

    __slots__ = ("current", "given", "hub", "inherited", "isolation", "owner", "token")

    def __init__(
        self,
        scope: Scope,
        isolation: Scope,
        owner: object,
        given: Scope | None = None,
        inherited: bool = False,
    ) -> None:
        self.current = scope
        self.inherited = inherited
        self.isolation = isolation
        self.owner = owner
        self.given = given if given is not None else isolation
        self.hub: Hub | None = None
        self.token: Token[tuple[_Layer, ...]] | None = None

    @property
    def scope(self) -> Scope:
        """The layer's own current scope, to write to."""
        if self.inherited:
            self.current = self.current.fork()
            self.inherited = False
        return self.current

    @scope.setter
    def scope(self, value: Scope) -> None:
        self.current = value
        self.inherited = False

    @property
    def client(self) -> Client | None:
        """The first client bound to the current, isolation or global scope."""
        client: Client | None = self.current._client or self.isolation._client or GLOBAL_SCOPE._client
        return client

    def __enter__(self) -> Scope:
        return self.given

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        hub, token = self.hub, self.token
        if hub is None or token is None:
            return
        pushed = hub._pushed.get()
        if pushed and pushed[-1] is self:
            try:
                hub._pushed.reset(token)
                return
            except ValueError:  # the token belongs to another context (a copied one)
                pass
        hub._pop_layer(self)


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
    """A stack of scopes. ``Hub(hub)`` clones a hub; ``Hub(client)`` starts one bound to ``client``."""

    def __init__(self, client_or_hub: Client | Hub | None = None, scope: Scope | None = None) -> None:
        if isinstance(client_or_hub, Hub):
            top = client_or_hub._stack_layer()
            current = top.current.fork()
            isolation = scope if scope is not None else top.isolation.fork()
        else:
            current = Scope("current", client=client_or_hub)
            isolation = scope if scope is not None else Scope("isolation")
        # The bottom layer is shared by every thread and task using this hub (a client bound to
        # the main hub must reach threads started later); pushed layers are per context.
        self._base = _Layer(current, isolation, None)
        self._pushed: ContextVar[tuple[_Layer, ...]] = ContextVar("sentry_hub_layers", default=())
        self._activations: list[Token[Hub | None]] = []

    # -- the stack ----------------------------------------------------------------------------

    @property
    def client(self) -> Client | None:
        """The client events captured here go to, or ``None`` when none is bound."""
        pushed = self._pushed.get()
        return (pushed[-1] if pushed else self._base).client

    @property
    def scope(self) -> Scope:
        """The scope of the top layer that ``configure_scope`` hands out (its isolation scope)."""
        return self._writable_layer().isolation

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
        if top.owner is None and "asyncio" not in sys.modules:
            return top  # no task can be running
        task = _current_task()
        if task is None or top.owner is task:
            return top
        layer = _Layer(top.current.fork(), top.isolation.fork(), task)
        self._pushed.set((*pushed, layer))
        return layer

    def bind_client(self, client: Client | None) -> None:
        """Bind ``client`` to the top layer (on the main hub's own layer: to the global scope).

        ``None`` unbinds it there; a client bound further down (globally, say) then applies again.
        """
        pushed = self._pushed.get()
        if not pushed and self is GLOBAL_HUB:
            GLOBAL_SCOPE.set_client(client)
            self._base.scope.set_client(None)
            self._base.isolation.set_client(None)
            return
        (pushed[-1] if pushed else self._base).scope.set_client(client)

    def _push(self, scope: Scope, isolation: Scope, given: Scope, inherited: bool = False) -> _Layer:
        pushed = self._pushed.get()
        owner = _current_task() if "asyncio" in sys.modules else None
        layer = _Layer(scope, isolation, owner, given, inherited)
        layer.hub = self
        layer.token = self._pushed.set((*pushed, layer))
        return layer

    @overload
    def push_scope(self, callback: None = None) -> AbstractContextManager[Scope]: ...

    @overload
    def push_scope(self, callback: Callable[[Scope], None]) -> None: ...

    def push_scope(
        self, callback: Callable[[Scope], None] | None = None
    ) -> AbstractContextManager[Scope] | None:
        """Push copies of both scopes; what the block sets is gone when it ends.

        Without a callback, returns a context manager that pops the layer. With one, runs
        ``callback(scope)`` on the new scope and pops it again (so it also works as a decorator).
        """
        # A hot path: what _push does, inlined.
        pushed = self._pushed.get()
        top = pushed[-1] if pushed else self._base
        isolation = top.isolation.__copy__()
        owner = _current_task() if "asyncio" in sys.modules else None
        # _Layer(top.current, isolation, owner, isolation, True), without running __init__'s frame.
        layer = _new_object(_Layer)
        layer.current = top.current
        layer.inherited = True
        layer.isolation = layer.given = isolation
        layer.owner = owner
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
        return pushed[-1].client, pushed[-1].isolation

    @overload
    def configure_scope(self, callback: None = None) -> AbstractContextManager[Scope]: ...

    @overload
    def configure_scope(self, callback: Callable[[Scope], None]) -> None: ...

    def configure_scope(
        self, callback: Callable[[Scope], None] | None = None
    ) -> AbstractContextManager[Scope] | None:
        """Change the top scope.

        With a callback (or as a decorator), calls ``callback(scope)``, but only when a client is
        bound. Without, returns a context manager yielding the scope (a throw-away one when no
        client is bound, so that unconfigured programs collect nothing).
        """
        if self._stack_layer().client is None:
            return None if callback is not None else _yield_scope(Scope())
        scope = self._writable_layer().isolation
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

    def capture_event(
        self, event: Event, hint: Hint | None = None, scope: Scope | None = None, **scope_kwargs: Any
    ) -> str | None:
        """Send a ready-made event dict through the client's pipeline; returns its id or ``None``."""
        return _capture(self, None, "event", (event, hint), scope, scope_kwargs)

    def capture_message(
        self, message: str, level: str | None = None, scope: Scope | None = None, **scope_kwargs: Any
    ) -> str | None:
        """Send a message event at ``level`` (default ``"info"``)."""
        return _capture(self, None, "message", (message, level), scope, scope_kwargs)

    def capture_exception(
        self, error: BaseException | ExcInfo | None = None, scope: Scope | None = None, **scope_kwargs: Any
    ) -> str | None:
        """Send an exception (or an ``exc_info`` tuple, or the one being handled)."""
        return _capture(self, None, "exception", (error,), scope, scope_kwargs)

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
        client = layer.current._client or layer.isolation._client or GLOBAL_SCOPE._client
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
                scope = layer.isolation
                crumbs = scope._breadcrumbs
                max_breadcrumbs = options["max_breadcrumbs"]
                if crumbs.maxlen == max_breadcrumbs and not scope._shared:
                    crumbs.append(kwargs)  # Scope.add_breadcrumb_raw's common case, one call less
                elif max_breadcrumbs:
                    scope.add_breadcrumb_raw(kwargs, max_breadcrumbs)
                return
            client.add_breadcrumb(layer.isolation, crumb, hint, kwargs)
        except Exception:
            report_internal_error()

    def last_event_id(self) -> str | None:
        """The id of the last event sent from this thread or task."""
        return self._stack_layer().isolation._last_event_id

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


def _capture(
    hub: Hub,
    on: Scope | None,
    kind: str,
    args: tuple[Any, ...],
    scope: Scope | None,
    scope_kwargs: dict[str, Any],
) -> str | None:
    """Capture through ``hub``'s top layer; ``on`` replaces its current scope (``Scope.capture_*``).

    The event gets the global, isolation and current scopes' data, then ``scope``'s, then the
    keyword arguments' (``tags=``, ``user=``, ...): later ones win.
    """
    try:
        layer = hub._writable_layer()
        current = on if on is not None else layer.current
        client = current._client or layer.client
        if client is None:
            return None
        event, hint = _make_event(client, kind, args)
        if event is None:
            return None
        merged = _merge_layer(client, layer, current, scope)
        if scope_kwargs:
            merged.update_from_kwargs(**scope_kwargs)
        event_id: str | None = client.capture_event(event, hint, scope=merged)
    except Exception:
        report_internal_error()
        return None
    if event_id is not None:
        layer.isolation._last_event_id = event_id
    return event_id


def _merge_layer(client: Client, layer: _Layer, current: Scope, scope: Scope | None) -> Scope:
    """The global, isolation, current scopes and ``scope`` merged for one event, later ones winning.

    The event's trace is the running span's, else the isolation scope's propagation context (made
    there on first use, so that the errors of one request or one thread share their trace).
    """
    seen: list[Scope] = []
    for candidate in (GLOBAL_SCOPE, layer.isolation, current, scope):
        if candidate is not None and not any(candidate is s for s in seen):
            seen.append(candidate)
    merged = _merged(iter(seen))
    if merged._propagation is None:
        merged._propagation = layer.isolation.get_propagation_context()
    max_breadcrumbs = client.options.get("max_breadcrumbs")
    if isinstance(max_breadcrumbs, int) and len(merged._breadcrumbs) > max_breadcrumbs:
        while len(merged._breadcrumbs) > max_breadcrumbs:
            merged._breadcrumbs.popleft()
    return merged


def capture_transaction(event: Event, on: Scope | None, transaction: Any) -> str | None:
    """Send a finished transaction's event with the data of the scopes it ran in."""
    try:
        hub = Hub.current
        layer = hub._writable_layer()
        current = on if on is not None else layer.current
        client = current._client or layer.client
        if client is None:
            return None
        merged = _merge_layer(client, layer, current, None)
        merged._span = transaction
        event_id: str | None = client.capture_event(event, {}, scope=merged)
    except Exception:
        report_internal_error()
        return None
    return event_id


def _make_event(client: Client, kind: str, args: tuple[Any, ...]) -> tuple[Event | None, Hint | None]:
    if kind == "event":
        event, hint = args
        return event, hint
    if kind == "message":
        message, level = args
        if level is not None and (type(level) is not str or level not in _LEVELS):
            from ._serializer import safe_repr

            logger.warning("unknown level %s for capture_message; using 'info'", safe_repr(level)[:100])
            level = None
        return {"message": message, "level": level or "info"}, None
    from ._exceptions import event_from_exception, exc_info_from_error

    (error,) = args
    exc_info = exc_info_from_error(error) if error is not None else sys.exc_info()
    if exc_info[1] is None:
        return None, None
    return event_from_exception(exc_info, options=client.options)


def _capture_with(
    on: Scope, kind: str, args: tuple[Any, ...], scope: Scope | None, scope_kwargs: dict[str, Any]
) -> str | None:
    """``Scope.capture_*``: capture in the calling context with ``on`` as the current scope."""
    return _capture(Hub.current, on, kind, args, scope, scope_kwargs)


def _current_task() -> object:
    """The running asyncio task, or None; never imports asyncio (no loop can run without it)."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return None
    loop = asyncio._get_running_loop()
    return asyncio.current_task(loop) if loop is not None else None


class ScopeReentry:
    """``with entry:``, as often as needed, runs each block in one isolation scope.

    For code that keeps coming back to a scope of its own, such as a web request's response
    iterated chunk by chunk: one layer is pushed again for each block, which costs a
    context-variable write instead of building a layer. ``block`` may be what
    ``isolation_scope()`` returned for that scope (the request's own block, already left): its
    layer is then the one pushed again. Blocks must not nest.
    """

    __slots__ = ("_hub", "_isolation", "_layer")

    def __init__(self, isolation: Scope, block: object = None) -> None:
        self._isolation = isolation
        reuse = type(block) is _Layer and block.isolation is isolation and block.hub is not None
        self._layer: _Layer | None = block if reuse else None  # type: ignore[assignment]
        self._hub: Hub | None = self._layer.hub if self._layer is not None else None

    def __enter__(self) -> Scope:
        hub = _current_hub.get() or Hub.current
        layer = self._layer
        if (
            layer is None
            or self._hub is not hub
            or ((layer.owner is not None or "asyncio" in sys.modules) and layer.owner is not _current_task())
        ):
            top = hub._writable_layer()
            layer = self._layer = hub._push(top.current, self._isolation, self._isolation, inherited=True)
            self._hub = hub
        else:
            layer.token = hub._pushed.set((*hub._pushed.get(), layer))
        return self._isolation

    def __exit__(self, *exc: object) -> None:
        layer = self._layer
        if layer is None:
            return
        hub, token = self._hub, layer.token
        if hub is not None and token is not None and hub._pushed.get()[-1:] == (layer,):
            try:
                hub._pushed.reset(token)
                return
            except ValueError:  # the token belongs to another context
                pass
        layer.__exit__(None, None, None)


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

__all__ = ["GLOBAL_HUB", "Hub", "ScopeReentry"]


def _install_tracing_context() -> None:
    from ._tracing import context

    context.install(
        current=lambda: Hub.current._writable_layer().scope,
        isolation=lambda: Hub.current._stack_layer().isolation,
        bound_client=lambda: Hub.current.client,
        send=capture_transaction,
        span=lambda: Hub.current._writable_layer().current._span,
    )


_install_tracing_context()
