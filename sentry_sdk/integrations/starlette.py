"""Starlette: every failed request of every Starlette (and FastAPI) app is reported, with its route.

Patched once, on the classes, so apps created before or after ``init`` are covered:

* ``Starlette.__call__`` runs each ``http``/``websocket`` connection through the shared ASGI
  runner: its own fork of the isolation scope in the request's own task, the body teed as the app
  receives it. An exception escaping the app is sent once as unhandled (mechanism ``starlette``);
  Starlette's ``ServerErrorMiddleware`` still answers with its 500 and re-raises as before.
* ``ExceptionMiddleware.__call__`` reports an unhandled exception from where it was raised, which
  matters when a ``BaseHTTPMiddleware`` runs the rest of the app in another task: the tags the
  endpoint set are on the event. The exception handlers it calls (Starlette's, FastAPI's, the
  user's; wrapped on its first call) report an ``HTTPException`` whose status is in
  ``failed_request_status_codes`` (500-599 by default) with ``handled: true``; others are not sent.
* ``Request``'s form parsing hands the parsed form to the request layer: form fields are on the
  event, uploaded files by name only, never their contents.

Naming (at event time, from the ASGI scope Starlette fills in): ``transaction_style="url"`` is the
route path (``"/items/{item_id}"``, mount prefixes included; source ``route``), ``"endpoint"`` the
endpoint's ``module.qualname`` (source ``component``). With ``send_default_pii``, the user that
``AuthenticationMiddleware`` put in the scope, if authenticated: ``id`` (its ``identity``) and
``username`` (its ``display_name``).

With tracing on, each request whose method is in ``http_methods_to_capture`` is an ``http.server``
transaction named like its events. With ``middleware_spans``, each layer of the app's middleware
stack is a ``middleware.starlette`` span in it, its ``receive`` and ``send`` calls its children
(see :mod:`._starlette_spans`).
"""

from __future__ import annotations

import inspect

from .._log import report_internal_error
from ..api import get_client
from . import DidNotEnable, Integration
from ._capture import capture_unhandled
from ._starlette_spans import patch_middleware_spans
from ._versions import parse_version
from ._web.asgi import AsgiRequest, asgi_content_length, endpoint_name, report_request_error, run_asgi
from ._web.body import body_data
from ._web.context import current_request
from ._web.options import (
    DEFAULT_FAILED_REQUEST_STATUS_CODES,
    DEFAULT_HTTP_METHODS_TO_CAPTURE,
    check_choice,
    check_methods,
    check_status_codes,
)

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, MutableMapping
    from typing import Any

    from ._web.asgi import Receive, Send

__all__ = ["StarletteIntegration"]

MINIMUM_VERSION = (0, 19, 1)
TRANSACTION_STYLES = ("endpoint", "url")
# Marks an exception handler already wrapped, and an ExceptionMiddleware whose handlers are.
_WRAPPED = "_sentry_wrapped"
_HANDLERS_WRAPPED = "_sentry_handlers_wrapped"

_patched = False
_upload_file: type[Any] | None = None  # starlette.datastructures.UploadFile, once set up


class StarletteIntegration(Integration):
    """Reports failed requests of every Starlette app; names events after the route.

    ``transaction_style``: ``"url"`` (the route path, source ``route``) or ``"endpoint"`` (the
    endpoint's ``module.qualname``, source ``component``). ``failed_request_status_codes``: the
    ``HTTPException`` statuses to report (500-599 by default). ``http_methods_to_capture``: the
    methods whose requests are transactions; ``middleware_spans``: a span for each middleware.
    """

    identifier = "starlette"

    def __init__(
        self,
        transaction_style: str = "url",
        failed_request_status_codes: Iterable[int] = DEFAULT_FAILED_REQUEST_STATUS_CODES,
        middleware_spans: bool = False,
        http_methods_to_capture: tuple[str, ...] = DEFAULT_HTTP_METHODS_TO_CAPTURE,
    ) -> None:
        name = type(self).__name__
        self.transaction_style = check_choice(
            name, "transaction_style", transaction_style, TRANSACTION_STYLES
        )
        self.failed_request_status_codes = check_status_codes(name, failed_request_status_codes)
        self.middleware_spans = bool(middleware_spans)
        self.http_methods_to_capture = check_methods(name, http_methods_to_capture)

    @staticmethod
    def setup_once() -> None:
        try:
            import starlette
        except ImportError:
            raise DidNotEnable("Starlette is not installed") from None
        version = str(getattr(starlette, "__version__", ""))
        if version and parse_version(version) < MINIMUM_VERSION:
            raise DidNotEnable(f"Starlette {version} found; 0.19.1 or newer is required")
        _patch()


