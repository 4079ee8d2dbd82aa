"""What Django does inside a traced request, as spans of the request's transaction.

With tracing on, the ``http.server`` transaction of a Django request holds, as with sentry-sdk:

* ``middleware.django`` (``middleware_spans``): the call of each middleware of ``MIDDLEWARE``,
  named after its dotted path and the method (``"django.contrib.sessions.middleware.
  SessionMiddleware.__call__"``), tagged ``django.middleware_name`` (the path) and
  ``django.function_name`` (the function that ran), nested as Django nests them. The hooks Django
  calls itself are spans of their own, named likewise: ``process_view``,
  ``process_template_response``, ``process_exception``. (A ``MiddlewareMixin`` middleware's
  ``process_request`` and ``process_response`` are called by its own ``__call__``: their time is
  in that span.)
* ``view.render`` (``middleware_spans`` too, as sentry-sdk since 2.48): the view, named after its
  URL's view name (the URL's ``name``, else the view's dotted path: ``"myapp.views.item"``).
* ``view.response.render``: a ``TemplateResponse`` rendered once the view returned (``"serialize
  response"``), and ``template.render``: each rendering of a Django template
  (``Template.render``: ``render()``, ``render_to_string()``, ``TemplateResponse``), named after the
  template (data ``template.name``); a template rendered inside another one (``{% include %}``) is
  part of the outer one's span.
* ``event.django`` (``signals_spans``): each receiver that ``Signal.send``, ``send_robust`` (and
  their async twins) run, named after the receiver (``"myapp.signals.on_save"``), except receivers
  of the signals in ``signals_denylist`` and the SDK's own. ``send`` still returns the receivers
  that were connected.
* ``cache.get`` / ``cache.put`` (``cache_spans``): ``get``, ``get_many``, ``set`` and ``set_many``
  of each cache Django creates once the SDK is set up (``caches`` makes them at first use, in
  each thread), named after the key(s), data ``cache.key`` (the keys), ``cache.hit`` and
  ``cache.item_size`` (for text and bytes), origin ``auto.cache.django``.
* ``db`` ``COMMIT`` / ``ROLLBACK`` (``db_transaction_spans``): a connection committing or rolling
  back (the end of an ``atomic()`` block) through ``BaseDatabaseWrapper._commit``/``_rollback``
  (Oracle's backend commits through its own ``_commit``: no span), origin ``auto.db.django``.

Spans are made only under a running, sampled span that has not ended: with tracing off, or outside
a request, each hook costs one look at the current span.

Middleware are instrumented where Django loads them: ``BaseHandler.load_middleware`` gets each
factory of ``MIDDLEWARE`` from the ``import_string`` of ``django.core.handlers.base``, which hands
out the factory wrapped; what the factory builds is wrapped in turn (the same kind, sync or async,
with the same hooks). A handler that loaded its middleware before the SDK was set up has no
middleware spans: ``init`` in ``settings.py`` runs before ``get_wsgi_application()`` and
``get_asgi_application()`` build theirs, and the test clients load theirs at their first request.
"""

from __future__ import annotations

import functools
from types import MethodType

from ..._log import report_internal_error
from ...api import get_client, get_current_span
from ...consts import OP, SPANDATA

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any

    from ..._tracing.spans import Span

__all__ = [
    "patch_cache",
    "patch_database",
    "patch_handler",
    "patch_signals",
    "patch_template",
    "patch_template_response",
]

ORIGIN = "auto.http.django"
ORIGIN_CACHE = "auto.cache.django"
ORIGIN_DB = "auto.db.django"
IDENTIFIER = "django"  # the integration, found by its identifier (its class would be an import cycle)
_HOOKS = ("process_view", "process_template_response", "process_exception")
_UNNAMED_TEMPLATE = "<unknown source>"  # Django's own name for a template made from a string


def _parent(option: str | None) -> Span | None:
    """The span to start a child of: the running one, when it is recorded and ``option`` is on."""
    parent = get_current_span()
    if parent is None or not parent.sampled or parent.timestamp is not None:
        return None
    integration = get_client().get_integration(IDENTIFIER)
    if integration is None or (option is not None and not getattr(integration, option, False)):
        return None
    return parent


def _child(option: str | None, op: str, name: str, origin: str = ORIGIN) -> Span | None:
    try:
        parent = _parent(option)
        return parent.start_child(op=op, name=name, origin=origin) if parent is not None else None
    except Exception:
        report_internal_error()
        return None


