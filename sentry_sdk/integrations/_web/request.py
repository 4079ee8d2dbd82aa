"""Sentry's request interface from a WSGI environ or an ASGI scope, under the PII rules.

``url`` is scheme://host/path (no query), ``query_string`` the raw query, ``headers`` a dict with
the values of credential and address headers replaced by ``[Filtered]`` (cookies and
authorization always, the others unless ``send_default_pii``), ``env`` the server's name and port
(and the client address with PII); ``cookies`` only with PII. Bytes that are not UTF-8 (in a path,
a query or a header) are shown with replacement characters, never raised on.
"""

from __future__ import annotations

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

__all__ = [
    "FILTERED",
    "asgi_client_ip",
    "asgi_headers",
    "filter_headers",
    "parse_cookies",
    "request_from_asgi",
    "request_from_environ",
    "wsgi_client_ip",
    "wsgi_url",
]

FILTERED = "[Filtered]"
# Filtered whatever send_default_pii says: credentials (the cookies go under request.cookies).
_ALWAYS_FILTERED = frozenset(("authorization", "cookie", "proxy-authorization", "x-api-key", "set-cookie"))
# Filtered without send_default_pii: who the client is.
_PII_HEADERS = frozenset(("x-forwarded-for", "x-real-ip", "forwarded", "x-client-ip", "true-client-ip"))
_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def _wsgi_str(value: str) -> str:
    """A WSGI "bytes as latin-1" string as the text it encodes (UTF-8, replacing what is not)."""
    try:
        return value.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:  # already real text (some servers do that)
        return value


def filter_headers(headers: Iterable[tuple[str, str]], pii: bool) -> dict[str, str]:
    """Headers as a dict, credential (and, without ``pii``, address) values as ``[Filtered]``."""
    rv: dict[str, str] = {}
    for name, value in headers:
        lower = name.lower()
        if lower in _ALWAYS_FILTERED or (not pii and lower in _PII_HEADERS):
            value = FILTERED
        if name in rv:
            rv[name] = f"{rv[name]}, {value}"
        else:
            rv[name] = value
    return rv


def parse_cookies(header: str) -> dict[str, str]:
    """``a=1; b=2`` as ``{"a": "1", "b": "2"}``; malformed parts are skipped."""
    rv = {}
    for part in header.split(";"):
        name, eq, value = part.strip().partition("=")
        if eq and name:
            rv[name] = value.strip('"')
    return rv


# -- WSGI -----------------------------------------------------------------------------------------


