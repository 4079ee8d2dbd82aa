"""TLS client certificates, proxy headers, keep-alive and socket options, on real connections."""

from __future__ import annotations

import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import sentry_sdk
from sentry_sdk._connection import socket_options as _socket_options
from sentry_sdk.testing import IngestServer
from sentry_sdk.transport import HttpTransport


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1, used as server cert, client cert and CA at once."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        capture_output=True,
    )  # fmt: skip
    if made.returncode:
        pytest.skip(f"openssl could not make a certificate: {made.stderr[-200:]!r}")
    return str(cert), str(key)


@pytest.fixture
def mutual_tls_server(certificate: tuple[str, str]) -> Iterator[IngestServer]:
    """An ingest server over TLS that only talks to clients presenting a trusted certificate."""
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cert)
    with IngestServer() as server:
        server._server.socket = context.wrap_socket(server._server.socket, server_side=True)  # type: ignore[union-attr]
        yield server


def test_a_client_certificate_is_presented_when_configured(
    mutual_tls_server: IngestServer, certificate: tuple[str, str]
) -> None:
    """``cert_file``/``key_file`` get us through a server that requires a client certificate."""
    cert, key = certificate
    dsn = mutual_tls_server.dsn.replace("http://", "https://")
    sentry_sdk.init(dsn=dsn, ca_certs=cert, cert_file=cert, key_file=key, default_integrations=False)
    sentry_sdk.capture_message("with a client certificate")
    sentry_sdk.flush(timeout=10)
    assert ["with a client certificate"] == [e["message"] for e in mutual_tls_server.events()]


def test_without_the_client_certificate_the_handshake_fails_and_is_counted(
    mutual_tls_server: IngestServer, certificate: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same server refuses a client without one: nothing raised, the loss counted."""
    from sentry_sdk import transport as transport_module

    monkeypatch.setattr(transport_module, "_BACKOFF_CAP", 0.01)
    cert, _ = certificate
    sentry_sdk.init(
        dsn=mutual_tls_server.dsn.replace("http://", "https://"),
        ca_certs=cert,
        default_integrations=False,
        send_client_reports=False,
    )
    sentry_sdk.capture_message("no client certificate")
    sentry_sdk.flush(timeout=10)
    transport = sentry_sdk.Hub.current.client.transport  # type: ignore[union-attr]
    assert 1 == transport.lost_events[("network_error", "error")]  # type: ignore[union-attr]
    assert [] == mutual_tls_server.events()


def test_proxy_headers_are_sent_to_the_proxy(ingest: IngestServer) -> None:
    """``proxy_headers`` (say, Proxy-Authorization) go with every request through the proxy."""
    sentry_sdk.init(
        dsn="http://public@sentry.invalid/1",
        http_proxy=ingest.url,
        proxy_headers={"Proxy-Authorization": "Basic dXNlcjpwYXNz"},
        default_integrations=False,
    )
    sentry_sdk.capture_message("via an authenticating proxy")
    sentry_sdk.flush(timeout=5)
    (request,) = ingest.requests
    assert "Basic dXNlcjpwYXNz" == request.headers.get("Proxy-Authorization")


def test_keep_alive_and_socket_options_reach_the_connection(ingest: IngestServer) -> None:
    """``keep_alive=True`` turns on TCP keep-alive; ``socket_options`` are applied as given."""
    sentry_sdk.init(
        dsn=ingest.dsn,
        keep_alive=True,
        socket_options=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)],
        default_integrations=False,
    )
    sentry_sdk.capture_message("over a kept-alive connection")
    sentry_sdk.flush(timeout=5)
    assert 1 == len(ingest.events())
    transport = sentry_sdk.Hub.current.client.transport  # type: ignore[union-attr]
    assert isinstance(transport, HttpTransport) and transport._pool is not None
    # The server closes each connection after answering, so the options are read where urllib3
    # takes them from for every new connection of this pool.
    pool = transport._pool.connection_from_url(ingest.url)
    given = pool.conn_kw["socket_options"]
    assert (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1) in given
    assert (socket.SOL_SOCKET, socket.SO_RCVBUF, 65536) in given


def test_socket_options_are_left_to_urllib3_unless_asked() -> None:
    """Without either option urllib3's defaults stay; keep-alive adds its probes once."""
    assert None is _socket_options({})
    options = _socket_options({"keep_alive": True})
    assert options is not None
    assert (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1) in options
    assert len(options) == len(set(options))
