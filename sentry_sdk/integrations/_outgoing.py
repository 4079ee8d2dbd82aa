"""Outgoing HTTP requests of the program: their ``http.client`` span and the trace headers they carry.

Shared by the integrations of HTTP clients (``http.client``, and so urllib, urllib3 and requests;
httpx). A span is made only inside a running span (a transaction): without one there is nothing
to record it in. The ``sentry-trace`` and ``baggage`` headers are added whenever
``propagate_traces`` is on and the URL matches one of ``trace_propagation_targets`` (regular
expressions searched in the full URL; the default ``[".*"]`` matches every URL), with or without
tracing, so that errors link across services at no sampling cost. Inside a request's span the
``sentry-trace`` names that span, so the called service's transaction is its child.

The integrations never call these for the SDK's own requests to its DSN.
"""

from __future__ import annotations

import functools
import re

from ..api import get_client, get_current_span
from ..hub import Hub
from ._secret_names import filter_pairs

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from .._tracing.spans import Span
    from ..client import Client

__all__ = [
    "finish_http_span",
    "is_sdk_endpoint",
    "propagates_to",
    "request_url",
    "start_http_span",
    "trace_headers",
]

OP_HTTP_CLIENT = "http.client"
_MATCH_ALL = ".*"


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:  # not a regular expression: matched as plain text instead
        return None


def propagates_to(url: str, options: Mapping[str, Any]) -> bool:
    """Whether a request to ``url`` carries the trace headers under ``options``."""
    if options.get("propagate_traces") is False:
        return False
    targets = options.get("trace_propagation_targets")
    if not targets:
        return False
    for target in targets:
        if isinstance(target, str):
            if target == _MATCH_ALL:
                return True
            pattern = _compiled(target)
            if pattern.search(url) if pattern is not None else target in url:
                return True
        elif target.search(url):  # a compiled pattern
            return True
    return False


def start_http_span(method: str, url: str, query: str, fragment: str, origin: str) -> Span | None:
    """An ``http.client`` span for a request (``url`` without query, fragment or credentials),
    started as a child of the running span; ``None`` when no span runs."""
    parent = get_current_span()
    if parent is None:
        return None
    span = parent.start_child(op=OP_HTTP_CLIENT, name=f"{method} {url}", origin=origin)
    span.set_data("url", url)
    span.set_data("http.method", method)
    if query:
        span.set_data("http.query", query)
    if fragment:
        span.set_data("http.fragment", fragment)
    return span


def trace_headers(url: str, span: Span | None) -> list[tuple[str, str]]:
    """The ``(name, value)`` trace headers a request to ``url`` carries (none if it carries none)."""
    if not propagates_to(url, get_client().options):
        return []
    if span is not None:
        return list(span.iter_headers())
    scope = Hub.current._writable_layer().current
    return list(scope.iter_trace_propagation_headers())


def finish_http_span(span: Span, status_code: int | None, failed: bool = False) -> None:
    """End the span of a request: with the response's status, or as failed (no response)."""
    if status_code is not None:
        span.set_http_status(status_code)
    elif failed:
        span.set_status("internal_error")
    span.finish()


def request_url(scheme: str, host: str, port: int, path: str) -> tuple[str, str, str]:
    """The URL without query or fragment, and its query and fragment with secret values filtered."""
    if not path.startswith("/"):
        path = "/" + path  # "OPTIONS *" and the like
    path, _, fragment = path.partition("#")
    path, _, query = path.partition("?")
    netloc = f"[{host}]" if ":" in host else host
    if port != (443 if scheme == "https" else 80):
        netloc = f"{netloc}:{port}"
    return (
        f"{scheme}://{netloc}{path}",
        filter_pairs(query) if query else "",
        filter_pairs(fragment) if fragment else "",
    )


def is_sdk_endpoint(client: Client, host: str, port: int, path: str) -> bool:
    """Whether a request to ``host:port`` for ``path`` is the SDK's own post to its DSN."""
    dsn = client.parsed_dsn
    if dsn is None or port != dsn.port or host.lower() != dsn.host.lower():
        return False
    return path.partition("?")[0] == f"{dsn.path}api/{dsn.project_id}/envelope/"