def _environ_headers(environ: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    for key, value in environ.items():
        if not isinstance(value, str):
            continue
        if key.startswith("HTTP_") and key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
            yield key[5:].replace("_", "-").title(), _wsgi_str(value)
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            yield key.replace("_", "-").title(), _wsgi_str(value)


def wsgi_client_ip(environ: Mapping[str, Any]) -> str | None:
    """The client's address: the first of ``X-Forwarded-For``, else ``X-Real-Ip``, else ``REMOTE_ADDR``."""
    forwarded = environ.get("HTTP_X_FORWARDED_FOR")
    if forwarded:
        return str(forwarded).split(",")[0].strip() or None
    real = environ.get("HTTP_X_REAL_IP")
    if real:
        return str(real).strip() or None
    remote = environ.get("REMOTE_ADDR")
    return str(remote) if remote else None


def wsgi_url(environ: Mapping[str, Any], use_x_forwarded_for: bool) -> str:
    scheme = str(environ.get("wsgi.url_scheme") or "http")
    host = environ.get("HTTP_X_FORWARDED_HOST") if use_x_forwarded_for else None
    if use_x_forwarded_for and environ.get("HTTP_X_FORWARDED_PROTO"):
        scheme = str(environ["HTTP_X_FORWARDED_PROTO"]).split(",")[0].strip() or scheme
    host = host or environ.get("HTTP_HOST")
    if not host:
        name = str(environ.get("SERVER_NAME") or "localhost")
        port = str(environ.get("SERVER_PORT") or "")
        host = name if not port or _DEFAULT_PORTS.get(scheme) == port else f"{name}:{port}"
    path = _wsgi_str(str(environ.get("SCRIPT_NAME") or "")) + _wsgi_str(str(environ.get("PATH_INFO") or ""))
    return f"{scheme}://{_wsgi_str(str(host))}{path or '/'}"


def request_from_environ(
    environ: Mapping[str, Any], pii: bool, use_x_forwarded_for: bool = False
) -> dict[str, Any]:
    """The request interface (no body) for a WSGI ``environ``."""
    env = {"SERVER_NAME": environ.get("SERVER_NAME"), "SERVER_PORT": environ.get("SERVER_PORT")}
    if pii:
        ip = wsgi_client_ip(environ) if use_x_forwarded_for else environ.get("REMOTE_ADDR")
        if ip:
            env["REMOTE_ADDR"] = ip
    request: dict[str, Any] = {
        "url": wsgi_url(environ, use_x_forwarded_for),
        "method": str(environ.get("REQUEST_METHOD") or "GET").upper(),
        "query_string": _wsgi_str(str(environ.get("QUERY_STRING") or "")),
        "headers": filter_headers(_environ_headers(environ), pii),
        "env": {key: str(value) for key, value in env.items() if value is not None},
    }
    if pii:
        cookie = environ.get("HTTP_COOKIE")
        if cookie:
            request["cookies"] = parse_cookies(_wsgi_str(str(cookie)))
    return request


# -- ASGI -----------------------------------------------------------------------------------------


def asgi_headers(scope: Mapping[str, Any]) -> list[tuple[str, str]]:
    """An ASGI scope's headers as text pairs (names lowercased by ASGI; shown title-cased)."""
    rv = []
    for name, value in scope.get("headers") or ():
        try:
            rv.append((name.decode("latin-1").title(), value.decode("utf-8", "replace")))
        except (AttributeError, TypeError):
            continue
    return rv


def asgi_client_ip(scope: Mapping[str, Any], headers: Iterable[tuple[str, str]] = ()) -> str | None:
    """The client's address: the first of ``X-Forwarded-For``, else ``X-Real-Ip``, else the scope's client."""
    found = {name.lower(): value for name, value in headers}
    if found.get("x-forwarded-for"):
        return found["x-forwarded-for"].split(",")[0].strip() or None
    if found.get("x-real-ip"):
        return found["x-real-ip"].strip() or None
    client = scope.get("client")
    if client:
        return str(client[0])
    return None


def request_from_asgi(scope: Mapping[str, Any], pii: bool) -> dict[str, Any]:
    """The request interface (no body) for an ASGI ``http`` or ``websocket`` scope."""
    headers = asgi_headers(scope)
    host = next((value for name, value in headers if name == "Host"), None)
    scheme = str(scope.get("scheme") or ("ws" if scope.get("type") == "websocket" else "http"))
    server = scope.get("server") or (None, None)
    if not host:
        name, port = server[0] or "localhost", server[1]
        host = name if port is None or _DEFAULT_PORTS.get(scheme) == str(port) else f"{name}:{port}"
    root, path = scope.get("root_path", ""), scope.get("path", "")
    # Servers differ on whether ``path`` already starts with ``root_path`` (uvicorn 0.26+ does).
    if root and not path.startswith(root):
        path = root + path
    query = scope.get("query_string") or b""
    request: dict[str, Any] = {
        "url": f"{scheme}://{host}{path or '/'}",
        "method": str(scope.get("method") or "GET").upper(),
        "query_string": query.decode("utf-8", "replace") if isinstance(query, bytes) else str(query),
        "headers": filter_headers(headers, pii),
        "env": {key: str(value) for key, value in zip(("SERVER_NAME", "SERVER_PORT"), server) if value},
    }
    if scope.get("type") == "websocket":
        del request["method"]
    if pii:
        client = scope.get("client")
        if client:
            request["env"]["REMOTE_ADDR"] = str(client[0])
        cookie = next((value for name, value in headers if name == "Cookie"), None)
        if cookie:
            request["cookies"] = parse_cookies(cookie)
    return request
