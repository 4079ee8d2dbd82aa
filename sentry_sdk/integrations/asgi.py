"""ASGI: ``app = SentryAsgiMiddleware(app)`` reports what fails in any ASGI application.

Each ``http`` and ``websocket`` connection runs in its own fork of the isolation scope, inside its
own task; an exception escaping the application is sent as unhandled with mechanism ``asgi`` (or
``mechanism_type``), with the request's url, method, headers, query string and the body the
application received, then re-raised as it was. Lifespan messages pass straight through.

Events are named after the full URL without its query (``transaction_style="url"``, source
``url``), or after the endpoint a framework put in the scope (``"endpoint"``: the function's
``module.qualname``, source ``component``; the URL when there is none).
"""

from __future__ import annotations

import inspect

from ._web.asgi import endpoint_name, run_asgi
from ._web.options import DEFAULT_HTTP_METHODS_TO_CAPTURE, check_choice, check_methods
from ._web.request import request_from_asgi

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import MutableMapping
    from typing import Any

    from ._web.asgi import AsgiApp, AsgiRequest, Receive, Send

__all__ = ["SentryAsgiMiddleware"]

TRANSACTION_STYLES = ("endpoint", "url")


class SentryAsgiMiddleware:
    """Wraps an ASGI application (ASGI 3, or an ASGI 2 "double callable") so that its requests are
    isolated and its failures reported.

    ``unsafe_context_data`` is accepted for sentry-sdk compatibility: ContextVars are always
    available here, so there is nothing unsafe to allow. With tracing enabled, each request whose
    method is in ``http_methods_to_capture`` (and each websocket) is a transaction of origin
    ``span_origin``.
    """

    __slots__ = (
        "app",
        "http_methods_to_capture",
        "mechanism_type",
        "span_origin",
        "transaction_style",
        "unsafe_context_data",
        "_call",
        "_prepare",
    )

    def __init__(
        self,
        app: Any,
        unsafe_context_data: bool = False,
        transaction_style: str = "url",
        mechanism_type: str = "asgi",
        span_origin: str = "manual",
        http_methods_to_capture: tuple[str, ...] = DEFAULT_HTTP_METHODS_TO_CAPTURE,
    ) -> None:
        if not callable(app):
            raise TypeError(f"SentryAsgiMiddleware needs an ASGI application, got {app!r}")
        self.app = app
        self.unsafe_context_data = bool(unsafe_context_data)
        self.transaction_style = check_choice(
            "SentryAsgiMiddleware", "transaction_style", transaction_style, TRANSACTION_STYLES
        )
        self.mechanism_type = str(mechanism_type)
        self.span_origin = span_origin
        self.http_methods_to_capture = check_methods("SentryAsgiMiddleware", http_methods_to_capture)
        self._call: AsgiApp = _asgi2_adapter(app) if _is_asgi2(app) else app
        self._prepare = _name_by_endpoint if self.transaction_style == "endpoint" else _name_by_url

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        await run_asgi(
            self._call,
            scope,
            receive,
            send,
            mechanism=self.mechanism_type,
            prepare=self._prepare,
            span_origin=self.span_origin,
            http_methods_to_capture=self.http_methods_to_capture,
        )


def _is_asgi2(app: Any) -> bool:
    """Whether ``app`` is an ASGI 2 application: ``app(scope)`` returns ``instance(receive, send)``."""
    if inspect.isclass(app):
        return True
    call = app if inspect.isfunction(app) or inspect.ismethod(app) else getattr(app, "__call__", None)  # noqa: B004
    if call is None or inspect.iscoroutinefunction(call):
        return False
    try:
        parameters = inspect.signature(call).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) == 1 and not any(p.kind is p.VAR_POSITIONAL for p in parameters)


def _asgi2_adapter(app: Any) -> AsgiApp:
    async def asgi3(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        await app(scope)(receive, send)

    return asgi3


# -- naming, at event time ------------------------------------------------------------------------


def _name_by_url(request: AsgiRequest) -> None:
    scope = request.asgi_scope
    if scope is not None:
        request.name(request_from_asgi(scope, False)["url"], "url")


def _name_by_endpoint(request: AsgiRequest) -> None:
    endpoint = request.live.get("endpoint")
    name = endpoint_name(endpoint) if endpoint is not None else None
    if name:
        request.name(name, "component")
    else:
        _name_by_url(request)