def _active() -> StarletteIntegration | None:
    """The integration whose options apply: Starlette's, else FastAPI's when it is enabled alone."""
    client = get_client()
    integration = client.get_integration("starlette") or client.get_integration("fastapi")
    return integration if isinstance(integration, StarletteIntegration) else None


def _patch() -> None:
    """Install the patches (once per process, whichever of Starlette's and FastAPI's asks first)."""
    global _patched, _upload_file
    if _patched:
        return
    from starlette.applications import Starlette
    from starlette.datastructures import UploadFile
    from starlette.requests import Request

    try:
        from starlette.middleware.exceptions import ExceptionMiddleware
    except ImportError:  # Starlette before 0.20
        from starlette.exceptions import ExceptionMiddleware  # type: ignore[attr-defined,no-redef]

    _patched = True
    _upload_file = UploadFile
    _patch_app(Starlette)
    _patch_exception_middleware(ExceptionMiddleware)
    _patch_form(Request)
    patch_middleware_spans()


def _patch_app(starlette: type[Any]) -> None:
    original_call = starlette.__call__

    async def sentry_starlette_call(
        self: Any, scope: MutableMapping[str, Any], receive: Receive, send: Send
    ) -> None:
        integration = _active()
        if integration is None:
            await original_call(self, scope, receive, send)
            return
        prepare = _prepare_by_endpoint if integration.transaction_style == "endpoint" else _prepare_by_route
        await run_asgi(
            original_call.__get__(self),
            scope,
            receive,
            send,
            mechanism="starlette",
            integration=type(integration),
            prepare=prepare,
            framework_app=self,
        )

    sentry_starlette_call.__wrapped__ = original_call  # type: ignore[attr-defined]
    starlette.__call__ = sentry_starlette_call


# -- errors -----------------------------------------------------------------------------------------


