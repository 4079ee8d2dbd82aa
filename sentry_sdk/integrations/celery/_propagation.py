"""The trace across the broker: ``sentry-trace`` and ``baggage`` headers out, and back in.

Until tracing exists, a propagation context is a ``contexts["trace"]`` dict (``trace_id``,
``span_id``, and ``parent_span_id`` when continued) on an isolation scope: the scope's events carry
it, and the tasks published from it carry it in their message headers. A task continues the trace
its headers name (its baggage, third-party entries included, is passed on unchanged); a trace that
starts here gets a dynamic sampling context built from the client's options.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from ...api import get_client

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ...scope import Scope

__all__ = ["continued", "header", "head_baggage", "new_trace", "scope_trace"]

_SENTRY_TRACE = r"^[ \t]*([0-9a-f]{32})-([0-9a-f]{16})(?:-([01]))?[ \t]*$"
_DIGIT_RUN = r"[0-9]{13}"


def _hex_id(bits: int) -> str:
    # random is reseeded in forked children; uuid4 (os.urandom) would cost a system call a task.
    # Imported here: an init that never sees Celery should not pay for importing it.
    import random

    while True:
        value = f"{random.getrandbits(bits):0{bits // 4}x}"
        # Thirteen decimal digits in a row can pass for a card number, which value scrubbing would
        # then replace inside the id (about 1 random trace id in 2,500): such ids are drawn again.
        if re.search(_DIGIT_RUN, value) is None:
            return value


def new_trace(parent: dict[str, Any] | None = None) -> dict[str, Any]:
    """A propagation context: a child of ``parent`` (a trace context dict), or a new trace."""
    if parent is None:
        return {"trace_id": _hex_id(128), "span_id": _hex_id(64)}
    return {"trace_id": parent["trace_id"], "span_id": _hex_id(64), "parent_span_id": parent["span_id"]}


def continued(sentry_trace: str | None) -> tuple[dict[str, Any], str | None] | None:
    """The context continuing an incoming ``sentry-trace`` and its sampling flag; ``None`` if invalid."""
    # re's own cache holds the compiled pattern: nothing is compiled by an init that never sees Celery.
    match = re.match(_SENTRY_TRACE, sentry_trace) if sentry_trace is not None else None
    if match is None:
        return None
    trace_id, parent, sampled = match.groups()
    return new_trace({"trace_id": trace_id, "span_id": parent}), sampled


def scope_trace(scope: Scope) -> dict[str, Any] | None:
    """The scope's propagation context, if it has one.

    Scopes offer no public read of a context yet: this is the one private read of the integration,
    to be replaced by the scope's own propagation context once tracing has one.
    """
    contexts = getattr(scope, "_contexts", None)
    trace = contexts.get("trace") if isinstance(contexts, dict) else None
    if (
        isinstance(trace, dict)
        and isinstance(trace.get("trace_id"), str)
        and isinstance(trace.get("span_id"), str)
    ):
        return trace
    return None


def header(request: Any, name: str) -> str | None:
    """A message header from a task's request (a dict, or Celery's request ``Context``)."""
    get = getattr(request, "get", None)
    if get is None:
        return None
    value = get(name)
    if value is None:
        nested = get("headers")  # apply(headers=...) and task protocol 1 nest the custom headers
        value = nested.get(name) if isinstance(nested, dict) else None
    return value if isinstance(value, str) else None


def head_baggage(trace_id: str) -> str:
    """The dynamic sampling context of a trace that starts here, as W3C baggage."""
    client = get_client()
    options = client.options
    dsn = getattr(client, "parsed_dsn", None)
    entries = {
        "trace_id": trace_id,
        "environment": options.get("environment"),
        "release": options.get("release"),
        "public_key": getattr(dsn, "public_key", None),
        # Uniform in [0, 1), drawn from the (random) trace id, so the same for the whole trace.
        "sample_rand": f"0.{int(trace_id[-8:], 16) % 1_000_000:06d}",
    }
    return ",".join(f"sentry-{key}={quote(str(value), safe='')}" for key, value in entries.items() if value)
