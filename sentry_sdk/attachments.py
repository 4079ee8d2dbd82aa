"""Attachments: files sent along with an event, as items of its envelope."""

from __future__ import annotations

import os

from .envelope import Item, PayloadRef

__all__ = ["Attachment"]


class Attachment:
    """A file to send with events: its ``bytes`` (or a callable returning them) or a ``path``.

    A path is read when the event is sent, not when the attachment is added.
    """

    def __init__(
        self,
        bytes: bytes | None = None,  # noqa: A002 - sentry-sdk's keyword
        filename: str | None = None,
        path: str | None = None,
        content_type: str | None = None,
        add_to_transactions: bool = False,
    ) -> None:
        if bytes is None and path is None:
            raise TypeError("an attachment needs bytes or a path")
        if filename is None:
            if path is None:
                raise TypeError("an attachment given as bytes needs a filename")
            filename = os.path.basename(path)
        self.bytes = bytes
        self.path = path
        self.filename = filename
        self.content_type = content_type
        self.add_to_transactions = add_to_transactions

    def to_envelope_item(self) -> Item:
        """The envelope item carrying this attachment."""
        data = self.bytes() if callable(self.bytes) else self.bytes
        payload = PayloadRef(bytes=data) if data is not None else PayloadRef(path=self.path)
        return Item(
            payload,
            type="attachment",
            content_type=self.content_type or "application/octet-stream",
            filename=self.filename,
            headers={"attachment_type": "event.attachment"},
        )

    def __repr__(self) -> str:
        return f"<Attachment {self.filename!r}>"
