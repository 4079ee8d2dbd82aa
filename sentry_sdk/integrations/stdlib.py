"""Stdlib: HTTP requests made with ``http.client`` and started subprocesses become breadcrumbs and spans.

``http.client.HTTPConnection`` is patched, so requests made through ``urllib.request``, urllib3 or
requests are recorded as well: one ``http`` breadcrumb per request, when its response arrives
(level by status: 5xx ``error``, 4xx ``warning``, else ``info``) or when it fails (no status,
level ``error``). ``subprocess.Popen`` is patched: one ``subprocess`` breadcrumb per process started
(or that failed to start), its message the command line. Queries on ``sqlite3`` connections are
``query`` breadcrumbs and, inside a running span, ``db`` spans, their parameters never recorded.

What is recorded leaves secrets out: a URL loses its ``user:password@`` part and its query string
(which goes to ``data["http.query"]``), and query values, ``--flag=value`` arguments and
``--flag value`` pairs whose name looks secret (token, key, secret, password, auth, signature, sig,
code, session, credential) become ``[Filtered]``. A subprocess's environment is never recorded.
Requests the SDK itself sends to the DSN's envelope endpoint are never recorded.

Inside a running span, each request is also an ``http.client`` span (description ``"GET
https://host/path"``, status from the response), and each process a ``subprocess`` span. Requests
carry the ``sentry-trace`` and ``baggage`` headers as :mod:`._outgoing` decides (the SDK's own,
never).

Neither module is imported to set this up (``http.client`` alone would cost ``init`` about as
much as the rest of it): a module already imported is patched at once, any other one as soon as
the program imports it.
"""

from __future__ import annotations

import functools
import os
import re
import sys

from .._log import report_internal_error
from ..api import get_current_span
from ..hub import Hub
from . import Integration
from ._on_import import patch_when_imported
from ._outgoing import finish_http_span, is_sdk_endpoint, request_url, start_http_span, trace_headers
from ._secret_names import FILTERED, looks_secret
from ._sqlite3 import patch_sqlite3

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

    from ..client import Client


__all__ = ["StdlibIntegration"]

_MAX_COMMAND_LENGTH = 1000
# Where a pending request is kept on its connection, from putrequest until its outcome is known.
_REQUEST_ATTR = "_sentry_httplib_request"
ORIGIN = "auto.http.stdlib.httplib"  # of the requests' spans


class StdlibIntegration(Integration):
    """Records ``http.client`` requests and ``subprocess.Popen`` starts as breadcrumbs."""

    identifier = "stdlib"

    @staticmethod
    def setup_once() -> None:
        patch_when_imported("http.client", _patch_http_client)
        patch_when_imported("subprocess", _patch_subprocess)
        patch_when_imported("sqlite3", patch_sqlite3)


def _enabled_client() -> Client | None:
    client = Hub.current.client
    if client is None or client.get_integration(StdlibIntegration) is None:
        return None
    return client


# -- http.client ----------------------------------------------------------------------------------


