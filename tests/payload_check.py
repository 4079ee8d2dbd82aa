"""Checks every payload the suite produces the way Sentry would: envelope framing, then Relay's normalizer.

Relay's ``StoreNormalizer`` is the code Sentry runs on every incoming event. It never rejects an
event; it deletes what it cannot accept and records an ``err`` in ``_meta``. An ``err`` anywhere
means Sentry would have thrown part of our event away, so the check fails on it.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from sentry_sdk.envelope import Envelope
from sentry_sdk.testing import ParsedEnvelope, parse_envelope

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_normalizer: Any = None


def _get_normalizer() -> Any:
    global _normalizer
    if _normalizer is None:
        from sentry_relay.processing import StoreNormalizer

        _normalizer = StoreNormalizer(remove_other=True)
    return _normalizer


def meta_errors(meta: Any, path: str = "") -> list[str]:
    """Every ``err`` in a ``_meta`` tree, as ``path: error``."""
    found: list[str] = []
    if isinstance(meta, dict):
        for key, value in meta.items():
            if key == "" and isinstance(value, dict) and value.get("err"):
                found.append(f"{path or '<root>'}: {value['err']!r} (value {value.get('val')!r})")
            elif key != "":
                found.extend(meta_errors(value, f"{path}.{key}" if path else str(key)))
    return found


def check_event(event: dict[str, Any]) -> None:
    """Fail when Relay's normalizer would flag any part of ``event``."""
    body = json.dumps(event, allow_nan=False)
    normalized = _get_normalizer().normalize_event(raw_event=body.encode("utf-8"))
    errors = meta_errors(normalized.get("_meta"))
    if errors:
        raise AssertionError("Relay's normalizer flags this event:\n  " + "\n  ".join(errors))


def check_envelope_bytes(raw: bytes) -> ParsedEnvelope:
    """Fail on framing Sentry would refuse; then check each event and transaction item with Relay."""
    parsed = parse_envelope(raw)
    # Every length-delimited payload must be followed by a newline (our own rule: we always write one).
    assert raw.endswith(b"\n"), "an envelope must end with a newline after its last payload"
    check_parsed(parsed)
    return parsed


def check_parsed(parsed: ParsedEnvelope) -> None:
    """Check the headers and items of an envelope as the server parsed it."""
    headers = parsed.headers
    sent_at = headers.get("sent_at")
    assert isinstance(sent_at, str) and _RFC3339.match(sent_at), f"bad sent_at {sent_at!r}"
    for item in parsed.items:
        assert isinstance(item.headers.get("type"), str), f"item without a type: {item.headers!r}"
        assert len(item.payload) == item.headers.get("length"), f"item length mismatch: {item.headers!r}"
        if item.headers["type"] in ("event", "transaction"):
            event = item.json()
            assert uuid.UUID(hex=headers["event_id"]), "an event envelope needs a UUID event_id header"
            assert headers["event_id"] == event["event_id"], "header and payload event_id differ"
            if item.headers["type"] == "transaction":
                assert "transaction" == event.get("type"), "a transaction item holds a transaction event"
                assert isinstance(headers.get("trace"), dict), "a transaction envelope carries its DSC"
            check_event(event)


def check_envelope(envelope: Envelope) -> None:
    """Check an envelope object as it would be sent."""
    check_envelope_bytes(envelope.serialize())