def _qualified_name(obj: Any) -> str:
    """``module.qualname`` of a function, a method (its function) or a callable object (its class)."""
    function = getattr(obj, "__func__", obj)
    name = getattr(function, "__qualname__", None) or getattr(function, "__name__", None)
    if not isinstance(name, str):
        function = type(obj)
        name = function.__qualname__
    module = getattr(function, "__module__", None)
    return f"{module}.{name}" if isinstance(module, str) and module else name


def _is_async(function: Any) -> bool:
    """Whether Django calls ``function`` as a coroutine function (asked when wrapping, not per call)."""
    # asgiref's test, as Django's: it also knows the objects marked as coroutine functions (an
    # async-capable MiddlewareMixin marks itself).
    check: Callable[[Any], bool]
    try:
        from asgiref.sync import iscoroutinefunction as check
    except ImportError:  # asgiref older than 3.6 (Django 3.2 and 4.0)
        from asyncio import iscoroutinefunction as check
    return bool(check(function))


# -- middleware and the view ------------------------------------------------------------------------


def patch_handler(module: ModuleType) -> None:
    """Instrument the middleware ``BaseHandler`` loads and the view it calls."""
    original_import_string: Callable[[str], Any] = module.import_string

    def sentry_import_string(dotted_path: str) -> Any:
        factory = original_import_string(dotted_path)
        try:
            from django.conf import settings  # type: ignore[import-untyped]

            if dotted_path in settings.MIDDLEWARE:  # only what load_middleware asks for
                return _middleware_factory(dotted_path, factory)
        except Exception:
            report_internal_error()
        return factory

    module.import_string = sentry_import_string  # type: ignore[attr-defined]
    handler = module.BaseHandler
    original_make_view_atomic: Callable[[Any, Any], Any] = handler.make_view_atomic

    # Called for every request with the view about to run: the view is wrapped only in a traced
    # request, so that an untraced one pays for nothing.
    def sentry_make_view_atomic(self: Any, view: Any) -> Any:
        callback = original_make_view_atomic(self, view)
        if get_current_span() is None:
            return callback
        try:
            return _view(callback, view)
        except Exception:
            report_internal_error()
            return callback

    handler.make_view_atomic = sentry_make_view_atomic


def _middleware_factory(path: str, factory: Any) -> Any:
    if not callable(factory):
        return factory

    def sentry_middleware_factory(get_response: Any) -> Any:
        middleware = factory(get_response)  # MiddlewareNotUsed goes to Django, as it would
        if middleware is None:
            return None  # Django's ImproperlyConfigured
        try:
            return _instrumented(path, middleware)
        except Exception:
            report_internal_error()
            return middleware

    # Django reads them from the factory to pick the mode it calls the middleware in.
    for flag in ("sync_capable", "async_capable"):
        if hasattr(factory, flag):
            setattr(sentry_middleware_factory, flag, getattr(factory, flag))
    return sentry_middleware_factory


def _middleware_span(path: str, method: str, function: str) -> Span | None:
    span = _child("middleware_spans", OP.MIDDLEWARE_DJANGO, f"{path}.{method}")
    if span is not None:
        span.set_tag("django.function_name", function)
        span.set_tag("django.middleware_name", path)
    return span


def _instrumented(path: str, middleware: Any) -> Any:
    """``middleware`` (what a factory built) calling itself in its span; the hooks Django looks
    for on it are there, each in a span too."""
    function = _qualified_name(middleware if hasattr(middleware, "__code__") else type(middleware).__call__)
    wrapper: Any
    if _is_async(middleware):

        async def sentry_async_middleware(request: Any) -> Any:
            # Checked here first: an untraced request pays for this look and nothing more.
            span = _middleware_span(path, "__call__", function) if get_current_span() is not None else None
            if span is None:
                return await middleware(request)
            with span:
                return await middleware(request)

        wrapper = sentry_async_middleware
    else:

        def sentry_middleware(request: Any) -> Any:
            # Checked here first: an untraced request pays for this look and nothing more.
            span = _middleware_span(path, "__call__", function) if get_current_span() is not None else None
            if span is None:
                return middleware(request)
            with span:
                return middleware(request)

        wrapper = sentry_middleware
    for hook in _HOOKS:
        if hasattr(middleware, hook):
            setattr(wrapper, hook, _hook(path, hook, getattr(middleware, hook), middleware))
    return wrapper


