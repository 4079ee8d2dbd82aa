"""The trace a scope belongs to when no span is running: tracing without performance.

Each isolation scope holds a :class:`PropagationContext` (made when first needed): the trace id
and span id that errors carry as ``contexts.trace`` and outgoing requests carry in ``sentry-trace``
and ``baggage``, continued from an incoming request's headers when there were any. Ids are drawn
only when something asks for them, and incoming headers are parsed only then, so a request that
sends nothing and calls nothing pays for none of it.

The dynamic sampling context (DSC) of the trace lives here too: taken over (frozen) from an
incoming ``baggage`` with ``sentry-`` entries, or built once from the options at the head.
"""

from __future__ import annotations

import functools

from .headers import format_baggage, format_sample_rand, parse_baggage, parse_sentry_trace, parse_unit_float
from .ids import span_id, trace_id
from .sampling import new_sample_rand

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

__all__ = ["PropagationContext", "dsc_from_options", "headers_from"]


def headers_from(environ_or_headers: Any) -> tuple[object, object]:
    """The ``sentry-trace`` and ``baggage`` values of a WSGI environ or a headers mapping.

    Header names are matched without regard to case; a mapping that cannot be read gives nothing.
    """
    try:
        if not hasattr(environ_or_headers, "items"):
            return None, None
        get = environ_or_headers.get
        trace = get("HTTP_SENTRY_TRACE")
        baggage = get("HTTP_BAGGAGE")
        if trace is not None or baggage is not None:
            return trace, baggage
        trace = get("sentry-trace")
        baggage = get("baggage")
        if trace is not None or baggage is not None:
            return trace, baggage
        for key, value in environ_or_headers.items():
            name = key.decode("latin-1") if isinstance(key, bytes) else key
            if not isinstance(name, str):
                continue
            lowered = name.lower()
            if lowered == "sentry-trace":
                trace = value
            elif lowered == "baggage":
                baggage = value
        return trace, baggage
    except Exception:  # a mapping of the program's that cannot be read: a new trace
        return None, None


def dsc_from_options(options: Mapping[str, Any], trace_id: str) -> dict[str, str]:
    """The head of a trace's DSC from the client's options (public key, release, environment)."""
    parts = (options.get("dsn"), options.get("org_id"), options.get("release"), options.get("environment"))
    try:
        head = _dsc_head(*parts)
    except TypeError:  # an option value that cannot be a cache key: worked out again
        head = _dsc_head.__wrapped__(*parts)
    return {"trace_id": trace_id, **head}


# Every trace of a client has the same head: worked out once (a few clients at most per process).
@functools.lru_cache(maxsize=8)
def _dsc_head(dsn: object, org: object, release: object, environment: object) -> dict[str, str]:
    head: dict[str, str] = {}
    if isinstance(dsn, str) and "@" in dsn:
        key = dsn.split("://", 1)[-1].split("@", 1)[0].split(":", 1)[0]
        if key:
            head["public_key"] = key
        if org is None:
            host = dsn.split("@", 1)[1].split("/", 1)[0].split(":", 1)[0]
            first = host.split(".", 1)[0]
            if len(first) > 1 and first[0] == "o" and first[1:].isdigit():
                org = first[1:]
        if org is not None:
            head["org_id"] = str(org)
    for name, value in (("release", release), ("environment", environment)):
        if isinstance(value, str) and value:
            head[name] = value
    return head


class PropagationContext:
    """The trace of a scope without a span: ids drawn, and incoming headers read, on first use."""

    __slots__ = (
        "_baggage",
        "_dsc",
        "_parent_sampled",
        "_parent_span_id",
        "_read",
        "_sample_rand",
        "_span_id",
        "_third_party",
        "_trace",
        "_trace_id",
    )

    def __init__(self, sentry_trace: object = None, baggage: object = None) -> None:
        self._trace = sentry_trace
        self._baggage = baggage
        self._read = sentry_trace is None and baggage is None
        self._trace_id: str | None = None
        self._span_id: str | None = None
        self._parent_span_id: str | None = None
        self._parent_sampled: bool | None = None
        self._dsc: dict[str, str] | None = None
        self._third_party = ""
        self._sample_rand: float | None = None

    @classmethod
    def from_incoming(cls, environ_or_headers: Any) -> PropagationContext:
        """Continue the trace of an incoming request's headers (or start one if they hold none)."""
        return cls(*headers_from(environ_or_headers))

    def _read_incoming(self) -> None:
        self._read = True
        parsed = parse_sentry_trace(self._trace)
        if parsed is None:
            return  # a missing or malformed header starts a new trace (its baggage goes too)
        self._trace_id, self._parent_span_id, self._parent_sampled = parsed
        sentry, third_party = parse_baggage(self._baggage)
        self._third_party = third_party
        if sentry:
            # The head of the trace decided the DSC: it is passed on as it came, frozen.
            self._dsc = dict(sentry)
            self._dsc["trace_id"] = self._trace_id
            self._sample_rand = parse_unit_float(sentry.get("sample_rand"))
            if self._sample_rand is not None and self._sample_rand >= 1.0:
                self._sample_rand = None

    @property
    def trace_id(self) -> str:
        if not self._read:
            self._read_incoming()
        if self._trace_id is None:
            self._trace_id = trace_id()
        return self._trace_id

    @property
    def span_id(self) -> str:
        if self._span_id is None:
            self._span_id = span_id()
        return self._span_id

    @property
    def parent_span_id(self) -> str | None:
        if not self._read:
            self._read_incoming()
        return self._parent_span_id

    @property
    def parent_sampled(self) -> bool | None:
        if not self._read:
            self._read_incoming()
        return self._parent_sampled

    @property
    def incoming_dsc(self) -> dict[str, str] | None:
        """The DSC an incoming ``baggage`` carried, if any (frozen: never changed here)."""
        if not self._read:
            self._read_incoming()
        return self._dsc

    @property
    def third_party_baggage(self) -> str:
        """The incoming ``baggage`` entries that are not Sentry's, to pass on untouched."""
        if not self._read:
            self._read_incoming()
        return self._third_party

    def sample_rand(self) -> float:
        """The trace's random number for sampling: from the incoming baggage, else drawn once."""
        if not self._read:
            self._read_incoming()
        if self._sample_rand is None:
            parent_rate = parse_unit_float((self._dsc or {}).get("sample_rate"))
            self._sample_rand = new_sample_rand(self._parent_sampled, parent_rate)
        return self._sample_rand

    def trace_context(self) -> dict[str, Any]:
        """``contexts.trace`` of an error captured with no span running."""
        context: dict[str, Any] = {"trace_id": self.trace_id, "span_id": self.span_id}
        if self._parent_span_id is not None:
            context["parent_span_id"] = self._parent_span_id
        return context

    def dynamic_sampling_context(self, options: Mapping[str, Any]) -> dict[str, str]:
        """The trace's DSC: the incoming one, or this SDK's head, built once and then frozen."""
        trace_id = self.trace_id
        if self._dsc is None:
            dsc = dsc_from_options(options, trace_id)
            dsc["sample_rand"] = format_sample_rand(self.sample_rand())
            self._dsc = dsc
        return self._dsc

    def to_traceparent(self) -> str:
        """The ``sentry-trace`` value: no sampling decision (none was taken for this trace)."""
        trace = f"{self.trace_id}-{self.span_id}"
        if self._parent_sampled is not None:
            trace += "-1" if self._parent_sampled else "-0"
        return trace

    def to_baggage(self, options: Mapping[str, Any]) -> str:
        return format_baggage(self.dynamic_sampling_context(options), self.third_party_baggage)
