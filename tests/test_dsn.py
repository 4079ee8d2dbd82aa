"""Parsing DSNs: what is accepted, what is rejected, and the URL and auth header derived from it."""

from __future__ import annotations

import pytest

from sentry_sdk._dsn import BadDsn, Dsn


def test_a_sentry_io_dsn() -> None:
    """A hosted DSN gives the envelope URL and an auth header with the public key."""
    dsn = Dsn("https://abc123@o1.ingest.sentry.io/42")
    assert "https://o1.ingest.sentry.io/api/42/envelope/" == dsn.envelope_url
    assert dsn.auth_header().startswith(
        "Sentry sentry_key=abc123, sentry_version=7, sentry_client=sentry.python/"
    )
    assert "https://abc123@o1.ingest.sentry.io/42" == str(dsn)


def test_port_path_and_secret() -> None:
    """A self-hosted DSN keeps its port and path prefix; a secret key is sent as sentry_secret."""
    dsn = Dsn("http://pub:sec@localhost:9000/sentry/7")
    assert "http://localhost:9000/sentry/api/7/envelope/" == dsn.envelope_url
    assert dsn.auth_header().endswith(", sentry_secret=sec")
    assert "http://pub:sec@localhost:9000/sentry/7" == str(dsn)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("not a dsn", "scheme"),
        ("ftp://key@host/1", "scheme"),
        ("https://host/1", "public key"),
        ("https://key@/1", "host"),
        ("https://key@host/", "project id"),
        ("https://key@host/abc", "project id"),
        ("https://key@host:notaport/1", "malformed"),
    ],
)
def test_malformed_dsns_are_rejected_with_the_reason(value: str, reason: str) -> None:
    """A malformed DSN raises BadDsn (a ValueError) saying what is wrong."""
    with pytest.raises(BadDsn, match=reason):
        Dsn(value)


def test_non_string_dsn() -> None:
    """A DSN of the wrong type is refused."""
    with pytest.raises(BadDsn, match="string"):
        Dsn(42)  # type: ignore[arg-type]
