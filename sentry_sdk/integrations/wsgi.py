"""WSGI: ``app = SentryWsgiMiddleware(app)`` reports what fails in any WSGI application.

Each request runs in its own fork of the isolation scope; an exception escaping the application
(or raised while its response is iterated) is sent as unhandled with mechanism ``wsgi``, with the
request's url, method, headers, query string and body, then re-raised as it was. Events are named
after the request's path (source ``url``).
"""

from __future__ import annotations

from ._web.options import DEFAULT_HTTP_METHODS_TO_CAPTURE, check_methods
from ._web.wsgi import run_wsgi

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

__all__ = ["SentryWsgiMiddleware"]


class SentryWsgiMiddleware:
    """Wraps a WSGI application so that its requests are isolated and its failures reported.

    ``use_x_forwarded_for`` takes the URL's scheme and host from ``X-Forwarded-Proto`` and
    ``X-Forwarded-Host`` (behind a proxy you trust). With tracing enabled, each request whose
    method is in ``http_methods_to_capture`` is an ``http.server`` transaction of origin
    ``span_origin``.
    """

    __slots__ = ("app", "http_methods_to_capture", "span_origin", "use_x_forwarded_for")

    def __init__(
        self,
        app: Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]],
        use_x_forwarded_for: bool = False,
        span_origin: str = "manual",
        http_methods_to_capture: tuple[str, ...] = DEFAULT_HTTP_METHODS_TO_CAPTURE,
    ) -> None:
        if not callable(app):
            raise TypeError(f"SentryWsgiMiddleware needs a WSGI application, got {app!r}")
        self.app = app
        self.use_x_forwarded_for = bool(use_x_forwarded_for)
        self.span_origin = span_origin
        self.http_methods_to_capture = check_methods("SentryWsgiMiddleware", http_methods_to_capture)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return run_wsgi(
            self.app,
            environ,
            start_response,
            use_x_forwarded_for=self.use_x_forwarded_for,
            span_origin=self.span_origin,
            http_methods_to_capture=self.http_methods_to_capture,
        )
