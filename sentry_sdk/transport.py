"""Transports: where envelopes go. ``HttpTransport`` posts them to Sentry from a background thread.

A custom transport is a :class:`Transport` subclass implementing ``capture_envelope`` (or, in the
early style, ``capture_event`` receiving event dicts), or a plain function receiving event dicts.
"""

from __future__ import annotations

import os
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Mapping

from ._connection import ca_certs, proxy_for, socket_options
from ._dsn import Dsn
from ._log import logger, report_internal_error
from ._ratelimits import RateLimits, parse_retry_after
from ._spool import Spool
from ._worker import BackgroundWorker
from .consts import DEFAULT_QUEUE_BYTES, MAX_EVENT_BYTES, USER_AGENT
from .envelope import Envelope, Item, PayloadRef

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False


if TYPE_CHECKING:
    from typing import Any

    import urllib3

__all__ = ["HttpTransport", "Transport", "make_transport"]

_REQUEST_TIMEOUT = 30.0
# 5xx answers and network errors are retried: up to this many attempts per envelope, waiting
# _backoff(n) between them (about 16 s in all at most), so a server that blips for a few seconds
# loses nothing while one that is down cannot hold an envelope for long.
_MAX_ATTEMPTS = 10
_BACKOFF_BASE = 0.05
_BACKOFF_CAP = 5.0


class Transport:
    """Base class: receives envelopes from the client; counts what it loses and why."""

    parsed_dsn: Dsn | None = None

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options: Mapping[str, Any] = options or {}
        dsn = self.options.get("dsn")
        self.parsed_dsn = Dsn(dsn) if dsn else None
        self.lost_events: Counter[tuple[str, str]] = Counter()
        self._lost_lock = threading.Lock()

    def capture_envelope(self, envelope: Envelope) -> None:
        """Send ``envelope``. Subclasses override this (or ``capture_event``)."""
        if type(self).capture_event is Transport.capture_event:
            raise NotImplementedError("a Transport must implement capture_envelope or capture_event")
        for item in envelope.items:
            event = item.get_event()
            if event is not None:
                self.capture_event(event)

    def capture_event(self, event: dict[str, Any]) -> None:
        """Early-style entry point: send one event dict (wrapped into an envelope here)."""
        envelope = Envelope(headers={"event_id": event.get("event_id")})
        envelope.add_event(event)
        self.capture_envelope(envelope)

    def record_lost_event(self, reason: str, data_category: str = "error", quantity: int = 1) -> None:
        """Count ``quantity`` items of ``data_category`` dropped for ``reason``."""
        # Counter updates are not atomic; losses come from several threads.
        with self._lost_lock:
            self.lost_events[(reason, data_category)] += quantity

    def flush(self, timeout: float, callback: Callable[[int, float], None] | None = None) -> None:
        """Wait up to ``timeout`` seconds for queued envelopes to be sent."""

    def kill(self) -> None:
        """Stop sending; queued envelopes are dropped."""

    def is_healthy(self) -> bool:
        """Whether the transport is currently able to send."""
        return True


class _FunctionTransport(Transport):
    """Calls a user function with each event dict, on the capturing thread."""

    def __init__(self, func: Callable[[dict[str, Any]], Any]) -> None:
        super().__init__()
        self._func = func

    def capture_envelope(self, envelope: Envelope) -> None:
        for item in envelope.items:
            event = item.get_event()
            if event is not None:
                self._func(event)


