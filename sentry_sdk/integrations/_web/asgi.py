"""Running one ASGI request under the SDK: the core of ``SentryAsgiMiddleware`` and of ASGI frameworks.

An ``http`` or ``websocket`` connection runs in its own fork of the isolation scope, inside the
request's own task (ContextVars: nothing is shared with other requests that run concurrently);
an ``http`` body is teed as the application receives it; an exception escaping the application
is sent once as unhandled, then re-raised unchanged. Lifespan and other scopes pass straight
through.

Frameworks name the request and add their user at event time through :class:`AsgiRequest`'s
``prepare`` hook, so a request that sends nothing costs the scope fork and a few attribute writes.
"""

from __future__ import annotations

from ..._log import report_internal_error
from ...api import get_client
from .._capture import capture_unhandled
from .body import ReceiveTee, body_limit
from .context import RequestContext, current_request, finish_request, start_request
from .tracing import begin_request_trace

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, MutableMapping
    from typing import Any

    from .. import Integration

    Receive = Callable[[], Awaitable[dict[str, Any]]]
    Send = Callable[[dict[str, Any]], Awaitable[None]]
    AsgiApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

__all__ = ["AsgiRequest", "asgi_content_length", "endpoint_name", "report_request_error", "run_asgi"]


def asgi_content_length(scope: Mapping[str, Any]) -> int | None:
    """The request's declared ``Content-Length``, if it has a valid one."""
    return _body_length(scope)[1]


def _body_length(scope: Mapping[str, Any]) -> tuple[bool, int | None]:
    """(whether the request may have a body, its declared length): a request that declares no
    length and is not chunked has none, except under HTTP/2 and later for methods that carry one."""
    length = None
    declared = False
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            declared = True
            try:
                length = int(value)
            except (TypeError, ValueError):
                length = None
            if length is not None and length < 0:
                length = None
        elif name == b"transfer-encoding":
            return True, None
    if declared:
        return length != 0, length
    return scope.get("method") not in _BODILESS, None


# Methods whose requests carry no body unless they declare one.
_BODILESS = frozenset(("GET", "HEAD", "OPTIONS", "DELETE", "TRACE"))


def endpoint_name(function: Any) -> str | None:
    """``module.qualname`` of a view function, class or callable object (of its class, for an object)."""
    while not hasattr(function, "__qualname__") and hasattr(function, "func"):  # functools.partial
        function = function.func
    target = function if hasattr(function, "__qualname__") else type(function)
    qualname = getattr(target, "__qualname__", None)
    if not isinstance(qualname, str) or not qualname:
        return None
    module = getattr(target, "__module__", None)
    return f"{module}.{qualname}" if isinstance(module, str) and module else qualname


class AsgiRequest(RequestContext):
    """An ASGI request's part of its events.

    ``live`` is the scope the framework goes on filling in (route, endpoint, user); at event time
    ``asgi_scope`` is that scope with the ``root_path`` and ``path`` it arrived with (routing into
    a mount rewrites them).

    ``prepare(request)``, if set, runs at event time, before the request data is built, for the
    framework to name the request and supply its user; ``app`` is the framework application the
    request entered, for ``prepare`` to look at. ``captured`` is the exception already reported
    for this request, so that one failure passing several layers is sent once.
    """

    __slots__ = ("app", "arrived", "captured", "live", "prepare")

    def __init__(
        self,
        scope: MutableMapping[str, Any],
        prepare: Callable[[AsgiRequest], None] | None = None,
        app: Any = None,
    ) -> None:
        super().__init__(asgi_scope=scope)
        self.live = scope
        self.arrived = (scope.get("root_path", ""), scope.get("path", ""))
        self.prepare = prepare
        self.app = app
        self.captured: BaseException | None = None

    def arrived_scope(self) -> MutableMapping[str, Any]:
        """The scope with the ``root_path`` and ``path`` the request arrived with."""
        live = self.live
        root_path, path = self.arrived
        if live.get("root_path", "") != root_path or live.get("path", "") != path:
            return {**live, "root_path": root_path, "path": path}
        return live

    def prepare_for_event(self) -> None:
        self.asgi_scope = self.arrived_scope()
        prepare = self.prepare
        if prepare is not None:
            try:
                prepare(self)
            except Exception:
                report_internal_error()


async def report_request_error(
    request: AsgiRequest, integration: type[Integration] | str | None, exc: BaseException, mechanism: str
) -> None:
    """Send ``exc`` as the request's unhandled error, unless it was already sent for this request.

    A body that fits the limit and that the application did not read is received first, so it is
    on the event (the application still gets it on its next ``receive``). Never raises.
    """
    if request.captured is exc:
        return
    request.captured = exc
    tee = request.tee
    if isinstance(tee, ReceiveTee):
        try:
            await tee.read_for_event()
        except Exception:  # the server's receive failing is not ours to report
            pass
    capture_unhandled(integration, exc, mechanism)


async def run_asgi(
    app: AsgiApp,
    scope: MutableMapping[str, Any],
    receive: Receive,
    send: Send,
    mechanism: str = "asgi",
    integration: type[Integration] | str | None = None,
    prepare: Callable[[AsgiRequest], None] | None = None,
    framework_app: Any = None,
    span_origin: str | None = None,
    http_methods_to_capture: tuple[str, ...] | None = None,
) -> None:
    """Await ``app(scope, receive, send)`` as one request under the SDK.

    Does nothing but call the application for scopes other than ``http`` and ``websocket``, when
    no client is bound, when ``integration`` is given and not enabled, or inside a request that
    already runs under the SDK. There the first framework the request enters (``framework_app``)
    names it: its ``prepare`` replaces a generic middleware's, not an outer framework app's.
    ``span_origin`` and ``http_methods_to_capture`` are as for :func:`.wsgi.run_wsgi`.
    """
    kind = scope.get("type")
    if kind != "http" and kind != "websocket":
        return await app(scope, receive, send)
    client = get_client()
    running = current_request()
    enabled = client.get_integration(integration) if integration is not None else None
    if not client.options or (integration is not None and enabled is None):
        return await app(scope, receive, send)
    if running is not None:
        if prepare is not None and isinstance(running, AsgiRequest) and running.app is None:
            running.prepare = prepare
            running.app = framework_app
        return await app(scope, receive, send)
    try:
        request = AsgiRequest(scope, prepare, framework_app)
        request.integration = enabled
        app_receive = receive
        if kind == "http":
            limit = body_limit(client.options)
            if limit != 0:
                has_body, length = _body_length(scope)
                if has_body:
                    app_receive = request.tee = ReceiveTee(receive, limit, length)
        started = start_request(request)
        trace = None
        app_send = send
        if started is not None:
            trace = begin_request_trace(
                request, client.options, span_origin or "auto.http." + mechanism, http_methods_to_capture
            )
            if trace is not None:
                app_send = trace.asgi_send(send)
    except Exception:
        report_internal_error()
        return await app(scope, receive, send)
    failed = False
    try:
        await app(scope, app_receive, app_send)
    except Exception as exc:
        failed = True
        await report_request_error(request, integration, exc, mechanism)
        raise
    finally:
        if trace is not None:
            trace.finish(failed)
        if started is not None:
            finish_request(started)
