"""A minimal loopback ingest server (scratch stand-in)."""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class ParsedItem:
    headers: dict[str, Any]
    payload: bytes

    def json(self) -> Any:
        return json.loads(self.payload)


@dataclass
class ParsedEnvelope:
    headers: dict[str, Any]
    items: list[ParsedItem] = field(default_factory=list)


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    auth: dict[str, str]
    envelope: ParsedEnvelope | None
    error: str | None
    status: int


def parse_envelope(body: bytes) -> ParsedEnvelope:
    line, sep, rest = body.partition(b"\n")
    try:
        headers = json.loads(line)
    except ValueError as exc:
        raise ValueError(f"envelope header is not JSON: {exc}") from None
    env = ParsedEnvelope(headers)
    pos = 0
    while pos < len(rest):
        end = rest.find(b"\n", pos)
        if end == -1:
            end = len(rest)
        hline = rest[pos:end]
        if not hline.strip():
            pos = end + 1
            continue
        try:
            ih = json.loads(hline)
        except ValueError as exc:
            raise ValueError(f"item header is not JSON: {exc}") from None
        pos = end + 1
        if "length" in ih:
            n = int(ih["length"])
            if pos + n > len(rest):
                raise ValueError("item length runs past the end of the envelope")
            payload = rest[pos : pos + n]
            pos += n
            if pos < len(rest):
                if rest[pos : pos + 1] != b"\n":
                    raise ValueError("missing newline after a length-delimited payload")
                pos += 1
        else:
            end = rest.find(b"\n", pos)
            if end == -1:
                end = len(rest)
            payload = rest[pos:end]
            pos = end + 1
        env.items.append(ParsedItem(ih, payload))
    return env


def _parse_auth(header: str, query: str) -> dict[str, str]:
    rv: dict[str, str] = {}
    if header.lower().startswith("sentry "):
        for part in header[7:].split(","):
            k, _, v = part.strip().partition("=")
            rv[k] = v
    for name, values in parse_qs(query).items():
        rv.setdefault(name, values[0])
    return rv


class IngestServer:
    def __init__(
        self, *, project_id: str = "1", public_key: str = "public", host: str = "127.0.0.1", port: int = 0
    ):
        self.project_id = project_id
        self.public_key = public_key
        self._addr = (host, port)
        self.requests: list[ReceivedRequest] = []
        self._cond = threading.Condition()
        self._scripted: list[tuple[int, dict[str, str]]] = []
        self.delay = 0.0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> IngestServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:
                owner._handle(self)

        self._server = ThreadingHTTPServer(self._addr, Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        if self._thread:
            self._thread.join()

    def __enter__(self) -> IngestServer:
        return self.start()

    def __exit__(self, *a: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def dsn(self) -> str:
        assert self._server
        return f"http://{self.public_key}@127.0.0.1:{self._server.server_address[1]}/{self.project_id}"

    def script(self, *responses: tuple[int, dict[str, str]]) -> None:
        with self._cond:
            self._scripted.extend(responses)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        import time

        if self.delay:
            time.sleep(self.delay)
        n = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(n)
        parts = urlsplit(h.path)
        auth = _parse_auth(h.headers.get("X-Sentry-Auth", ""), parts.query)
        env = None
        error = None
        extra: dict[str, str] = {}
        if parts.path != f"/api/{self.project_id}/envelope/":
            status = 404
        elif auth.get("sentry_key") != self.public_key:
            status = 403
        else:
            try:
                enc = h.headers.get("Content-Encoding", "")
                if enc == "gzip":
                    body = gzip.decompress(body)
                elif enc == "deflate":
                    body = zlib.decompress(body, -15)
                env = parse_envelope(body)
                status = 200
            except Exception as exc:
                error = str(exc)
                status = 400
            with self._cond:
                if self._scripted and status == 200:
                    status, extra = self._scripted.pop(0)
        req = ReceivedRequest(h.path, dict(h.headers.items()), auth, env, error, status)
        with self._cond:
            self.requests.append(req)
            self._cond.notify_all()
        data = json.dumps({"id": env.headers.get("event_id") if env else None}).encode()
        h.send_response(status)
        for k, v in extra.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def envelopes(self) -> list[ParsedEnvelope]:
        with self._cond:
            return [r.envelope for r in self.requests if r.envelope is not None and r.status == 200]

    def items(self, type: str) -> list[ParsedItem]:
        return [i for e in self.envelopes() for i in e.items if i.headers.get("type") == type]

    def events(self) -> list[dict[str, Any]]:
        return [i.json() for i in self.items("event")]

    def wait_for_events(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.events()) >= count, timeout)
        if not ok:
            raise AssertionError(f"expected {count} events, got {len(self.events())}")
        return self.events()

    def clear(self) -> None:
        with self._cond:
            self.requests.clear()


def describe_event(event: Mapping[str, Any]) -> str:
    """A short human-readable account of an event, as the demo prints it."""
    lines = [f"level: {event.get('level')}  event_id: {event.get('event_id')}"]
    values = (event.get("exception") or {}).get("values") or []
    for exc in values:
        lines.append(f"exception: {exc.get('type')}: {exc.get('value')}")
    if values:
        frames = ((values[-1].get("stacktrace") or {}).get("frames")) or []
        for frame in frames[-3:]:
            lines.append(
                f'  File "{frame.get("filename")}", line {frame.get("lineno")}, in {frame.get("function")}'
            )
            if frame.get("context_line") is not None:
                lines.append(f"    {frame['context_line'].strip()}")
    logentry = event.get("logentry") or {}
    message = event.get("message") or logentry.get("formatted") or logentry.get("message")
    if message:
        lines.append(f"message: {message}")
    if event.get("logger"):
        lines.append(f"logger: {event['logger']}")
    if event.get("tags"):
        lines.append("tags: " + ", ".join(f"{k}={v}" for k, v in sorted(event["tags"].items())))
    if event.get("user"):
        lines.append(f"user: {event['user']}")
    crumbs = (event.get("breadcrumbs") or {}).get("values") or []
    for crumb in crumbs:
        category, level = crumb.get("category", ""), crumb.get("level", "info")
        lines.append(f"breadcrumb: [{category}] {crumb.get('message', '')} ({level})")
    for key in ("release", "environment"):
        if event.get(key):
            lines.append(f"{key}: {event[key]}")
    return "\n".join(lines)