def _patch_http_client(module: ModuleType) -> None:
    connection: Any = module.HTTPConnection
    original_putrequest = connection.putrequest
    original_endheaders = connection.endheaders
    original_getresponse = connection.getresponse

    @functools.wraps(original_putrequest)
    def putrequest(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        rv = original_putrequest(self, method, url, *args, **kwargs)
        try:
            _start_request(self, method, url)
        except Exception:
            report_internal_error()
        return rv

    # Connecting happens here, so a refused connection or a failed TLS handshake ends the request.
    @functools.wraps(original_endheaders)
    def endheaders(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original_endheaders(self, *args, **kwargs)
        except Exception as exc:
            _finish_request(self, None, exc)
            raise

    @functools.wraps(original_getresponse)
    def getresponse(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            response = original_getresponse(self, *args, **kwargs)
        except Exception as exc:
            _finish_request(self, None, exc)
            raise
        _finish_request(self, response, None)
        return response

    connection.putrequest = putrequest
    connection.endheaders = endheaders
    connection.getresponse = getresponse


def _start_request(conn: Any, method: str, target: str) -> None:
    client = _enabled_client()
    if client is not None:
        scheme, host, port, path = _request_parts(conn, target)
        if not is_sdk_endpoint(client, host, port, path):
            url, query, fragment = request_url(scheme, host, port, path)
            span = start_http_span(method, url, query, fragment, ORIGIN)
            setattr(conn, _REQUEST_ATTR, (method, url, query, fragment, span))
            full = url + (f"?{query}" if query else "")  # targets may name a query, not credentials
            for name, value in trace_headers(full, span):
                conn.putheader(name, value)
            return
    vars(conn).pop(_REQUEST_ATTR, None)  # left over from an earlier request that never finished


def _request_parts(conn: Any, target: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and path (with query) of a request for ``target`` on ``conn``."""
    scheme, sep, rest = target.partition("://")
    if sep and scheme.isalpha():  # the absolute form sent to a proxy: the URL names the server
        scheme = scheme.lower()
        end = min((i for i in map(rest.find, "/?#") if i != -1), default=len(rest))
        host, port = _split_netloc(rest[:end].rpartition("@")[2], 443 if scheme == "https" else 80)
        return scheme, host, port, rest[end:]
    https = getattr(sys.modules.get("http.client"), "HTTPSConnection", None)
    scheme = "https" if https is not None and isinstance(conn, https) else "http"
    # Through a CONNECT tunnel the connection is to the proxy; the request is for the tunnel's end.
    host = getattr(conn, "_tunnel_host", None) or conn.host
    port = getattr(conn, "_tunnel_port", None) or conn.port
    # urllib passes the "user:password@" of a URL on as part of the host.
    return scheme, str(host).rpartition("@")[2], int(port), target


def _split_netloc(netloc: str, default_port: int) -> tuple[str, int]:
    if netloc.startswith("["):
        host, _, after = netloc[1:].partition("]")
        port_text = after[1:]
    else:
        host, _, port_text = netloc.partition(":")
    return host, int(port_text) if port_text.isdigit() else default_port


def _finish_request(conn: Any, response: Any, error: BaseException | None) -> None:
    try:
        request = vars(conn).pop(_REQUEST_ATTR, None)
        if request is None:
            return
        method, url, query, fragment, span = request
        if span is not None:
            finish_http_span(span, response.status if response is not None else None, failed=response is None)
        data: dict[str, Any] = {"method": method, "url": url}
        if query:
            data["http.query"] = query
        if fragment:
            data["http.fragment"] = fragment
        if response is not None:
            status = response.status
            data["status_code"] = status
            data["reason"] = response.reason
            level = "error" if status >= 500 else "warning" if status >= 400 else "info"
            hint: dict[str, Any] = {"httplib_response": response}
        else:
            level = "error"
            hint = {"httplib_error": error}
        crumb = {"type": "http", "category": "httplib", "level": level, "data": data}
        Hub.current.add_breadcrumb(crumb, hint)
    except Exception:
        report_internal_error()


# -- subprocess -----------------------------------------------------------------------------------


def _patch_subprocess(module: ModuleType) -> None:
    popen: Any = module.Popen
    original_init = popen.__init__

    @functools.wraps(original_init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807 - replaces Popen's
        command = None
        span = None
        try:
            if _enabled_client() is not None and not _started_by_sdk():
                command = _command_line(args[0] if args else kwargs.get("args"))
                parent = get_current_span()
                if parent is not None and command is not None:
                    span = parent.start_child(
                        op="subprocess", name=command, origin="auto.subprocess.stdlib.subprocess"
                    )
        except Exception:
            report_internal_error()
        try:
            original_init(self, *args, **kwargs)
        except Exception:
            if span is not None:
                span.set_status("internal_error")
                span.finish()
            if command is not None:
                _record_process(command, None)
            raise
        if span is not None:
            span.set_data("subprocess.pid", getattr(self, "pid", None))
            span.finish()
        if command is not None:
            _record_process(command, getattr(self, "pid", None))

    popen.__init__ = __init__


def _started_by_sdk() -> bool:
    """Whether the code that called ``Popen`` (through ``subprocess.run`` or not) is the SDK's own.

    The SDK runs ``git`` at ``init`` to guess the release; that is not the program's doing.
    """
    frame = sys._getframe(2)  # the caller of the patched __init__
    while frame is not None and frame.f_globals.get("__name__") == "subprocess":
        frame = frame.f_back  # type: ignore[assignment]
    name = frame.f_globals.get("__name__", "") if frame is not None else ""
    return isinstance(name, str) and name.partition(".")[0] == "sentry_sdk"


def _command_line(args: Any) -> str | None:
    """The command as one line, secret-looking flag values filtered; ``None`` if not describable."""
    if isinstance(args, (str, bytes, os.PathLike)):
        text = _filter_command_text(os.fsdecode(args))
    elif isinstance(args, (list, tuple)):  # any other iterable might be consumed by looking at it
        text = " ".join(map(_quote, _filter_arguments([_as_text(arg) for arg in args])))
    else:
        return None
    if len(text) > _MAX_COMMAND_LENGTH:
        text = text[: _MAX_COMMAND_LENGTH - 3] + "..."
    return text


def _as_text(arg: Any) -> str:
    if isinstance(arg, (str, bytes, os.PathLike)):
        return os.fsdecode(arg)
    return str(arg)


# Arguments quoted in the command line: those that would not read as one word otherwise.
_NEEDS_QUOTES = re.compile(r"""[\s'"\\]""")


def _quote(arg: str) -> str:
    if arg and not _NEEDS_QUOTES.search(arg):
        return arg
    import shlex

    return shlex.quote(arg)


def _filter_arguments(arguments: list[str]) -> list[str]:
    """``--password x`` and ``--password=x`` with the value filtered."""
    rv = []
    hide_next = False
    for arg in arguments:
        if hide_next and not arg.startswith("-"):
            rv.append(FILTERED)
            hide_next = False
            continue
        hide_next = False
        if arg.startswith("-"):
            name, eq, _ = arg.partition("=")
            if looks_secret(name):
                if eq:
                    arg = f"{name}={FILTERED}"
                else:
                    hide_next = True
        rv.append(arg)
    return rv


# A flag and its value in a shell command line: "--token=x", "--token x", "-p 'a b'".
_FLAG_VALUE = re.compile(r"""(?<!\S)(-{1,2}[A-Za-z][\w-]*)(=|\s+)("[^"]*"|'[^']*'|[^\s'"-]\S*)""")


def _filter_command_text(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name, separator, value = match.groups()
        return f"{name}{separator}{FILTERED}" if looks_secret(name) else match.group(0)

    return _FLAG_VALUE.sub(replace, text)


def _record_process(command: str, pid: int | None) -> None:
    try:
        crumb: dict[str, Any] = {"type": "subprocess", "category": "subprocess", "message": command}
        if pid is not None:
            crumb["level"] = "info"
            crumb["data"] = {"pid": pid}
        else:
            crumb["level"] = "error"
        Hub.current.add_breadcrumb(crumb)
    except Exception:
        report_internal_error()