class HttpTransport(Transport):
    """Posts gzip-compressed envelopes to the DSN's ingest endpoint from a background thread."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        if self.parsed_dsn is None:
            raise ValueError("HttpTransport needs a DSN")
        self._url = self.parsed_dsn.envelope_url
        self._headers = {
            "Content-Type": "application/x-sentry-envelope",
            "Content-Encoding": "gzip",
            "User-Agent": USER_AGENT,
            "X-Sentry-Auth": self.parsed_dsn.auth_header(),
        }
        self._worker = BackgroundWorker(
            self.options.get("transport_queue_size"),
            max_bytes=self.options.get("transport_queue_bytes", DEFAULT_QUEUE_BYTES),
            shrink=_shrink,
        )
        self._pool: urllib3.PoolManager | None = None
        self._pool_pid = 0
        self._limits = RateLimits()
        self._stopping = threading.Event()  # set by kill(): a retry waiting for its turn gives up
        self.delivered = 0  # envelopes the server accepted
        self.spooled = 0  # envelopes written to the spool
        self.last_error: str | None = None
        self._spool: Spool | None = None
        self._replay_queued = False
        spool_dir = self.options.get("spool_dir")
        if spool_dir:
            self._spool = Spool(spool_dir)
            self._queue_replay()  # what earlier processes left behind
        # Losses not yet told to the server in a client report, by (reason, category).
        self._unreported: Counter[tuple[str, str]] = Counter()
        self._send_client_reports = bool(self.options.get("send_client_reports", True))

    # -- the calling thread -------------------------------------------------------------------

    def capture_envelope(self, envelope: Envelope) -> None:
        """Encode ``envelope``, then queue it for sending; never blocks on the network.

        Encoding here rather than on the worker thread keeps the queue small (bytes instead of
        event dicts, so it can hold thousands of events) and lets it be bounded by what it really
        holds. Compressing is left to the worker (see ``_Outgoing``): zlib lets go of the GIL, and
        getting it back while the worker is busy would stall the capturing thread.
        """
        event_id = envelope.headers.get("event_id")
        if self._limits._until and not self._drop_limited_items(envelope):
            return
        self._add_client_report(envelope)
        categories = [item.data_category for item in envelope.items]
        raw = _encode(envelope)
        if raw is not None and len(raw) > MAX_EVENT_BYTES:
            raw = _fit(envelope, MAX_EVENT_BYTES)
        if raw is None:
            self._lose(categories, "internal_sdk_error", event_id)
            return
        outgoing = _Outgoing(self, raw, categories, event_id)
        if self._worker.pending_bytes > _COMPRESS_HERE_ABOVE:
            # The worker is behind (a slow or unreachable server) and compresses what waits only
            # between sends: compressed here, a backlog never piles up as raw JSON meanwhile.
            outgoing.compress()
        if not self._worker.submit(outgoing, len(outgoing.body)):
            self._lose(categories, "queue_overflow", event_id)

    def _drop_limited_items(self, envelope: Envelope) -> bool:
        """Remove (and count) items the server holds back; returns whether anything is left."""
        kept = []
        for item in envelope.items:
            if self._limits.is_limited(item.data_category):
                self.record_lost_event("ratelimit_backoff", item.data_category)
            else:
                kept.append(item)
        if len(kept) < len(envelope.items):
            logger.debug(
                "rate limited: %d item(s) of envelope %r dropped",
                len(envelope.items) - len(kept),
                envelope.headers.get("event_id"),
            )
        envelope.items[:] = kept
        return bool(kept)

    def record_lost_event(self, reason: str, data_category: str = "error", quantity: int = 1) -> None:
        super().record_lost_event(reason, data_category, quantity)
        if data_category != "internal":  # losing a report is not reported again
            with self._lost_lock:
                self._unreported[(reason, data_category)] += quantity

    def _add_client_report(self, envelope: Envelope) -> None:
        """Put the losses not reported yet into ``envelope`` as a ``client_report`` item."""
        if not self._send_client_reports or not self._unreported:
            return
        with self._lost_lock:
            counts, self._unreported = self._unreported, Counter()
        report = {
            "timestamp": time.time(),
            "discarded_events": [
                {"reason": reason, "category": category, "quantity": quantity}
                for (reason, category), quantity in sorted(counts.items())
            ],
        }
        envelope.add_item(Item(PayloadRef(json=report), type="client_report"))

    def _lose(self, categories: list[str], reason: str, event_id: object) -> None:
        for category in categories:
            self.record_lost_event(reason, category)
        logger.debug("dropped an envelope (%s): %r", reason, event_id)

    def flush(self, timeout: float, callback: Callable[[int, float], None] | None = None) -> None:
        if self._send_client_reports and self._unreported:
            self.capture_envelope(Envelope(headers={"sent_at": _now_iso()}))
        if not self._worker.flush(timeout, callback) and self._spool is not None:
            # Out of time: what still waits goes to disk rather than staying only in memory.
            waiting = self._worker.take_queued()
            for job in waiting:
                if isinstance(job, _Outgoing) and not self._to_spool(job):
                    self._lose(job.categories, "queue_overflow", job.event_id)
            if waiting:
                logger.warning("flush timed out; %d envelope(s) spooled", len(waiting))

    def kill(self) -> None:
        self._stopping.set()
        dropped = self._worker.kill()
        if dropped:
            logger.debug("transport killed with %d envelopes still queued", len(dropped))
        for job in dropped:
            if isinstance(job, _Outgoing) and not self._to_spool(job):
                self._lose(job.categories, "queue_overflow", job.event_id)

    def is_healthy(self) -> bool:
        return not self._limits.any_active()

    @property
    def queue_depth(self) -> int:
        """Envelopes queued or being sent."""
        return self._worker.pending

    def health(self) -> dict[str, Any]:
        """A snapshot of how sending goes, for logs or a health endpoint of your own.

        ``queue_depth`` and ``queue_bytes`` (waiting or being sent), ``delivered`` (envelopes the
        server accepted), ``dropped`` (``{"reason/category": count}``), ``last_error`` (the last
        failure, or ``None``) and ``rate_limited_for`` (seconds the server still holds us back).
        """
        with self._lost_lock:
            dropped = {
                f"{reason}/{category}": n for (reason, category), n in sorted(self.lost_events.items())
            }
        return {
            "queue_depth": self._worker.pending,
            "queue_bytes": self._worker.pending_bytes,
            "delivered": self.delivered,
            "spooled": self.spooled,
            "dropped": dropped,
            "last_error": self.last_error,
            "rate_limited_for": round(self._limits.seconds_left(), 3),
        }

    # -- the worker thread --------------------------------------------------------------------

    def _send(self, outgoing: _Outgoing) -> None:
        categories, event_id = outgoing.categories, outgoing.event_id
        if self._limits._until and all(self._limits.is_limited(c) for c in categories):
            self._lose(categories, "ratelimit_backoff", event_id)
            return
        outgoing.compress()
        for attempt in range(_MAX_ATTEMPTS):
            status, headers, error = self._post(outgoing.body)
            retryable = error is not None or status >= 500
            if retryable:
                self.last_error = error or f"HTTP {status}"
                if self._to_spool(outgoing):
                    # Waiting on disk costs nothing here; it is sent when the server answers.
                    logger.warning("sending to Sentry failed (%s); envelope spooled", self.last_error)
                    return
            if not retryable or attempt == _MAX_ATTEMPTS - 1 or self._stopping.is_set():
                break
            delay = _backoff(attempt)
            logger.warning(
                "sending to Sentry failed (%s); attempt %d of %d again in %.2f s",
                error or f"HTTP {status}",
                attempt + 2,
                _MAX_ATTEMPTS,
                delay,
            )
            # Waits on the worker thread only: capturing goes on queueing (bounded) meanwhile.
            if self._stopping.wait(delay):
                break
        if error is None and self._limits.update(status, headers):
            logger.warning(
                "Sentry asks to hold back events (HTTP %d, %s); for up to %.0f s",
                status,
                headers.get("x-sentry-rate-limits") or "Retry-After",
                self._limits.seconds_left(),
            )
        if error is not None or not 200 <= status < 300:
            self.last_error = error or f"HTTP {status}"
        if error is not None:
            logger.warning("sending to Sentry failed: %s", error)
            self._lose(categories, "network_error", event_id)
        elif status == 429:
            logger.warning("rate limited by Sentry (429)")
            self._lose(categories, "ratelimit_backoff", event_id)
        elif status == 413:
            if not outgoing.shrunk and outgoing.shrink_harder():
                logger.warning("Sentry rejected envelope %s as too large (413); sending it cut", event_id)
                self._send(outgoing)
                return
            logger.warning("Sentry rejected an envelope as too large (413)")
            self._lose(categories, "send_error", event_id)
        elif not 200 <= status < 300:
            logger.warning("Sentry answered HTTP %d", status)
            self._lose(categories, "send_error" if status < 500 else "network_error", event_id)
        else:
            self.delivered += 1
            logger.debug("sent envelope %s (HTTP %d)", event_id, status)
            if self._spool is not None and not self._replay_queued and len(self._spool):
                self._queue_replay()  # the server answers again: send what waited

    # -- the spool ----------------------------------------------------------------------------

    def _to_spool(self, outgoing: _Outgoing) -> bool:
        """Write ``outgoing`` to the spool, if there is one; returns whether it was."""
        if self._spool is None or outgoing.spooling_failed:
            return False
        try:
            body = gzip_decompress(outgoing.body) if outgoing.compressed else outgoing.body
            for name in self._spool.write(body):
                logger.warning("spool full: dropped %s", name)
                self.record_lost_event("buffer_overflow", "error")
        except Exception as exc:
            logger.warning("could not spool an envelope: %s", exc)
            outgoing.spooling_failed = True
            return False
        self.spooled += 1
        return True

    def _queue_replay(self) -> None:
        self._replay_queued = True
        if not self._worker.submit(self._replay):
            self._replay_queued = False

    def _replay(self) -> None:
        """On the worker thread: send what waits in the spool, oldest first."""
        self._replay_queued = False
        spool = self._spool
        if spool is None:
            return
        claimed = spool.claim()
        for index, (path, body) in enumerate(claimed):
            try:
                envelope = Envelope.deserialize(body)
            except Exception as exc:
                logger.warning("spooled file %s is not an envelope (%s); removed", path, exc)
                spool.release(path)
                continue
            categories = [item.data_category for item in envelope.items]
            status, _, error = self._post(gzip_compress(body))
            if error is None and 200 <= status < 300:
                self.delivered += 1
                spool.release(path)
            elif error is None and 400 <= status < 500 and status != 429:
                self._lose(categories, "send_error", envelope.headers.get("event_id"))
                spool.release(path)
            else:  # still unreachable: everything goes back for a later attempt
                self.last_error = error or f"HTTP {status}"
                for rest, _ in claimed[index:]:
                    spool.unclaim(rest)
                return

    def _post(self, body: bytes) -> tuple[int, Mapping[str, str], str | None]:
        """POST ``body``; returns ``(status, headers, error)`` and never raises."""
        if self._pool_pid != os.getpid():
            # A pool inherited through fork shares its sockets with the parent: never reuse it.
            self._pool = None
        try:
            pool = self._pool or self._make_pool()
            response = pool.request(
                "POST",
                self._url,
                body=body,
                headers=self._headers,
                timeout=_timeout(),
                retries=False,
                preload_content=True,
            )
        except Exception as exc:
            return 0, {}, f"{type(exc).__name__}: {exc}"
        return response.status, {k.lower(): v for k, v in response.headers.items()}, None

    def _make_pool(self) -> urllib3.PoolManager:
        # urllib3 and certifi are imported here, on the worker thread at the first send, so that
        # importing and initialising the SDK stays cheap.
        import urllib3

        options = self.options
        kwargs: dict[str, Any] = {
            "num_pools": 2,
            "cert_reqs": "CERT_REQUIRED",
            "ca_certs": ca_certs(options.get("ca_certs")),
        }
        if options.get("cert_file"):  # a client certificate, for servers that ask for one
            kwargs["cert_file"] = options["cert_file"]
            kwargs["key_file"] = options.get("key_file")
        sockets = socket_options(options)
        if sockets is not None:
            kwargs["socket_options"] = sockets
        proxy = proxy_for(self.parsed_dsn, options)  # type: ignore[arg-type]
        if proxy:
            logger.debug("sending through proxy %s", proxy)
            if options.get("proxy_headers"):
                kwargs["proxy_headers"] = dict(options["proxy_headers"])
            pool: urllib3.PoolManager = urllib3.ProxyManager(proxy, **kwargs)
        else:
            pool = urllib3.PoolManager(**kwargs)
        self._pool = pool
        self._pool_pid = os.getpid()
        return pool


class _Outgoing:
    """An envelope ready to send: its encoded body and what it counts as if it is lost.

    The body is gzip-compressed by the worker thread, at the latest when it is sent, and earlier
    while it waits behind other envelopes (so a backlog holds compressed bytes).
    """

    __slots__ = ("body", "categories", "compressed", "event_id", "shrunk", "spooling_failed", "_transport")

    def __init__(
        self, transport: HttpTransport, body: bytes, categories: list[str], event_id: object
    ) -> None:
        self._transport = transport
        self.body = body
        self.compressed = False
        self.shrunk = False
        self.spooling_failed = False
        self.categories = categories
        self.event_id = event_id

    def compress(self) -> int:
        """Compress the body (once); returns its size in bytes."""
        if not self.compressed:
            self.body = gzip_compress(self.body)
            self.compressed = True
        return len(self.body)

    def shrink_harder(self) -> bool:
        """After a 413: cut the event's locals, breadcrumbs and long strings; once only."""
        self.shrunk = True
        try:
            body = gzip_decompress(self.body) if self.compressed else self.body
            raw = _fit(Envelope.deserialize(body), 0)
        except Exception:
            report_internal_error()
            return False
        if raw is None:
            return False
        self.body, self.compressed = raw, False
        return True

    def __call__(self) -> None:
        self._transport._send(self)


