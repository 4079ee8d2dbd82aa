"""Django under ASGI: ``ASGIHandler.__call__`` and ``BaseHandler.get_response_async``.

Each ASGI request runs in its own fork of the isolation scope from the handler's entry on, so
Django's request signals, the view (async, or sync in Django's worker thread: ``sync_to_async``
copies the context, scope included) and the response's sending all see the request's scope, and
concurrent requests on one event loop never see each other's. The body is not teed: Django reads
it whole before the view runs, and events take it from Django's request. ``AsyncClient`` enters
at ``get_response_async``, which starts the request there when no handler did.
"""

from __future__ import annotations

from ..._log import report_internal_error
from ...api import get_client
from .._capture import capture_unhandled
from .._web.context import RequestContext, current_request, start_request
from .._web.tracing import begin_request_trace
from ._handlers import IDENTIFIER, MECHANISM, ORIGIN, enter, leave

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from types import ModuleType
    from typing import Any

__all__ = ["patch_asgi_handler", "patch_base_handler_async", "patch_get_response_async"]


def patch_base_handler_async(module: ModuleType) -> None:
    """Patch ``django.core.handlers.base.BaseHandler.get_response_async``."""
    patch_get_response_async(module.BaseHandler)


def patch_get_response_async(handler: type[Any]) -> None:
    """Patch ``BaseHandler.get_response_async``."""
    original: Callable[[Any, Any], Awaitable[Any]] = handler.get_response_async

    async def sentry_get_response_async(self: Any, request: Any) -> Any:
        entered = enter(request)
        if entered is None:
            return await original(self, request)
        response = None
        failed = False
        try:
            response = await original(self, request)
            return response
        except Exception as exc:
            failed = True
            capture_unhandled(IDENTIFIER, exc, MECHANISM)
            raise
        finally:
            leave(entered, response, failed)

    handler.get_response_async = sentry_get_response_async


def patch_asgi_handler(module: ModuleType) -> None:
    """Patch ``django.core.handlers.asgi.ASGIHandler.__call__``."""
    handler = module.ASGIHandler
    original: Callable[..., Awaitable[Any]] = handler.__call__

    async def sentry_asgi_call(self: Any, scope: Any, receive: Any, send: Any) -> Any:
        entered = None
        try:
            client = get_client()
            integration = client.get_integration(IDENTIFIER)
            if (
                isinstance(scope, dict)
                and scope.get("type") == "http"
                and current_request() is None
                and integration is not None
            ):
                context = RequestContext(asgi_scope=scope)
                context.integration = integration
                started = start_request(context)
                if started is not None:
                    trace = begin_request_trace(context, client.options, ORIGIN)
                    entered = started, trace
                    if trace is not None:
                        send = trace.asgi_send(send)
        except Exception:
            report_internal_error()
        if entered is None:
            return await original(self, scope, receive, send)
        failed = False
        try:
            return await original(self, scope, receive, send)
        except Exception as exc:
            failed = True
            capture_unhandled(IDENTIFIER, exc, MECHANISM)
            raise
        finally:
            leave(entered, None, failed)

    handler.__call__ = sentry_asgi_call