def _hook(path: str, name: str, method: Any, middleware: Any) -> Any:
    """``method`` in a span, still a method of ``middleware``: Django names it by its ``__self__``."""
    if not callable(method):
        return method
    function = _qualified_name(method)
    if _is_async(method):

        async def sentry_async_hook(owner: Any, *args: Any, **kwargs: Any) -> Any:
            span = _middleware_span(path, name, function) if get_current_span() is not None else None
            if span is None:
                return await method(*args, **kwargs)
            with span:
                return await method(*args, **kwargs)

        return MethodType(sentry_async_hook, middleware)

    def sentry_hook(owner: Any, *args: Any, **kwargs: Any) -> Any:
        span = _middleware_span(path, name, function) if get_current_span() is not None else None
        if span is None:
            return method(*args, **kwargs)
        with span:
            return method(*args, **kwargs)

    return MethodType(sentry_hook, middleware)


def _view_span(request: Any, view: Any) -> Span | None:
    try:
        name = getattr(getattr(request, "resolver_match", None), "view_name", None)
        description = name if isinstance(name, str) else _qualified_name(view)
    except Exception:
        report_internal_error()
        return None
    return _child("middleware_spans", OP.VIEW_RENDER, description)


def _view(callback: Any, view: Any) -> Any:
    """``callback`` (the view, made atomic if asked) running in a ``view.render`` span; same kind."""
    if _is_async(callback):

        async def sentry_async_view(request: Any, *args: Any, **kwargs: Any) -> Any:
            span = _view_span(request, view)
            if span is None:
                return await callback(request, *args, **kwargs)
            with span:
                return await callback(request, *args, **kwargs)

        return sentry_async_view

    def sentry_view(request: Any, *args: Any, **kwargs: Any) -> Any:
        span = _view_span(request, view)
        if span is None:
            return callback(request, *args, **kwargs)
        with span:
            return callback(request, *args, **kwargs)

    return sentry_view


# -- templates ----------------------------------------------------------------------------------------


def patch_template(module: ModuleType) -> None:
    """``django.template.base.Template.render`` in a ``template.render`` span."""
    template = module.Template
    original_render: Callable[..., Any] = template.render

    def sentry_render(self: Any, *args: Any, **kwargs: Any) -> Any:
        span = _template_span(self) if get_current_span() is not None else None
        if span is None:
            return original_render(self, *args, **kwargs)
        with span:
            return original_render(self, *args, **kwargs)

    template.render = sentry_render


def _template_span(template: Any) -> Span | None:
    running = get_current_span()
    # An included template is rendered once per loop iteration: the including one's span covers
    # it, and a span each would crowd the request's other spans out of max_spans.
    if running is None or running.op == OP.TEMPLATE_RENDER:
        return None
    try:
        name = getattr(template, "name", None)
        span = _child(None, OP.TEMPLATE_RENDER, name if isinstance(name, str) else _UNNAMED_TEMPLATE)
        if span is not None and isinstance(name, str):
            span.set_data("template.name", name)
        return span
    except Exception:
        report_internal_error()
        return None


def patch_template_response(module: ModuleType) -> None:
    """``SimpleTemplateResponse.render`` (when it renders) in a ``view.response.render`` span."""
    response_class = module.SimpleTemplateResponse
    original_render: Callable[[Any], Any] = response_class.render

    def sentry_render(self: Any) -> Any:
        if get_current_span() is None or getattr(self, "_is_rendered", True):
            return original_render(self)  # untraced, or already rendered: render() does nothing
        span = _child(None, OP.VIEW_RESPONSE_RENDER, "serialize response")
        if span is None:
            return original_render(self)
        with span:
            return original_render(self)

    response_class.render = sentry_render


# -- signals ------------------------------------------------------------------------------------------