def gzip_compress(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: gzip framing
    return compressor.compress(data) + compressor.flush()


def gzip_decompress(data: bytes) -> bytes:
    return zlib.decompress(data, 47)  # wbits 47: gzip or zlib framing


def _fit(envelope: Envelope, limit: int) -> bytes | None:
    """Cut the envelope's events (see ``_trim``) until each fits ``limit``; returns the bytes."""
    from ._trim import trim_event
    from .envelope import _json_bytes

    for item in envelope.items:
        event = item.get_event()
        if event is not None and len(item.get_bytes()) > limit:
            fits = trim_event(event, lambda e: len(_json_bytes(e)), limit)
            item.payload.bytes = None
            if not fits and limit:
                logger.warning("event %r is still over %d bytes after cutting", event.get("event_id"), limit)
    return _encode(envelope)


def _shrink(job: Any) -> int | None:
    return job.compress() if isinstance(job, _Outgoing) else None


def _encode(envelope: Envelope) -> bytes | None:
    """The envelope's bytes; payloads JSON cannot hold as they are are made safe first."""
    try:
        return envelope.serialize()
    except (TypeError, ValueError, RecursionError):
        # Only data changed after serialization gets here: a before_send that put in a set, a
        # NaN or an object. Make those payloads JSON-safe rather than lose the event.
        pass
    from ._serializer import serialize_event

    try:
        for item in envelope.items:
            payload = item.payload
            if payload.json is not None and payload.path is None:
                payload.json = serialize_event(payload.json) if isinstance(payload.json, Mapping) else {}
                payload.bytes = None
        return envelope.serialize()
    except Exception:
        logger.error("an envelope could not be encoded; it is dropped", exc_info=True)
        return None


def _backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt ``attempt`` (from 0): doubling, capped, with jitter."""
    from random import random  # only needed once a send has failed

    delay: float = min(_BACKOFF_CAP, _BACKOFF_BASE * 2**attempt)
    return delay * (0.5 + random() / 2)  # jitter: clients that failed together retry apart


# Bytes waiting to be sent above which new envelopes are compressed on the capturing thread.
_COMPRESS_HERE_ABOVE = 256 * 1024

# The last whole second formatted, and its text: strftime costs more than the rest of an envelope's
# headers, and every event of a second shares it.
_second: tuple[int, str] = (-1, "")


def _now_iso() -> str:
    global _second
    now = time.time()
    whole = int(now)
    second = _second
    if second[0] != whole:
        second = _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{second[1]}.{int((now - whole) * 1e6):06d}Z"


def _timeout() -> Any:
    import urllib3

    return urllib3.Timeout(total=_REQUEST_TIMEOUT)


_parse_retry_after = parse_retry_after  # the name earlier code and tests use


def make_transport(options: Mapping[str, Any]) -> Transport | None:
    """The transport for these options (``None`` when there is no DSN and no custom transport)."""
    transport = options.get("transport")
    if isinstance(transport, Transport):
        return transport
    if isinstance(transport, type) and issubclass(transport, Transport):
        return transport(options)
    if callable(transport):
        return _FunctionTransport(transport)
    if transport is not None:
        raise TypeError(f"sentry_sdk option 'transport' must be a Transport or a callable, got {transport!r}")
    if options.get("dsn"):
        return HttpTransport(options)
    return None
