"""What a Django request adds to its events: body, user, cookies and route, read only at event time.

:func:`attach` is all a request costs: it puts one :class:`DjangoRequest` on the request's
:class:`RequestContext`. Its methods run only when an event is sent:

* the body comes from Django's own request: ``request.POST`` (and the names of ``request.FILES``)
  for forms, ``request.body`` otherwise, within ``max_request_body_size``. A body whose declared
  length is over the limit is never read; one the view streamed itself (``request.read()``) comes
  from the WSGI tee, which saw what the view read. Nothing here stops the view from reading the
  body afterwards: Django keeps what ``request.body`` read for later reads, and a multipart body
  the view has not parsed is parsed only once the view has failed (so the view may still change
  its upload handlers).
* the user is ``django.contrib.auth``'s (``id``, ``username``, ``email``), only when auth is
  installed and the user is authenticated; a user the request has not loaded yet is loaded then,
  except inside an event loop, where Django would refuse the database query.
* with ``send_default_pii``, the cookies as Django parsed them, the session and CSRF cookies'
  values as ``[Filtered]``.
* the route, named in the integration's ``transaction_style`` (:mod:`._transactions`).
"""

from __future__ import annotations

from ..._log import report_internal_error
from ...api import get_client
from .._web.body import body_data
from .._web.context import RequestContext
from .._web.request import FILTERED
from ._transactions import format_route, view_name

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .._web.body import InputTee, ReceiveTee

__all__ = ["DjangoRequest", "attach", "context_for"]

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def attach(context: RequestContext, request: Any, transaction_style: str) -> DjangoRequest:
    """Let ``context``'s events read ``request`` (a Django ``HttpRequest``) when they are sent."""
    found = DjangoRequest(request, context.tee, transaction_style)
    context.body = found
    context.user = found.user
    context.extra_request = found.extra
    context.route = found.route
    return found


def context_for(request: Any) -> RequestContext:
    """A new request context for a Django request (its ASGI scope when it has one, else its META)."""
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict) and scope.get("type") == "http":
        return RequestContext(asgi_scope=scope)
    return RequestContext(environ=request.META)


def _content_length(meta: Any) -> int | None:
    try:
        length = int(meta.get("CONTENT_LENGTH") or "")
    except (TypeError, ValueError):
        return None
    return length if length >= 0 else None


class DjangoRequest:
    """One Django request as its events see it; ``__call__(limit)`` is the body reader."""

    __slots__ = ("request", "settled", "tee", "transaction_style")

    def __init__(self, request: Any, tee: InputTee | ReceiveTee | None, transaction_style: str) -> None:
        self.request = request
        self.tee = tee
        self.transaction_style = transaction_style
        # The view is done (it failed): parsing its body can no longer get in its way.
        self.settled = False

    # -- the body ------------------------------------------------------------------------------

    def __call__(self, limit: int | None) -> tuple[Any, dict[str, Any] | None]:
        try:
            return self._body(limit)
        except Exception:
            report_internal_error()
            return None, None

    def _body(self, limit: int | None) -> tuple[Any, dict[str, Any] | None]:
        request = self.request
        meta = request.META
        length = _content_length(meta)
        content_type = meta.get("CONTENT_TYPE")
        if limit == 0 or (length is not None and limit is not None and length > limit):
            return body_data(content_type, None, length, limit)  # left out unread
        kind = str(content_type or "").split(";", 1)[0].strip().lower()
        if kind in _FORMS:
            form = self._form(kind, length)
            if form is not None:
                return body_data(content_type, None, length, limit, form=form[0], files=form[1])
        raw = self._raw(length)
        if raw is None and self.tee is not None and getattr(request, "_read_started", False):
            raw, length = self.tee.body_for_event()  # the view streamed it: what the tee saw
        return body_data(content_type, raw, length, limit)

    def _form(self, kind: str, length: int | None) -> tuple[dict[str, Any], dict[str, None]] | None:
        request = self.request
        try:
            if not hasattr(request, "_post"):  # Django's cache of the parsed form
                streamed = getattr(request, "_read_started", False) and not hasattr(request, "_body")
                if length is None or streamed:
                    return None  # of unknown size, or streamed by the view: Django cannot parse it
                if kind == "multipart/form-data" and not self.settled:
                    return None
            form = {key: values[0] if len(values) == 1 else values for key, values in request.POST.lists()}
            return form, dict.fromkeys(getattr(request, "_files", None) or ())
        except Exception:
            return None

    def _raw(self, length: int | None) -> bytes | None:
        request = self.request
        cached = request.__dict__.get("_body")
        if cached is not None or length is None:
            # An ASGI body of unknown length may be large: only what the view already read.
            return cached if isinstance(cached, bytes) else None
        try:
            body = request.body  # kept by Django: the view can still read it afterwards
        except Exception:  # RawPostDataException (the view streamed it), a body too large, ...
            return None
        return body if isinstance(body, bytes) else None

    # -- the user and the cookies --------------------------------------------------------------

    def user(self) -> dict[str, Any] | None:
        """``django.contrib.auth``'s user as Sentry's user (``id``, ``username``, ``email``)."""
        try:
            return _auth_user(self.request)
        except Exception:  # a broken session or database must not cost the event
            return None

    def extra(self) -> dict[str, Any] | None:
        """The cookies as Django parsed them, when PII is sent; session and CSRF values filtered."""
        if not get_client().options.get("send_default_pii"):
            return None
        try:
            cookies = self.request.COOKIES
            if not cookies:
                return None
            from django.conf import settings  # type: ignore[import-untyped]

            hidden = {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME}
            return {"cookies": {name: FILTERED if name in hidden else val for name, val in cookies.items()}}
        except Exception:
            return None

    # -- the route -----------------------------------------------------------------------------

    def route(self) -> tuple[str, str] | None:
        """The request's name and its source in the integration's transaction style."""
        try:
            match = _resolver_match(self.request)
            if match is None:
                return None
            if self.transaction_style == "function_name":
                name = view_name(match.func)
                return (name, "component") if name else None
            route = getattr(match, "route", None)
            return (format_route(route), "route") if isinstance(route, str) else None
        except Exception:
            return None


def _resolver_match(request: Any) -> Any:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match
    # Failed before Django resolved it (in a middleware): resolve it now, for the name only.
    from django.urls import Resolver404, resolve  # type: ignore[import-untyped]

    try:
        return resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return None


def _auth_user(request: Any) -> dict[str, Any] | None:
    from django.apps import apps  # type: ignore[import-untyped]

    if not apps.is_installed("django.contrib.auth"):
        return None
    user = request.__dict__.get("user")
    if user is None:
        return None
    from django.utils.functional import LazyObject, empty  # type: ignore[import-untyped]

    if isinstance(user, LazyObject) and user._wrapped is empty:
        # Not loaded by the request: Django's async auser() may have cached it; else load it,
        # unless an event loop runs here (Django refuses database queries there).
        cached = request.__dict__.get("_acached_user")
        if cached is not None:
            user = cached
        elif _in_event_loop():
            return None
    if not user.is_authenticated:
        return None
    found: dict[str, Any] = {}
    pk = getattr(user, "pk", None)
    if pk is not None:
        found["id"] = str(pk)
    get_username = getattr(user, "get_username", None)
    username = get_username() if callable(get_username) else getattr(user, "username", None)
    if username:
        found["username"] = str(username)
    email = getattr(user, "email", None)
    if email:
        found["email"] = str(email)
    return found or None


def _in_event_loop() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
