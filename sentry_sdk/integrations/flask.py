"""Flask: every failed request of every Flask app is reported, with its request, route and user.

``Flask.__call__`` is patched once (on the class, so apps created before or after ``init`` are
covered) to run each request through the shared WSGI runner: its own fork of the isolation scope,
the body teed as the app reads it. Nothing else runs while a request succeeds:

* The request's context gets readers that run only when an event (or the request's transaction)
  is sent. They find Flask's request where the patched ``Flask.request_context`` left it on the
  context (so also after Flask has popped its own context): the route
  (``transaction_style="endpoint"``: ``"hello"``, ``"bp.view"``, source ``component``;
  ``"url"``: the rule ``"/message/<int:id>"``, source ``route``), the body through Flask's own
  request (parsed form, file names, never file contents; nothing over
  ``max_request_body_size``) and, with ``send_default_pii``, Flask-Login's user.
* A response werkzeug iterates from a list (not a stream), with no ``call_on_close``
  callbacks, runs none of the program's code while the server iterates and closes it: it goes
  to the server as it is, without re-entering the request's scope for each chunk.
* ``got_request_exception`` reports the exception as unhandled (mechanism ``flask``) before Flask
  logs it, so its "Exception on ..." record does not become a second event; a werkzeug
  ``HTTPException`` below 500 is not reported. The app still answers with its 500, and with
  ``PROPAGATE_EXCEPTIONS`` (testing mode) the exception still propagates, reported once.
"""

from __future__ import annotations

import sys
from functools import partial, wraps
from types import GeneratorType

from .._log import report_internal_error
from ..api import get_client
from . import DidNotEnable, Integration
from ._capture import capture_unhandled
from ._versions import parse_version
from ._web.body import RAW, body_data
from ._web.context import current_request
from ._web.options import DEFAULT_HTTP_METHODS_TO_CAPTURE, check_choice, check_methods
from ._web.wsgi import run_wsgi

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from types import CodeType
    from typing import Any

    from ..types import Event, ExcInfo
    from ._web.body import InputTee, ReceiveTee
    from ._web.context import RequestContext

__all__ = ["FlaskIntegration"]

MINIMUM_VERSION = (1, 1)
TRANSACTION_STYLES = ("endpoint", "url")

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Set on an exception reported from got_request_exception, so that the same request does not
# report it a second time when it propagates (PROPAGATE_EXCEPTIONS) out of the app.
_REPORTED = "_sentry_flask_reported"

# Flask's request proxy and werkzeug's classes, once set up (imported only in setup_once).
_request: Any = None
_has_request_context: Callable[[], bool] | None = None
_http_exception: type[BaseException] | None = None
_closing_iterator: Any = None
_response_class: Any = None
_encoded_code: CodeType | None = None  # werkzeug's generator that encodes a response's body


