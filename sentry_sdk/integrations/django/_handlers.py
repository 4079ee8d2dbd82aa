"""The patches on Django's request handlers and the receiver of ``got_request_exception``.

* ``WSGIHandler.__call__`` runs through the shared WSGI runner (``run_wsgi``): in production the
  request's scope covers Django's request signals and the response's iteration, and the body is
  teed as Django reads it.
* ``BaseHandler.get_response`` (and its async twin, :mod:`._asgi`) is where every way into Django
  meets: the WSGI and ASGI handlers and the test clients. A request already running under the SDK
  (started by the WSGI or ASGI handler, or by a middleware of the user's) only gets Django's
  request put on its context; otherwise (the test clients) the request is started here, so tests
  see the same request data and isolation as production. (The test client sends
  ``request_started`` before ``get_response``: its receivers run outside the request's scope
  there, unlike in production.)
* ``got_request_exception`` is what Django sends for an exception it turns into a 500, before it
  logs it on ``django.request``: the error is captured there (once; the log is then a duplicate
  that Dedupe drops). Django's 4xx exceptions (``Http404``, ``PermissionDenied``,
  ``SuspiciousOperation``...) never send it.
"""

from __future__ import annotations

import sys

from ..._log import report_internal_error
from ...api import get_client, new_scope
from .._capture import capture_unhandled
from .._web.context import current_request, finish_request, start_request
from .._web.tracing import begin_request_trace
from .._web.wsgi import run_wsgi
from ._request import DjangoRequest, attach, context_for

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager
    from types import ModuleType
    from typing import Any

    from ...scope import Scope
    from .._web.tracing import RequestTrace

    Started = tuple[AbstractContextManager[Scope], object]
    Entered = tuple[Started, RequestTrace | None]

__all__ = [
    "MECHANISM",
    "ORIGIN",
    "connect_signals",
    "enter",
    "leave",
    "patch_base_handler",
    "patch_wsgi_handler",
]

MECHANISM = "django"
ORIGIN = "auto.http.django"  # of the request's transaction
# The integration is found by its identifier: importing its class from the package would make an
# import cycle (the package sets these handlers up).
IDENTIFIER = "django"


def enter(request: Any) -> Entered | None:
    """Put ``request`` on the running request's context, or start one for it; what to finish.

    ``None`` (nothing to finish) when the integration is off or a request was already running.
    """
    try:
        client = get_client()
        integration = client.get_integration(IDENTIFIER)
        if integration is None:
            return None
        style = getattr(integration, "transaction_style", "url")
        context = current_request()
        if context is not None:
            attach(context, request, style)
            return None
        context = context_for(request)
        context.integration = integration
        attach(context, request, style)
        started = start_request(context)
        if started is None:
            return None
        return started, begin_request_trace(context, client.options, ORIGIN)
    except Exception:
        report_internal_error()
        return None


def leave(entered: Entered, response: Any = None, failed: bool = False) -> None:
    """End the request :func:`enter` started (its transaction gets ``response``'s status)."""
    started, trace = entered
    if trace is not None:
        status = getattr(response, "status_code", None)
        if isinstance(status, int):
            trace.status_code = status
        trace.finish(failed)
    try:
        finish_request(started)
    except Exception:
        report_internal_error()


def patch_base_handler(module: ModuleType) -> None:
    """Patch ``django.core.handlers.base.BaseHandler.get_response`` (its async twin: :mod:`._asgi`)."""
    handler = module.BaseHandler
    original: Callable[[Any, Any], Any] = handler.get_response

    def sentry_get_response(self: Any, request: Any) -> Any:
        entered = enter(request)
        if entered is None:
            return original(self, request)
        response = None
        failed = False
        try:
            response = original(self, request)
            return response
        except Exception as exc:  # Django turns view errors into responses: this is its own failure
            failed = True
            capture_unhandled(IDENTIFIER, exc, MECHANISM)
            raise
        finally:
            leave(entered, response, failed)

    handler.get_response = sentry_get_response


def patch_wsgi_handler(module: ModuleType) -> None:
    """Patch ``django.core.handlers.wsgi.WSGIHandler.__call__`` to run through ``run_wsgi``."""
    handler = module.WSGIHandler
    original: Callable[..., Any] = handler.__call__

    def sentry_wsgi_call(self: Any, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        app = original.__get__(self)
        return run_wsgi(
            app, environ, start_response, mechanism=MECHANISM, integration=IDENTIFIER, span_origin=ORIGIN
        )

    handler.__call__ = sentry_wsgi_call


def connect_signals(module: ModuleType) -> None:
    """Receive ``django.core.signals.got_request_exception``."""
    module.got_request_exception.connect(_got_request_exception, weak=False, dispatch_uid=__name__)


def _got_request_exception(sender: Any, request: Any = None, **kwargs: Any) -> None:
    # A receiver's exception would reach Django's request: nothing may escape from here.
    try:
        exc = sys.exc_info()[1]
        integration = get_client().get_integration(IDENTIFIER)
        if exc is None or integration is None:
            return
        context = current_request()
        if context is None and request is not None:
            # Not through a handler we patched (a third party's): the event still gets the request.
            own = context_for(request)
            attach(own, request, getattr(integration, "transaction_style", "url")).settled = True
            with new_scope() as scope:
                scope.add_event_processor(own)
                capture_unhandled(IDENTIFIER, exc, MECHANISM)
            return
        if context is not None and isinstance(context.body, DjangoRequest):
            context.body.settled = True
        capture_unhandled(IDENTIFIER, exc, MECHANISM)
    except Exception:
        report_internal_error()
