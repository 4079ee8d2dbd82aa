"""Sentry envelopes: a header line, then items that each carry a header line and a payload."""

from __future__ import annotations

import io

from ._json import payload_text, text

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


__all__ = ["Envelope", "Item", "PayloadRef"]


def _json_bytes(value: Any) -> bytes:
    return text(value).encode("utf-8")


class PayloadRef:
    """An item payload given as bytes, as JSON-ready data, or as a file path read when sent."""

    __slots__ = ("bytes", "path", "json")

    def __init__(self, bytes: bytes | None = None, path: str | None = None, json: Any = None) -> None:  # noqa: A002
        self.bytes = bytes
        self.path = path
        self.json = json

    def get_bytes(self) -> bytes:
        """The payload's bytes, encoding JSON or reading the file on first use."""
        if self.bytes is None:
            if self.path is not None:
                with open(self.path, "rb") as f:
                    self.bytes = f.read()
            elif self.json is not None:
                self.bytes = payload_text(self.json).encode("utf-8")
            else:
                self.bytes = b""
        return self.bytes

    @property
    def inferred_content_type(self) -> str:
        """``application/json`` for JSON payloads, else ``application/octet-stream``."""
        return "application/json" if self.json is not None else "application/octet-stream"

    def __repr__(self) -> str:
        return f"<PayloadRef {self.inferred_content_type}>"


class Item:
    """One envelope item: ``type`` (``event``, ``attachment``, ...), headers and a payload."""

    def __init__(
        self,
        payload: bytes | str | PayloadRef,
        headers: dict[str, Any] | None = None,
        type: str | None = None,  # noqa: A002
        content_type: str | None = None,
        filename: str | None = None,
    ) -> None:
        headers = dict(headers or {})
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        if isinstance(payload, bytes):
            payload = PayloadRef(bytes=payload)
        if type is not None:
            headers["type"] = type
        if content_type is not None:
            headers["content_type"] = content_type
        elif "content_type" not in headers:
            headers["content_type"] = payload.inferred_content_type
        if filename is not None:
            headers["filename"] = filename
        self.headers = headers
        self.payload = payload

    @property
    def type(self) -> str | None:
        """The item type from its headers."""
        value = self.headers.get("type")
        return value if isinstance(value, str) else None

    @property
    def data_category(self) -> str:
        """The rate-limit / client-report category this item counts against."""
        return _CATEGORIES.get(self.type or "", "default")

    def get_bytes(self) -> bytes:
        """The payload bytes."""
        return self.payload.get_bytes()

    def get_event(self) -> dict[str, Any] | None:
        """The event dict of an ``event`` or ``transaction`` item, else ``None``."""
        if self.type in ("event", "transaction") and isinstance(self.payload.json, dict):
            return self.payload.json
        return None

    def serialize_into(self, out: io.BytesIO) -> None:
        """Write this item (header line, payload, newline) to ``out``."""
        body = self.get_bytes()
        out.write(_json_bytes({**self.headers, "length": len(body)}))
        out.write(b"\n")
        out.write(body)
        out.write(b"\n")

    def __repr__(self) -> str:
        return f"<Item {self.headers!r}>"


_CATEGORIES = {
    "event": "error",
    "transaction": "transaction",
    "attachment": "attachment",
    "session": "session",
    "sessions": "session",
    "client_report": "internal",
    "check_in": "monitor",
    "log": "log_item",
    "profile": "profile",
    "span": "span",
}


class Envelope:
    """Headers plus a list of items; ``serialize()`` gives the bytes sent to the server."""

    def __init__(self, headers: dict[str, Any] | None = None, items: list[Item] | None = None) -> None:
        self.headers: dict[str, Any] = dict(headers or {})
        self.items: list[Item] = list(items or [])

    def add_event(self, event: dict[str, Any]) -> None:
        """Add an ``event`` item."""
        self.add_item(Item(PayloadRef(json=event), type="event"))

    def add_item(self, item: Item) -> None:
        """Add any item."""
        self.items.append(item)

    def get_event(self) -> dict[str, Any] | None:
        """The first event in the envelope, if any."""
        for item in self.items:
            event = item.get_event()
            if event is not None:
                return event
        return None

    def serialize_into(self, out: io.BytesIO) -> None:
        """Write the whole envelope to ``out``."""
        out.write(_json_bytes(self.headers))
        out.write(b"\n")
        for item in self.items:
            item.serialize_into(out)

    @classmethod
    def deserialize(cls, data: bytes) -> Envelope:
        """Read an envelope from its bytes (JSON items keep their data as ``payload.json``)."""
        import json

        header_line, _, rest = data.partition(b"\n")
        envelope = cls(headers=json.loads(header_line) if header_line.strip() else {})
        while rest.strip():
            item_line, _, rest = rest.partition(b"\n")
            headers = json.loads(item_line)
            length = headers.pop("length", None)
            if length is None:
                body, _, rest = rest.partition(b"\n")
            else:
                body, rest = rest[:length], rest[length + 1 :]
            payload = PayloadRef(bytes=body)
            if headers.get("type") in ("event", "transaction", "client_report"):
                payload.json = json.loads(body)
            envelope.add_item(Item(payload, headers=headers))
        return envelope

    def serialize(self) -> bytes:
        """The envelope as bytes."""
        out = io.BytesIO()
        self.serialize_into(out)
        return out.getvalue()

    def __repr__(self) -> str:
        return f"<Envelope headers={self.headers!r} items={self.items!r}>"
