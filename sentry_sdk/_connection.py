"""How the HTTP transport connects: socket options, the CA bundle, the proxy for a DSN."""

from __future__ import annotations

import os

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from ._dsn import Dsn

__all__ = ["ca_certs", "proxy_for", "socket_options"]


def socket_options(options: Mapping[str, Any]) -> list[tuple[int, int, int]] | None:
    """``socket_options`` as given, plus TCP keep-alive probes when ``keep_alive`` is on.

    ``None`` leaves urllib3's defaults (Nagle's algorithm off) in place.
    """
    given = options.get("socket_options")
    if not options.get("keep_alive"):
        return list(given) if given is not None else None
    import socket

    from urllib3.connection import HTTPConnection

    rv = list(given) if given is not None else list(HTTPConnection.default_socket_options)
    keep_alive = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    for name, value in (("TCP_KEEPIDLE", 45), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 6)):
        if hasattr(socket, name):  # not every platform has each
            keep_alive.append((socket.IPPROTO_TCP, getattr(socket, name), value))
    present = {(level, option) for level, option, _ in rv}
    return rv + [o for o in keep_alive if (o[0], o[1]) not in present]


def ca_certs(option: str | None) -> str:
    """The CA bundle: the option, else ``SSL_CERT_FILE`` or ``REQUESTS_CA_BUNDLE``, else certifi's."""
    if option:
        return option
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        if os.environ.get(name):
            return os.environ[name]
    import certifi

    return str(certifi.where())


def proxy_for(dsn: Dsn, options: Mapping[str, Any]) -> str | None:
    """The proxy URL for ``dsn``: the option for its scheme, else the environment; ``""`` means none."""
    import urllib.request

    env = urllib.request.getproxies()
    bypass = urllib.request.proxy_bypass(dsn.host) if env else False
    for scheme in ("https", "http") if dsn.scheme == "https" else ("http",):
        option = options.get(f"{scheme}_proxy")
        if option is not None:
            return option or None
        if env.get(scheme) and not bypass:
            return env[scheme]
    return None
