"""Parsing and validating a DSN, and deriving the ingest URL and auth header from it."""

from __future__ import annotations

from .consts import USER_AGENT


class BadDsn(ValueError):  # noqa: N818 - the name sentry-sdk users catch
    """Raised when a DSN cannot be parsed; the message says which part is wrong."""


class Dsn:
    """A parsed DSN: ``scheme://public_key[:secret]@host[:port]/[path/]project_id``."""

    __slots__ = ("scheme", "public_key", "secret_key", "host", "port", "path", "project_id")

    def __init__(self, value: str | Dsn) -> None:
        if isinstance(value, Dsn):
            for name in self.__slots__:
                setattr(self, name, getattr(value, name))
            return
        if not isinstance(value, str):
            raise BadDsn(f"DSN must be a string, not {type(value).__name__}")
        from urllib.parse import urlsplit  # only at init: it imports ipaddress and more

        try:
            parts = urlsplit(value.strip())
            port = parts.port
        except ValueError as exc:
            raise BadDsn(f"malformed DSN {value!r}: {exc}") from None
        if parts.scheme not in ("http", "https"):
            raise BadDsn(f"unsupported DSN scheme {parts.scheme!r} (expected http or https)")
        if not parts.hostname:
            raise BadDsn(f"DSN {value!r} has no host")
        if not parts.username:
            raise BadDsn(f"DSN {value!r} has no public key")
        path, _, project_id = parts.path.rstrip("/").rpartition("/")
        if not project_id.isdigit():
            raise BadDsn(f"DSN {value!r} has no numeric project id at the end of its path")
        self.scheme: str = parts.scheme
        self.public_key: str = parts.username
        self.secret_key: str | None = parts.password
        self.host: str = parts.hostname
        self.port: int = port if port is not None else (443 if parts.scheme == "https" else 80)
        self.path: str = path + "/"
        self.project_id: str = project_id

    @property
    def netloc(self) -> str:
        """Host plus the port when it is not the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def envelope_url(self) -> str:
        """The URL envelopes are POSTed to."""
        return f"{self.scheme}://{self.netloc}{self.path}api/{self.project_id}/envelope/"

    def auth_header(self) -> str:
        """The value of the ``X-Sentry-Auth`` header for requests to this DSN."""
        rv = f"Sentry sentry_key={self.public_key}, sentry_version=7, sentry_client={USER_AGENT}"
        if self.secret_key:
            rv += f", sentry_secret={self.secret_key}"
        return rv

    def __str__(self) -> str:
        secret = f":{self.secret_key}" if self.secret_key else ""
        return f"{self.scheme}://{self.public_key}{secret}@{self.netloc}{self.path}{self.project_id}"

    def __repr__(self) -> str:
        return f"Dsn({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dsn) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))