def _patch_exception_middleware(middleware: type[Any]) -> None:
    original_call = middleware.__call__

    async def sentry_call(self: Any, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if not getattr(self, _HANDLERS_WRAPPED, False):
            # On the first call rather than in __init__: also covers a stack built before init.
            _wrap_handlers(self)
        try:
            await original_call(self, scope, receive, send)
        except Exception as exc:
            # Reported here, in the task that raised it: behind a BaseHTTPMiddleware that is not
            # the request's task, and what the endpoint set is only in this one's scope.
            request = current_request()
            if isinstance(request, AsgiRequest):
                integration = _active()
                if integration is not None:
                    await report_request_error(request, type(integration), exc, "starlette")
            raise

    middleware.__call__ = sentry_call


def _wrap_handlers(middleware: Any) -> None:
    """Make the middleware's exception handlers (by class and by status) report failed statuses."""
    try:
        setattr(middleware, _HANDLERS_WRAPPED, True)
        for attribute in ("_exception_handlers", "_status_handlers"):
            handlers = getattr(middleware, attribute, None)
            if isinstance(handlers, dict):
                for key, handler in handlers.items():
                    handlers[key] = _reporting_handler(handler)
    except Exception:
        report_internal_error()


def _is_async(handler: Any) -> bool:
    while hasattr(handler, "func") and not inspect.isfunction(handler):  # functools.partial
        handler = handler.func
    call = getattr(handler, "__call__", None)  # noqa: B004 - an object with an async __call__
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(call)


def _reporting_handler(handler: Any) -> Any:
    """``handler``, reporting the exceptions it handles whose status is a failed one; same kind
    (async or not), as Starlette decides how to call it from that."""
    if getattr(handler, _WRAPPED, False) or not callable(handler):
        return handler
    if _is_async(handler):

        async def sentry_async_handler(request: Any, exc: Exception) -> Any:
            _report_status(exc)
            return await handler(request, exc)

        wrapper: Any = sentry_async_handler
    else:

        def sentry_handler(request: Any, exc: Exception) -> Any:
            _report_status(exc)
            return handler(request, exc)

        wrapper = sentry_handler
    setattr(wrapper, _WRAPPED, True)
    return wrapper


def _report_status(exc: Exception) -> None:
    try:
        status = getattr(exc, "status_code", None)
        if not isinstance(status, int):
            return
        integration = _active()
        if integration is None or status not in integration.failed_request_status_codes:
            return
        request = current_request()
        if isinstance(request, AsgiRequest):
            if request.captured is exc:
                return
            request.captured = exc
        capture_unhandled(type(integration), exc, "starlette", handled=True)
    except Exception:
        report_internal_error()


# -- the body: Starlette's parsed form ---------------------------------------------------------------


def _patch_form(request_class: type[Any]) -> None:
    # Starlette 0.26+: form() hands back an awaitable wrapping _get_form(); before: form() itself.
    name = "_get_form" if hasattr(request_class, "_get_form") else "form"
    original = getattr(request_class, name)

    async def sentry_get_form(self: Any, *args: Any, **kwargs: Any) -> Any:
        form = await original(self, *args, **kwargs)
        try:
            request = current_request()
            if request is not None:
                request.body = _form_body(request, form)
        except Exception:
            report_internal_error()
        return form

    setattr(request_class, name, sentry_get_form)


def _form_body(request: Any, form: Any) -> Callable[[int | None], tuple[Any, dict[str, Any] | None]]:
    def body(limit: int | None) -> tuple[Any, dict[str, Any] | None]:
        fields: dict[str, Any] = {}
        files: dict[str, Any] = {}
        for key, value in form.multi_items():
            if _upload_file is not None and isinstance(value, _upload_file):
                files[key] = getattr(value, "filename", None)
            elif key in fields:
                previous = fields[key]
                fields[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
            else:
                fields[key] = value
        scope = request.asgi_scope or {}
        return body_data(None, None, asgi_content_length(scope), limit, form=fields, files=files)

    return body


# -- naming and the user, at event time ---------------------------------------------------------------


def _prepare_by_route(request: AsgiRequest) -> None:
    path = _route_path(request)
    if path is not None:
        request.name(path, "route")
    _prepare_user(request)


def _prepare_by_endpoint(request: AsgiRequest) -> None:
    endpoint = request.live.get("endpoint")
    name = endpoint_name(endpoint) if endpoint is not None else None
    if name:
        request.name(name, "component")
    _prepare_user(request)


def _route_path(request: AsgiRequest) -> str | None:
    """The matched route's path template, with the templates of the mounts it is under."""
    live = request.live
    route = live.get("route")
    if route is None:
        return None  # nothing matched (yet)
    routes = getattr(request.app, "routes", None) or ()
    if any(candidate is route for candidate in routes):
        path = getattr(route, "path", None)
        return path if isinstance(path, str) else None
    # Under a Mount (or a Host): match again from the top, as the router did, on the scope as it
    # arrived (routing rewrote root_path on the way down).
    from starlette.routing import Match

    probe = dict(request.arrived_scope())
    prefix = ""
    for _ in range(32):  # mounts nest; never loop forever on a strange router
        found = partial = None
        for candidate in routes:
            try:
                match, child = candidate.matches(probe)
            except Exception:
                continue
            if match is Match.FULL:
                found = (candidate, child)
                break
            if match is Match.PARTIAL and partial is None:
                partial = (candidate, child)
        found = found or partial
        if found is None:
            return None
        candidate, child = found
        inner = getattr(candidate, "routes", None)
        path = getattr(candidate, "path", None)
        if not inner:
            return prefix + path if isinstance(path, str) else None
        if isinstance(path, str):
            prefix += path
        probe.update(child)
        routes = inner
    return None


def _prepare_user(request: AsgiRequest) -> None:
    if "user" in request.live and request.user is None:
        request.user = _user_reader(request.live)


def _user_reader(scope: MutableMapping[str, Any]) -> Callable[[], dict[str, Any] | None]:
    def user() -> dict[str, Any] | None:
        found = scope.get("user")
        try:
            if found is None or not found.is_authenticated:
                return None
        except Exception:
            return None
        rv: dict[str, Any] = {}
        for key, attribute in (("id", "identity"), ("username", "display_name")):
            try:
                value = getattr(found, attribute)
            except Exception:  # BaseUser leaves them to subclasses (NotImplementedError)
                continue
            if value is not None and value != "":
                rv[key] = value if isinstance(value, (str, int)) else str(value)
        return rv or None

    return user