class _SpanningReceiver:
    """A receiver called in an ``event.django`` span: what ``_live_receivers`` gives ``send``.

    Django logs a failing receiver by its ``__qualname__``: it is the receiver's.
    """

    def __init__(self, receiver: Any, name: str, is_async: bool) -> None:
        self.receiver = receiver
        self.name = name
        self.is_async = is_async
        self.__qualname__ = getattr(receiver, "__qualname__", name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.is_async:
            return self._call_async(*args, **kwargs)
        span = _child("signals_spans", OP.EVENT_DJANGO, self.name)
        if span is None:
            return self.receiver(*args, **kwargs)
        with span:
            span.set_data("signal", self.name)
            return self.receiver(*args, **kwargs)

    async def _call_async(self, *args: Any, **kwargs: Any) -> Any:
        span = _child("signals_spans", OP.EVENT_DJANGO, self.name)
        if span is None:
            return await self.receiver(*args, **kwargs)
        with span:
            span.set_data("signal", self.name)
            return await self.receiver(*args, **kwargs)


def patch_signals(module: ModuleType) -> None:
    """Receivers of ``django.dispatch.Signal`` in spans; ``send`` and friends return the real ones."""
    signal = module.Signal
    original_live_receivers: Callable[..., Any] = signal._live_receivers

    def sentry_live_receivers(self: Any, *args: Any, **kwargs: Any) -> Any:
        live = original_live_receivers(self, *args, **kwargs)
        if get_current_span() is None:
            return live
        try:
            return _spanning_receivers(self, live)
        except Exception:
            report_internal_error()
            return live

    signal._live_receivers = sentry_live_receivers
    for name in ("send", "send_robust", "asend", "asend_robust"):
        method = getattr(signal, name, None)  # the async ones: Django 5.0+
        if method is not None:
            setattr(signal, name, _returning_real_receivers(method))


def _spanning_receivers(signal: Any, live: Any) -> Any:
    """``live`` (a list of receivers, or Django 5's sync and async lists) with the receivers to
    time wrapped; new lists, Django caches the ones it gives."""
    if _parent("signals_spans") is None:
        return live
    integration = get_client().get_integration(IDENTIFIER)
    if any(signal is denied for denied in getattr(integration, "signals_denylist", ())):
        return live
    if isinstance(live, tuple) and len(live) == 2:
        sync_receivers, async_receivers = live
        return [_spanning(r, False) for r in sync_receivers], [_spanning(r, True) for r in async_receivers]
    return [_spanning(r, False) for r in live]


def _spanning(receiver: Any, is_async: bool) -> Any:
    function = getattr(receiver, "__func__", receiver)
    module = getattr(function, "__module__", None)
    if isinstance(module, str) and (module == "sentry_sdk" or module.startswith("sentry_sdk.")):
        return receiver  # the SDK's own work is not the program's
    if isinstance(receiver, functools.partial):
        name = f"partial(<function {_qualified_name(receiver.func)}>)"
    else:
        name = _qualified_name(receiver)
    return _SpanningReceiver(receiver, name, is_async)


def _real_receivers(responses: list[Any]) -> list[Any]:
    """``send``'s ``[(receiver, response), ...]`` naming the receivers connected, not their wrappers."""
    try:
        return [(r.receiver if type(r) is _SpanningReceiver else r, value) for r, value in responses]
    except Exception:
        report_internal_error()
        return responses


def _has_wrappers(responses: Any) -> bool:
    # A plain loop: signals are sent many times a request, traced or not.
    if type(responses) is list:
        for pair in responses:
            if type(pair) is tuple and pair and type(pair[0]) is _SpanningReceiver:
                return True
    return False


def _returning_real_receivers(method: Callable[..., Any]) -> Callable[..., Any]:
    if _is_async(method):

        async def sentry_async_send(self: Any, *args: Any, **kwargs: Any) -> Any:
            responses = await method(self, *args, **kwargs)
            return _real_receivers(responses) if _has_wrappers(responses) else responses

        return functools.wraps(method)(sentry_async_send)

    def sentry_send(self: Any, *args: Any, **kwargs: Any) -> Any:
        responses = method(self, *args, **kwargs)
        return _real_receivers(responses) if _has_wrappers(responses) else responses

    return functools.wraps(method)(sentry_send)


# -- the cache ----------------------------------------------------------------------------------------

_CACHE_OPS = (OP.CACHE_GET, OP.CACHE_PUT)
_CACHE_METHODS = {
    "get": OP.CACHE_GET,
    "get_many": OP.CACHE_GET,
    "set": OP.CACHE_PUT,
    "set_many": OP.CACHE_PUT,
}


def patch_cache(module: ModuleType) -> None:
    """The caches ``django.core.cache.caches`` creates get their reads and writes in spans."""
    handler = module.CacheHandler
    original_create_connection: Callable[[Any, str], Any] = handler.create_connection

    def sentry_create_connection(self: Any, alias: str) -> Any:
        cache = original_create_connection(self, alias)
        try:
            for name, op in _CACHE_METHODS.items():
                method = getattr(cache, name, None)
                if callable(method):
                    setattr(cache, name, _cache_method(name, op, method))
        except Exception:
            report_internal_error()
        return cache

    handler.create_connection = sentry_create_connection


def _cache_method(name: str, op: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def sentry_cache_method(*args: Any, **kwargs: Any) -> Any:
        running = get_current_span()
        # A backend's get_many() calling its own get() is one read: the one the program made.
        if running is None or running.op in _CACHE_OPS:
            return method(*args, **kwargs)
        try:
            keys = _cache_keys(name, args, kwargs)
        except Exception:  # a key that cannot be made a string: Django will say so
            keys = None
        span = _child("cache_spans", op, ", ".join(keys), ORIGIN_CACHE) if keys is not None else None
        if span is None or keys is None:
            return method(*args, **kwargs)
        with span:
            value = method(*args, **kwargs)
            try:
                _cache_data(span, name, keys, args, kwargs, value)
            except Exception:
                report_internal_error()
            return value

    return sentry_cache_method


def _cache_keys(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[str] | None:
    parameter = {"get": "key", "set": "key", "get_many": "keys", "set_many": "data"}[name]
    found = args[0] if args else kwargs.get(parameter)
    if not name.endswith("_many"):
        return None if found is None else [str(found)]
    # Read only from a collection: reading an iterator would take the keys from the cache.
    if isinstance(found, (list, tuple, set, frozenset, dict)):
        return [str(key) for key in found]
    return None


def _cache_data(
    span: Span, name: str, keys: list[str], args: tuple[Any, ...], kwargs: dict[str, Any], value: Any
) -> None:
    span.set_data(SPANDATA.CACHE_KEY, keys)
    item: Any = None
    if name == "get":
        default = args[1] if len(args) > 1 else kwargs.get("default")
        hit = value is not default
        span.set_data(SPANDATA.CACHE_HIT, hit)
        item = value if hit else None
    elif name == "get_many":
        span.set_data(SPANDATA.CACHE_HIT, bool(value))
    elif name == "set":
        item = args[1] if len(args) > 1 else kwargs.get("value")
    if isinstance(item, (str, bytes)):
        span.set_data(SPANDATA.CACHE_ITEM_SIZE, len(item))


# -- database transactions ------------------------------------------------------------------------------


def patch_database(module: ModuleType) -> None:
    """``BaseDatabaseWrapper._commit`` and ``_rollback`` in ``db`` spans (``db_transaction_spans``)."""
    wrapper = module.BaseDatabaseWrapper
    for name, statement in (("_commit", "COMMIT"), ("_rollback", "ROLLBACK")):
        original = getattr(wrapper, name, None)
        if original is not None:
            setattr(wrapper, name, _transaction_end(original, statement))


def _transaction_end(original: Callable[..., Any], statement: str) -> Callable[..., Any]:
    @functools.wraps(original)
    def sentry_transaction_end(self: Any, *args: Any, **kwargs: Any) -> Any:
        if get_current_span() is None or getattr(self, "connection", None) is None:
            return original(self, *args, **kwargs)  # untraced, or nothing to end
        span = _child("db_transaction_spans", OP.DB, statement, ORIGIN_DB)
        if span is None:
            return original(self, *args, **kwargs)
        with span:
            try:
                _db_data(span, self, statement)
            except Exception:
                report_internal_error()
            return original(self, *args, **kwargs)

    return sentry_transaction_end


def _db_data(span: Span, connection: Any, statement: str) -> None:
    span.set_data(SPANDATA.DB_OPERATION, statement)
    vendor = getattr(connection, "vendor", None)
    if isinstance(vendor, str):
        span.set_data(SPANDATA.DB_SYSTEM, vendor)
    settings = getattr(connection, "settings_dict", None) or {}
    for key, data in (("NAME", SPANDATA.DB_NAME), ("HOST", SPANDATA.SERVER_ADDRESS)):
        value = settings.get(key)
        if isinstance(value, str) and value:
            span.set_data(data, value)
    port = settings.get("PORT")
    if port:
        span.set_data(SPANDATA.SERVER_PORT, int(port) if str(port).isdigit() else str(port))
