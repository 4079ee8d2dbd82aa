"""One request (or task) in progress: its forked isolation scope and what it adds to events.

:func:`start_request` forks the isolation scope for the request and registers a
:class:`RequestContext` on it as an event processor. The request data (url, headers, body, user,
route) is built by that processor only when an event is actually sent, so a request that sends
nothing costs a scope fork and a few attribute writes. Framework adapters find the request's
context with :func:`current_request` and fill in what only they know: the route name and its
source, a body reader that uses the framework's own parsed form, the framework's user.

Nested entries (a framework patched by its integration inside a user's ``SentryWsgiMiddleware``)
share the outermost request: a second ``start_request`` in the same request returns ``None``.
"""

from __future__ import annotations

from contextvars import ContextVar

from ..._meta import meta_at
from ...api import get_client, isolation_scope
from .body import body_data, body_limit
from .request import request_from_asgi, request_from_environ, wsgi_client_ip, wsgi_url

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from contextlib import AbstractContextManager
    from typing import Any

    from ...scope import Scope
    from ...types import Event, Hint
    from .body import InputTee, ReceiveTee

__all__ = ["RequestContext", "current_request", "finish_request", "start_request"]

_current: ContextVar[RequestContext | None] = ContextVar("sentry_web_request", default=None)


class RequestContext:
    """The request's part of its events; an event processor of the request's isolation scope.

    Set by adapters: ``transaction``/``source`` (the route), ``body`` (``limit -> (data, notes)``
    or ``None`` to fall back to the tee), ``user`` (``() -> dict``, called only with PII),
    ``extra_request`` (``() -> dict`` of request fields a framework knows better), ``integration``
    (the enabled integration instance, set by the runner), ``route``
    (``() -> (transaction, source) | None``, asked at event time when no name was set, for a
    framework whose route is cheaper to name only when an event needs it), ``native`` (the
    framework's own request object, for those readers).
    """

    __slots__ = (
        "asgi_scope",
        "body",
        "environ",
        "extra_request",
        "integration",
        "native",
        "route",
        "scope",
        "source",
        "tee",
        "transaction",
        "use_x_forwarded_for",
        "user",
    )

    def __init__(
        self,
        environ: Mapping[str, Any] | None = None,
        asgi_scope: Mapping[str, Any] | None = None,
        tee: InputTee | ReceiveTee | None = None,
        use_x_forwarded_for: bool = False,
    ) -> None:
        self.environ = environ
        self.asgi_scope = asgi_scope
        self.tee = tee
        self.use_x_forwarded_for = use_x_forwarded_for
        self.transaction: str | None = None
        self.source: str | None = None
        self.body: Callable[[int | None], tuple[Any, dict[str, Any] | None]] | None = None
        self.user: Callable[[], dict[str, Any] | None] | None = None
        self.extra_request: Callable[[], dict[str, Any] | None] | None = None
        self.route: Callable[[], tuple[str, str] | None] | None = None
        self.native: Any = None
        # The enabled integration instance the request runs under (its options), if any.
        self.integration: Any = None
        self.scope: Scope | None = None

    def name(self, transaction: str | None, source: str) -> None:
        """Name the request's events after its route (``source``: route, url, component, view...)."""
        if transaction:
            self.transaction = transaction
            self.source = source

    # -- at event time -------------------------------------------------------------------------

    def naming(self, request: Mapping[str, Any] | None = None) -> tuple[str, str]:
        """The name and source of the request's events and transaction: its route, else its path.

        ``request`` is the request interface if already built (for its url).
        """
        name, source = self.transaction, self.source
        if name is None and self.route is not None:
            named = self.route()
            if named is not None:
                name, source = named
        if name is None or source is None:
            url = str(request.get("url") or "") if request is not None else self._url()
            name, source = "/" + url.partition("://")[2].partition("/")[2], "url"
        return name, source

    def _url(self) -> str:
        """The request's URL, without building the rest of the request interface where it can."""
        if self.environ is not None:
            return wsgi_url(self.environ, self.use_x_forwarded_for)
        return str(self._request(False).get("url") or "")

    def prepare_for_event(self) -> None:
        """What a framework completes only when its request is reported (see AsgiRequest)."""

    def __call__(self, event: Event, hint: Hint) -> Event:
        self.prepare_for_event()
        options = get_client().options
        pii = bool(options.get("send_default_pii"))
        request = self._request(pii)
        existing = event.get("request")
        if isinstance(existing, dict):
            for key, value in request.items():
                existing.setdefault(key, value)
            request = existing
        else:
            event["request"] = request
        if "data" not in request:
            data, notes = self._body(body_limit(options), request)
            if data is not None:
                request["data"] = data
                if notes:
                    meta_at(event, ("request", "data")).update(notes.pop("", {}))
                    for key, note in notes.items():
                        meta_at(event, ("request", "data", key)).update(note.get("", {}))
        if event.get("transaction") is None:
            name, source = self.naming(request)
            event["transaction"] = name
            event["transaction_info"] = {"source": source}
        if pii:
            self._add_user(event)
        return event

    def _request(self, pii: bool) -> dict[str, Any]:
        if self.environ is not None:
            request = request_from_environ(self.environ, pii, self.use_x_forwarded_for)
        elif self.asgi_scope is not None:
            request = request_from_asgi(self.asgi_scope, pii)
        else:
            request = {}
        if self.extra_request is not None:
            more = self.extra_request()
            if more:
                request.update(more)
        return request

    def _body(self, limit: int | None, request: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
        if self.body is not None:
            return self.body(limit)
        headers = request.get("headers") or {}
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
        if self.tee is None:  # no body is kept ("never"): only its presence is noted
            declared = next((v for k, v in headers.items() if k.lower() == "content-length"), "")
            length = int(declared) if declared.isdigit() else None
            return body_data(content_type, None, length, limit)
        raw, length = self.tee.body_for_event()
        return body_data(content_type, raw, length, limit)

    def _add_user(self, event: Event) -> None:
        user = event.get("user")
        if not isinstance(user, dict):
            user = {}
        if self.user is not None:
            for key, value in (self.user() or {}).items():
                user.setdefault(key, value)
        if "ip_address" not in user:
            ip = self._client_ip()
            if ip:
                user["ip_address"] = ip
        if user:
            event["user"] = user

    def _client_ip(self) -> str | None:
        if self.environ is not None:
            return wsgi_client_ip(self.environ)
        if self.asgi_scope is not None:
            from .request import asgi_client_ip, asgi_headers

            return asgi_client_ip(self.asgi_scope, asgi_headers(self.asgi_scope))
        return None


# The request being handled in this context, if a web integration started one: the context
# variable's own bound method, one Python call less on every request and every chunk.
current_request: Callable[[], RequestContext | None] = _current.get


def start_request(
    context: RequestContext,
) -> tuple[AbstractContextManager[Scope], object] | None:
    """Fork the isolation scope for ``context``'s request; ``None`` if a request is already running.

    Returns what :func:`finish_request` needs to end it.
    """
    if _current.get() is not None:
        return None
    layer = isolation_scope()
    scope = layer.__enter__()
    scope.add_event_processor(context)
    context.scope = scope
    return layer, _current.set(context)


def finish_request(started: tuple[AbstractContextManager[Scope], object]) -> None:
    """Leave the request's scope (what :func:`start_request` returned)."""
    layer, token = started
    try:
        _current.reset(token)  # type: ignore[arg-type]
    except ValueError:  # finished in another context than it started in
        _current.set(None)
    layer.__exit__(None, None, None)
