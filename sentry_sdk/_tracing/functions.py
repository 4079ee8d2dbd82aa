"""Function spans: the ``@trace`` decorator's wrapping, and ``functions_to_trace`` at ``init``.

A wrapped function (sync or async) runs in a child span of whatever span is running when it is
called (op ``function``, description its qualified name), and does nothing more when none is.
``functions_to_trace=[{"qualified_name": "module.function"}, {"qualified_name":
"module.Class.method"}]`` wraps those in place when the client is made: the module is imported,
the attribute replaced; a name that cannot be found is logged (debug) and skipped, never raised.
"""

from __future__ import annotations

import functools
import importlib
import inspect

from .._log import logger
from . import context as _ctx

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any, TypeVar

    from .spans import Span

    _F = TypeVar("_F", bound=Callable[..., Any])

__all__ = ["instrument", "wrap"]

_WRAPPED = "__sentry_traced__"


def _qualified_name(function: Callable[..., Any]) -> str:
    module = getattr(function, "__module__", None)
    name = getattr(function, "__qualname__", None) or getattr(function, "__name__", repr(function))
    return f"{module}.{name}" if module else str(name)


def wrap(function: _F, op: str | None, name: str | None, attributes: dict[str, Any] | None) -> _F:
    """``function`` run in a child span of the running span, if any, at each call."""
    description = name or _qualified_name(function)
    span_op = op or "function"

    def child() -> Span | None:
        parent: Span | None = _ctx.current_span()
        if parent is None:
            return None
        span = parent.start_child(op=span_op, name=description, origin="manual")
        if attributes:
            span.update_data(attributes)
        return span

    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def traced_async(*args: Any, **kwargs: Any) -> Any:
            span = child()
            if span is None:
                return await function(*args, **kwargs)
            with span:
                return await function(*args, **kwargs)

        setattr(traced_async, _WRAPPED, True)
        return traced_async  # type: ignore[return-value]

    @functools.wraps(function)
    def traced(*args: Any, **kwargs: Any) -> Any:
        span = child()
        if span is None:
            return function(*args, **kwargs)
        with span:
            return function(*args, **kwargs)

    setattr(traced, _WRAPPED, True)
    return traced  # type: ignore[return-value]


def instrument(functions: Iterable[Mapping[str, Any]]) -> None:
    """Wrap each ``{"qualified_name": ...}`` of ``functions_to_trace`` where it is defined."""
    for spec in functions:
        qualified = str(spec.get("qualified_name") or "")
        try:
            _instrument_one(qualified)
        except Exception as exc:  # a typo or a module that fails to import must not break init
            logger.debug("functions_to_trace: %r not traced: %s: %s", qualified, type(exc).__name__, exc)


def _instrument_one(qualified: str) -> None:
    parts = qualified.split(".")
    # The longest importable prefix is the module; the rest are attributes (a class, then a method).
    for cut in range(len(parts) - 1, 0, -1):
        try:
            owner: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        break
    else:
        raise ImportError(f"no module of {qualified!r} can be imported")
    for attribute in parts[cut:-1]:
        owner = getattr(owner, attribute)
    name = parts[-1]
    raw = inspect.getattr_static(owner, name)
    if getattr(getattr(raw, "__func__", raw), _WRAPPED, False):
        return  # traced already (a second init)
    if isinstance(raw, staticmethod):
        setattr(owner, name, staticmethod(wrap(raw.__func__, None, qualified, None)))
    elif isinstance(raw, classmethod):
        setattr(owner, name, classmethod(wrap(raw.__func__, None, qualified, None)))
    elif callable(raw):
        setattr(owner, name, wrap(raw, None, qualified, None))
    else:
        raise TypeError(f"{qualified!r} is not a function")