class FlaskIntegration(Integration):
    """Reports failed requests of every Flask app; names events after the route.

    ``transaction_style``: ``"endpoint"`` (the view's endpoint, source ``component``) or ``"url"``
    (the URL rule, source ``route``). ``http_methods_to_capture``: with tracing on, the methods
    whose requests are ``http.server`` transactions (all but HEAD and OPTIONS by default).
    """

    identifier = "flask"

    def __init__(
        self,
        transaction_style: str = "endpoint",
        http_methods_to_capture: tuple[str, ...] = DEFAULT_HTTP_METHODS_TO_CAPTURE,
    ) -> None:
        self.transaction_style = check_choice(
            "FlaskIntegration", "transaction_style", transaction_style, TRANSACTION_STYLES
        )
        self.http_methods_to_capture = check_methods("FlaskIntegration", http_methods_to_capture)

    @staticmethod
    def setup_once() -> None:
        global _request, _has_request_context, _http_exception
        try:
            import flask
            import flask.signals
            from werkzeug.exceptions import HTTPException
        except ImportError:
            raise DidNotEnable("Flask is not installed") from None
        version = _installed_version()
        if version is not None and parse_version(version) < MINIMUM_VERSION:
            raise DidNotEnable(f"Flask {version} found; 1.1 or newer is required")
        # Flask before 2.3 works without blinker, with signals that cannot be connected to.
        # (Read from the module's dict: Flask 2.3 warns when the attribute itself is read.)
        if not vars(flask.signals).get("signals_available", True):
            raise DidNotEnable("Flask's signals need blinker, which is not installed")

        _request = flask.request
        _has_request_context = flask.has_request_context
        _http_exception = HTTPException
        _find_plain_response_types()
        flask.got_request_exception.connect(_on_request_exception, weak=False)
        original_call = flask.Flask.__call__

        @wraps(original_call)
        def sentry_flask_call(
            self: Any, environ: dict[str, Any], start_response: Callable[..., Any]
        ) -> Iterable[bytes]:
            return run_wsgi(
                original_call.__get__(self),
                environ,
                start_response,
                mechanism="flask",
                integration=FlaskIntegration,
                adapt=_adapt,
                plain_response=_plain_response,
            )

        flask.Flask.__call__ = sentry_flask_call  # type: ignore[method-assign]
        original_request_context = flask.Flask.request_context

        @wraps(original_request_context)
        def sentry_request_context(self: Any, environ: dict[str, Any]) -> Any:
            ctx = original_request_context(self, environ)
            context = current_request()
            if context is not None:
                # Kept for the readers: Flask forgets the request when it pops its context,
                # before the response is iterated and the request's transaction ends.
                context.native = getattr(ctx, "request", None)
            return ctx

        flask.Flask.request_context = sentry_request_context  # type: ignore[method-assign]


def _installed_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("flask")
    except PackageNotFoundError:  # importable, but without metadata (vendored): cannot tell
        return None


def _find_plain_response_types() -> None:
    """werkzeug's response classes that :func:`_plain_response` recognises (none if moved)."""
    global _closing_iterator, _response_class, _encoded_code
    try:
        import werkzeug.wrappers.response as responses
        from werkzeug.wrappers import Response
        from werkzeug.wsgi import ClosingIterator
    except ImportError:
        return
    encode = getattr(responses, "_iter_encoded", None)
    _closing_iterator, _response_class = ClosingIterator, Response
    _encoded_code = getattr(encode, "__code__", None)


# -- the request's readers: they run when an event is sent --------------------------------------


def _adapt(context: RequestContext) -> None:
    if context.route is not None:  # a context of another framework's, further out: left as it is
        return
    context.route = partial(_route, context)
    context.body = partial(_body, context)
    context.user = _login_user


def _flask_request(context: RequestContext) -> Any:
    """Flask's request for ``context``: the one its app created, else the live one."""
    request = context.native
    if request is None and _has_request_context is not None and _has_request_context():
        request = _request._get_current_object()
    return request


def _route(context: RequestContext) -> tuple[str, str] | None:
    rule = getattr(_flask_request(context), "url_rule", None)
    if rule is None:  # no route matched (a 404), or not a Flask request
        return None
    integration = context.integration
    if not isinstance(integration, FlaskIntegration):
        # The request was started by another runner (a SentryWsgiMiddleware around the app).
        integration = get_client().get_integration(FlaskIntegration)
        if not isinstance(integration, FlaskIntegration):
            return None
    if integration.transaction_style == "endpoint":
        return (rule.endpoint, "component") if rule.endpoint else None
    return (rule.rule, "route") if rule.rule else None


def _body(context: RequestContext, limit: int | None) -> tuple[Any, dict[str, Any] | None]:
    request = _flask_request(context)
    if request is None:  # no Flask request was made (an app of another framework)
        tee = context.tee
        if tee is None:
            return None, None
        raw, length = tee.body_for_event()
        environ = context.environ or {}
        return body_data(environ.get("CONTENT_TYPE"), raw, length, limit)
    return _request_body(request, context.tee, limit)


def _plain_response(response: Any) -> bool:
    """Whether ``response`` is werkzeug's iterable of a response whose body is a list or tuple
    (not a stream) and that has no ``call_on_close`` callbacks: iterating and closing it runs
    werkzeug's code only."""
    if _closing_iterator is None or type(response) is not _closing_iterator:
        return False
    for callback in response._callbacks:
        owner = getattr(callback, "__self__", None)
        if _response_class is not None and isinstance(owner, _response_class):
            body = owner.response
            if owner._on_close or (type(body) is not list and type(body) is not tuple):
                return False
        elif type(owner) is not GeneratorType or owner.gi_code is not _encoded_code:
            return False
    return True


