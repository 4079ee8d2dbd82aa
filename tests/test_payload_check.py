"""The payload check itself: it must catch events and envelopes that Sentry would not accept."""

from __future__ import annotations

import pytest
from payload_check import check_envelope, check_envelope_bytes, check_event

from sentry_sdk.envelope import Envelope


def _good_event() -> dict[str, object]:
    return {"event_id": "a" * 32, "timestamp": 1_700_000_000.0, "message": "fine", "level": "info"}


def test_a_good_event_passes() -> None:
    """A well-formed event raises nothing."""
    check_event(_good_event())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("level", "catastrophic"),
        ("event_id", "not-a-uuid"),
        ("timestamp", "yesterday"),
        ("user", "not an object"),
        ("tags", {"key": {"nested": "dict"}}),
        ("made_up_attribute", 1),
    ],
)
def test_a_broken_event_is_caught(field: str, value: object) -> None:
    """An event Relay would partly discard fails the check, naming the field."""
    event = _good_event()
    event[field] = value
    with pytest.raises(AssertionError, match="Relay's normalizer flags"):
        check_event(event)


def test_an_envelope_with_a_wrong_item_length_is_caught() -> None:
    """A payload whose length header lies fails the framing check."""
    raw = b'{"event_id":"' + b"a" * 32 + b'","sent_at":"2024-01-01T00:00:00Z"}\n'
    raw += b'{"type":"event","length":5}\n{"event_id":"' + b"a" * 32 + b'"}\n'
    with pytest.raises((AssertionError, ValueError)):
        check_envelope_bytes(raw)


def test_an_envelope_without_sent_at_is_caught() -> None:
    """The envelope header must carry an RFC 3339 sent_at."""
    envelope = Envelope(headers={"event_id": "a" * 32})
    envelope.add_event(_good_event())
    with pytest.raises(AssertionError, match="sent_at"):
        check_envelope(envelope)
