"""The request layer every web integration shares.

A WSGI environ or an ASGI scope plus a body tee become Sentry's request interface under the PII
and size rules (:mod:`.request`, :mod:`.body`); each request runs in its own fork of the isolation
scope and adds its data to events only when one is sent (:mod:`.context`); the WSGI and ASGI
request runners (:mod:`.wsgi`, :mod:`.asgi`) are the middlewares' and the frameworks' common core.
Framework modules keep only their hooks, their user and their route naming.
"""

from __future__ import annotations

from .body import BODY_LIMITS, InputTee, ReceiveTee, body_data, body_limit
from .context import RequestContext, current_request, finish_request, start_request
from .options import (
    DEFAULT_FAILED_REQUEST_STATUS_CODES,
    DEFAULT_HTTP_METHODS_TO_CAPTURE,
    check_choice,
    check_methods,
    check_status_codes,
)
from .request import FILTERED, filter_headers, request_from_asgi, request_from_environ

__all__ = [
    "BODY_LIMITS",
    "DEFAULT_FAILED_REQUEST_STATUS_CODES",
    "DEFAULT_HTTP_METHODS_TO_CAPTURE",
    "FILTERED",
    "InputTee",
    "ReceiveTee",
    "RequestContext",
    "body_data",
    "body_limit",
    "check_choice",
    "check_methods",
    "check_status_codes",
    "current_request",
    "filter_headers",
    "finish_request",
    "request_from_asgi",
    "request_from_environ",
    "start_request",
]
