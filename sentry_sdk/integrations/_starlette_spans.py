"""Starlette's (and FastAPI's) middleware stack in a request's transaction: a span per layer.

With tracing on and the integration's ``middleware_spans``, each middleware a request goes through
is a ``middleware.starlette`` span named after the middleware's class (``ServerErrorMiddleware``,
the app's own, ``ExceptionMiddleware``, and FastAPI's layers), tagged ``starlette.middleware_name``,
origin ``auto.http.starlette``, nested as the stack nests them, so the endpoint's spans are under
the innermost one. The ``receive`` and ``send`` calls a middleware makes are its
``middleware.starlette.receive`` and ``middleware.starlette.send`` children, named after the
callable called (its ``__qualname__``).

How: ``ServerErrorMiddleware`` is the outermost layer of every Starlette and FastAPI app. Its
``__call__`` is patched; on its first traced call it walks the stack below it (each layer's
``app``, down to the router) and patches the ``__call__`` of each layer's class, once per class.
So stacks built before ``init`` are covered, no app is rebuilt, and every layer keeps its type
(code that looks for a middleware in a built stack still finds it). A layer that does not keep the
next one as ``app`` ends the walk (the layers below it have no spans), and so does a middleware
that is not a class with an ``async def __call__`` (a factory returning a function).

Spans are made only under a running, sampled span that has not ended: with tracing off, each
layer costs one look at the current span.
"""

from __future__ import annotations

import inspect
from contextvars import ContextVar
from weakref import WeakSet

from .._log import report_internal_error
from ..api import get_client, get_current_span
from ..consts import OP

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping
    from typing import Any

    from .._tracing.spans import Span

__all__ = ["patch_middleware_spans"]

ORIGIN = "auto.http.starlette"
TAG = "starlette.middleware_name"
_OURS = "_sentry_middleware_span"  # marks a __call__ of ours, so that a class is patched once
_MAX_DEPTH = 64  # layers walked at most: a strange stack never makes the walk endless

# The outermost layers whose stacks were walked (weakly: apps come and go in tests).
_walked: WeakSet[Any] = WeakSet()
# The layer whose span runs in this context: a subclass's __call__ calling its parent's (both
# patched) makes one span, not two.
_layer: ContextVar[Any] = ContextVar("sentry_starlette_layer", default=None)


def patch_middleware_spans() -> None:
    """Patch ``ServerErrorMiddleware``, from which the rest of each app's stack is patched."""
    from starlette.middleware.errors import ServerErrorMiddleware

    _patch_layer_class(ServerErrorMiddleware, walks=True)


def _running_parent() -> Span | None:
    parent = get_current_span()
    if parent is None or not parent.sampled or parent.timestamp is not None:
        return None
    return parent


def _enabled() -> bool:
    client = get_client()
    # Starlette's options, else FastAPI's when it is enabled alone (as for the rest of Starlette's).
    integration = client.get_integration("starlette") or client.get_integration("fastapi")
    return bool(getattr(integration, "middleware_spans", False))


def _patch_layer_class(cls: type[Any], walks: bool = False) -> None:
    call = getattr(cls, "__call__", None)  # noqa: B004 - the class's own (or inherited) method
    if call is None or getattr(call, _OURS, False) or not inspect.iscoroutinefunction(call):
        return

    async def sentry_middleware_call(
        self: Any, scope: MutableMapping[str, Any], receive: Any, send: Any
    ) -> Any:
        # The current span first: an untraced request pays for this look and nothing more.
        running = get_current_span() is not None
        span = _layer_span(self, walks) if running and _layer.get() is not self else None
        if span is None:
            return await call(self, scope, receive, send)
        name = type(self).__name__
        token = _layer.set(self)
        try:
            with span:
                return await call(
                    self,
                    scope,
                    _timed(receive, OP.MIDDLEWARE_STARLETTE_RECEIVE, name),
                    _timed(send, OP.MIDDLEWARE_STARLETTE_SEND, name),
                )
        finally:
            _layer.reset(token)

    setattr(sentry_middleware_call, _OURS, True)
    sentry_middleware_call.__wrapped__ = call  # type: ignore[attr-defined]
    try:
        cls.__call__ = sentry_middleware_call
    except (TypeError, AttributeError):  # a class that cannot be patched: no spans for it
        pass


def _layer_span(layer: Any, walks: bool) -> Span | None:
    parent = _running_parent()
    if parent is None:
        return None
    try:
        if not _enabled():
            return None
        if walks:
            _walk_once(layer)
        name = type(layer).__name__
        span = parent.start_child(op=OP.MIDDLEWARE_STARLETTE, name=name, origin=ORIGIN)
        span.set_tag(TAG, name)
        return span
    except Exception:
        report_internal_error()
        return None


def _walk_once(top: Any) -> None:
    """Patch the classes of the layers under ``top``, the first time it runs traced."""
    try:
        if top in _walked:
            return
        _walked.add(top)
    except TypeError:  # unhashable: walked each time (each class is patched once all the same)
        pass
    from starlette.applications import Starlette
    from starlette.routing import Router

    layer = getattr(top, "app", None)
    for _ in range(_MAX_DEPTH):
        if layer is None or isinstance(layer, (Router, Starlette)):
            return
        _patch_layer_class(type(layer))
        layer = getattr(layer, "app", None)


def _callable_name(function: Any, default: str) -> str:
    try:
        name = getattr(function, "__qualname__", None)
        return name if isinstance(name, str) else type(function).__qualname__
    except Exception:  # an object whose attributes raise: its span keeps a plain name
        return default


def _timed(
    function: Callable[..., Awaitable[Any]], op: str, middleware: str
) -> Callable[..., Awaitable[Any]]:
    """``receive`` or ``send`` as the middleware got it, each call in a span under the running one."""
    description = _callable_name(function, op.rpartition(".")[2])

    async def sentry_timed(*args: Any, **kwargs: Any) -> Any:
        span = _io_span(op, description, middleware)
        if span is None:
            return await function(*args, **kwargs)
        with span:
            return await function(*args, **kwargs)

    # The next layer in names its own span after what it calls: the function wrapped, not this.
    sentry_timed.__qualname__ = description
    return sentry_timed


def _io_span(op: str, description: str, middleware: str) -> Span | None:
    parent = _running_parent()
    if parent is None:
        return None
    try:
        span = parent.start_child(op=op, name=description, origin=ORIGIN)
        span.set_tag(TAG, middleware)
        return span
    except Exception:
        report_internal_error()
        return None
