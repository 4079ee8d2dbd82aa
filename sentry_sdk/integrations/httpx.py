"""httpx: every request sent with an ``httpx.Client`` or ``httpx.AsyncClient`` is a breadcrumb and a span.

``Client.send`` and ``AsyncClient.send`` are patched (on the classes, so clients made before or
after ``init`` are covered, whatever their transport, ``MockTransport`` included). Each request
then gives:

* one ``http`` breadcrumb (category ``httplib``) when its response arrives: ``url``, ``method``,
  ``status_code`` and ``reason`` as data, level by status (5xx ``error``, 4xx ``warning``, else
  ``info``); or when it fails without a response, at level ``error``. Its hint holds the
  ``httpx_request`` and the ``httpx_response`` (or the ``httpx_error``);
* inside a running span, an ``http.client`` span (description ``"GET https://host/path"``, origin
  ``auto.http.httpx``, status from the response, ``internal_error`` without one). It ends when
  ``send`` returns: for a streamed response (``client.stream(...)``), once its headers are in;
* the ``sentry-trace`` and ``baggage`` headers as :mod:`._outgoing` decides, with or without
  tracing, unless the request already has a header of that name.

Redirects that ``send`` follows belong to the request that led to them. Recorded URLs leave
secrets out as the stdlib integration's do: no ``user:password@``, the query and fragment in
``data["http.query"]`` and ``data["http.fragment"]`` with secret-looking values ``[Filtered]``.
Requests to the DSN's envelope endpoint are never recorded nor given trace headers.

httpx 0.23 or newer is required. It is not imported to set this up unless the program has
imported it: the integration is enabled by default as soon as the program does.
"""

from __future__ import annotations

import functools

from .._log import report_internal_error
from ..hub import Hub
from . import DidNotEnable, Integration
from ._outgoing import finish_http_span, is_sdk_endpoint, request_url, start_http_span, trace_headers
from ._versions import parse_version

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import httpx

    from .._tracing.spans import Span

    # What a request in flight is recorded with: the request, its method, URL (without query or
    # fragment), filtered query and fragment, and its span (None outside a running span).
    _Pending = tuple[httpx.Request, str, str, str, str, Span | None]

__all__ = ["HttpxIntegration"]

MINIMUM_VERSION = (0, 23)
ORIGIN = "auto.http.httpx"  # of the requests' spans

_patched = False


class HttpxIntegration(Integration):
    """Records requests sent with httpx clients as breadcrumbs and ``http.client`` spans."""

    identifier = "httpx"

    @staticmethod
    def setup_once() -> None:
        global _patched
        try:
            import httpx
        except ImportError:
            raise DidNotEnable("httpx is not installed") from None
        version = str(getattr(httpx, "__version__", ""))
        if version and parse_version(version) < MINIMUM_VERSION:
            raise DidNotEnable(f"httpx {version} found; 0.23 or newer is required")
        if _patched:
            return
        _patched = True
        _patch_client(httpx.Client)
        _patch_async_client(httpx.AsyncClient)


def _patch_client(cls: type[httpx.Client]) -> None:
    original_send = cls.send

    @functools.wraps(original_send)
    def send(self: httpx.Client, request: httpx.Request, *args: Any, **kwargs: Any) -> httpx.Response:
        pending = _start_request(request)
        try:
            response = original_send(self, request, *args, **kwargs)
        except BaseException as exc:
            _finish_request(pending, None, exc)
            raise
        _finish_request(pending, response, None)
        return response

    cls.send = send  # type: ignore[method-assign]


def _patch_async_client(cls: type[httpx.AsyncClient]) -> None:
    original_send = cls.send

    @functools.wraps(original_send)
    async def send(
        self: httpx.AsyncClient, request: httpx.Request, *args: Any, **kwargs: Any
    ) -> httpx.Response:
        pending = _start_request(request)
        try:
            response = await original_send(self, request, *args, **kwargs)
        except BaseException as exc:  # asyncio's CancelledError too: the request ends there
            _finish_request(pending, None, exc)
            raise
        _finish_request(pending, response, None)
        return response

    cls.send = send  # type: ignore[method-assign]


def _start_request(request: httpx.Request) -> _Pending | None:
    """Start recording ``request`` (its span, its trace headers); ``None`` when it is not recorded."""
    try:
        client = Hub.current.client
        if client is None or client.get_integration(HttpxIntegration) is None:
            return None
        target = request.url
        scheme = target.scheme
        host = target.raw_host.decode("ascii", "replace")
        port = target.port or (443 if scheme == "https" else 80)
        path = target.raw_path.decode("ascii", "replace")
        if is_sdk_endpoint(client, host, port, path):
            return None
        if target.fragment:
            path = f"{path}#{target.fragment}"
        method = request.method
        url, query, fragment = request_url(scheme, host, port, path)
        span = start_http_span(method, url, query, fragment, ORIGIN)
        full = url + (f"?{query}" if query else "")  # targets may name a query, not credentials
        headers = request.headers
        for name, value in trace_headers(full, span):
            if name not in headers:
                headers[name] = value
        return request, method, url, query, fragment, span
    except Exception:
        report_internal_error()
        return None


def _finish_request(
    pending: _Pending | None, response: httpx.Response | None, error: BaseException | None
) -> None:
    """End the span of a request and leave its breadcrumb, with its response or its error."""
    if pending is None:
        return
    try:
        request, method, url, query, fragment, span = pending
        status = response.status_code if response is not None else None
        if span is not None:
            if response is not None:
                span.set_data("reason", response.reason_phrase)
            finish_http_span(span, status, failed=response is None)
        data: dict[str, Any] = {"method": method, "url": url}
        if query:
            data["http.query"] = query
        if fragment:
            data["http.fragment"] = fragment
        hint: dict[str, Any] = {"httpx_request": request}
        if response is not None and status is not None:
            data["status_code"] = status
            data["reason"] = response.reason_phrase
            level = "error" if status >= 500 else "warning" if status >= 400 else "info"
            hint["httpx_response"] = response
        else:
            level = "error"
            hint["httpx_error"] = error
        crumb = {"type": "http", "category": "httplib", "level": level, "data": data}
        Hub.current.add_breadcrumb(crumb, hint)
    except Exception:
        report_internal_error()
