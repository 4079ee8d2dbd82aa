"""Test doubles for code that uses the SDK: capture events in memory, or receive them over HTTP.

``capture_events()`` binds a client whose transport keeps events in a list, so a test can assert on
exactly what would have been sent. ``IngestServer`` is a real Sentry-compatible HTTP endpoint on
127.0.0.1 for tests that want the whole way over the wire.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ._ingest import IngestServer, ParsedEnvelope, ParsedItem, describe_event, parse_envelope
from .client import Client
from .envelope import Envelope
from .hub import Hub
from .scope import GLOBAL_SCOPE
from .transport import Transport
from .types import Event

__all__ = [
    "CapturingTransport",
    "IngestServer",
    "ParsedEnvelope",
    "ParsedItem",
    "capture_events",
    "describe_event",
    "parse_envelope",
]


class CapturingTransport(Transport):
    """Keeps every envelope (and the events in them) in memory instead of sending them."""

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.envelopes: list[Envelope] = []
        self.events: list[Event] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)
        for item in envelope.items:
            event = item.get_event()
            if event is not None:
                self.events.append(event)


@contextmanager
def capture_events(**options: Any) -> Iterator[list[Event]]:
    """Bind a client that records events in the yielded list, for the duration of the block.

    Options are the ones ``init`` takes, except ``transport`` (set for you); default integrations
    are off unless you pass ``default_integrations=True``.
    """
    transport = CapturingTransport()
    options.setdefault("default_integrations", False)
    client = Client(transport=transport, **options)
    hub = Hub.current
    # Where bind_client puts a client here, so that exactly what was bound there comes back.
    target = GLOBAL_SCOPE if hub is Hub.main and not hub._pushed.get() else hub._stack_layer().scope
    previous = target._client
    target.set_client(client)
    try:
        yield transport.events
    finally:
        target.set_client(previous)