# -- the signal receiver --------------------------------------------------------------------------


def _on_request_exception(sender: Any, exception: BaseException | None = None, **extra: Any) -> None:
    try:
        if exception is None or _is_client_error(exception):
            return
        if get_client().get_integration(FlaskIntegration) is None:
            return
    except Exception:
        report_internal_error()
        return
    capture_unhandled(FlaskIntegration, exception, "flask")
    try:
        _report_once(exception)
    except Exception:
        report_internal_error()


def _is_client_error(exception: BaseException) -> bool:
    """A werkzeug ``HTTPException`` below 500 (an ``abort(404)`` a handler did not take)."""
    if _http_exception is None or not isinstance(exception, _http_exception):
        return False
    code = getattr(exception, "code", None)
    return isinstance(code, int) and code < 500


def _report_once(exception: BaseException) -> None:
    """Drop a later event of ``exception`` in this request: it propagates out of the app next."""
    context = current_request()
    if context is None or context.scope is None:
        return
    mark = object()
    try:
        setattr(exception, _REPORTED, mark)
    except (AttributeError, TypeError):  # takes no attributes: Dedupe, if on, still catches it
        return
    context.scope.add_error_processor(partial(_drop_reported, mark))


def _drop_reported(mark: object, event: Event, exc_info: ExcInfo) -> Event | None:
    return None if getattr(exc_info[1], _REPORTED, None) is mark else event


# -- readers the request layer calls when an event is sent ----------------------------------


def _request_body(
    request: Any, tee: InputTee | ReceiveTee | None, limit: int | None
) -> tuple[Any, dict[str, Any] | None]:
    """The body as ``(request.data, _meta notes)``, read through Flask's request.

    Nothing is read for a body over ``limit`` (it gets the ``!config`` note) or of unknown length
    (only what the app read itself, from the tee). Forms are Flask's parsed ``request.form``
    (which the app can use afterwards), files by name. Other bodies: what Flask cached when the
    app read them, else the tee's copy; the tee reads a body the app has not read yet and hands
    it to the app's later reads, so ``request.stream`` stays readable as well.
    """
    content_type = request.headers.get("Content-Type")
    length = request.content_length
    if limit == 0 or (length is not None and limit is not None and length > limit):
        return body_data(content_type, None, length, limit)
    if length is None:
        if tee is None:
            return None, None
        raw, length = tee.body_for_event()
        return body_data(content_type, raw, length, limit)
    try:
        if request.mimetype in _FORM_TYPES:
            return body_data(content_type, None, length, limit, form=request.form, files=request.files)
        if getattr(request, "_cached_data", None) is None and tee is not None:
            raw, length = tee.body_for_event()
        else:
            raw = request.get_data(cache=True)
    except Exception:  # werkzeug refused the body (over MAX_CONTENT_LENGTH, a broken multipart...)
        return "", {"": RAW}
    return body_data(content_type, raw, length, limit)


def _login_user() -> dict[str, Any] | None:
    """Flask-Login's authenticated ``current_user``, if the program uses Flask-Login."""
    login = sys.modules.get("flask_login")  # never imported here: only if the program did
    flask = sys.modules.get("flask")
    if login is None or flask is None or not flask.has_request_context():
        return None
    if getattr(flask.current_app, "login_manager", None) is None:  # this app does not use it
        return None
    try:
        user = login.current_user
        authenticated = user.is_authenticated
        if callable(authenticated):  # Flask-Login before 0.3
            authenticated = authenticated()
        if not authenticated:
            return None
        info: dict[str, Any] = {"id": str(user.get_id())}
        for name in ("email", "username"):
            value = getattr(user, name, None)
            if isinstance(value, str):
                info[name] = value
    except Exception:  # the program's user loader failed: the event goes without a user
        return None
    return info
