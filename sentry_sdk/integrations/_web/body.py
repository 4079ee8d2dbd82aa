"""The request body on an event: read alongside the application, within ``max_request_body_size``.

The body is never read ahead of the application. :class:`InputTee` (WSGI) and :class:`ReceiveTee`
(ASGI) stand in for the input stream and keep a copy of the first bytes the application itself
reads, up to the limit, so a request that sends no event costs no extra reading. When an event is
about to be sent and the application has not read a body that fits the limit, the tee reads it
then and hands those bytes to the application's later reads: the application still reads the
whole body, exactly once, and a streamed upload is never held beyond the limit.

:func:`body_data` turns what was seen into the event's ``request.data``: JSON parsed, form data as
a dict, other text as text; a body over the limit is left out with a ``!config`` note, one that
cannot be shown (binary, malformed JSON) with a ``!raw`` note, uploaded files by name only.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator, Mapping
    from typing import Any

__all__ = [
    "BODY_LIMITS",
    "InputTee",
    "OVER_LIMIT",
    "RAW",
    "ReceiveTee",
    "body_data",
    "body_limit",
]

# max_request_body_size -> the largest body (in bytes) put on an event; None: no limit.
BODY_LIMITS: dict[str, int | None] = {"never": 0, "small": 1_000, "medium": 10_000, "always": None}

# The ``_meta`` remarks for a body left out: over the configured size, or not showable as text.
OVER_LIMIT = {"rem": [["!config", "x"]]}
RAW = {"rem": [["!raw", "x"]]}


def body_limit(options: Mapping[str, Any]) -> int | None:
    """The body size limit ``max_request_body_size`` sets (``"medium"``: 10,000 bytes by default)."""
    return BODY_LIMITS.get(options.get("max_request_body_size") or "medium", 10_000)


def _within(length: int, limit: int | None) -> bool:
    return limit is None or length <= limit


class _Seen:
    """The first bytes of a body as the application read them, up to a limit."""

    __slots__ = ("chunks", "kept", "limit", "total", "ended")

    def __init__(self, limit: int | None) -> None:
        self.chunks: list[bytes] = []
        self.kept = 0
        self.limit = limit
        self.total = 0  # bytes the application read in all
        self.ended = False  # the application read to the end

    def add(self, data: bytes) -> None:
        size = len(data)
        self.total += size
        limit = self.limit
        if limit is None:
            self.chunks.append(data)
            self.kept += size
        elif self.kept <= limit:
            # One byte past the limit is kept, so that "exactly at the limit" and "over" differ.
            room = limit + 1 - self.kept
            piece = data if size <= room else data[:room]
            self.chunks.append(piece)
            self.kept += len(piece)

    def body(self) -> bytes:
        if len(self.chunks) > 1:
            self.chunks = [b"".join(self.chunks)]
        return self.chunks[0] if self.chunks else b""


class InputTee:
    """A WSGI ``wsgi.input`` that remembers what the application reads from it (up to ``limit``)."""

    def __init__(self, stream: Any, limit: int | None, content_length: int | None) -> None:
        self._stream = stream
        self._seen = _Seen(limit)
        self._length = content_length
        self._pending = b""  # read for an event, not yet read by the application

    # -- the stream the application sees -------------------------------------------------------

    def read(self, size: int | None = -1) -> bytes:
        pending = self._pending
        if pending:
            if size is None or size < 0:
                self._pending = b""
                data = pending + self._record(self._stream.read())
                self._seen.ended = True
                return data
            if size <= len(pending):
                self._pending = pending[size:]
                return pending[:size]
            self._pending = b""
            return pending + self._record(self._stream.read(size - len(pending)))
        if size is None or size < 0:
            data = self._record(self._stream.read())
            self._seen.ended = True
            return data
        return self._record(self._stream.read(size), to_end=size > 0)

    def readline(self, size: int | None = -1) -> bytes:
        if self._pending:
            line, nl, rest = self._pending.partition(b"\n")
            line += nl
            if size is not None and 0 <= size < len(line):
                line, rest = line[:size], line[size:] + rest
            self._pending = rest
            return line
        data = self._stream.readline() if size is None or size < 0 else self._stream.readline(size)
        return self._record(data)

    def readlines(self, hint: int = -1) -> list[bytes]:
        lines = []
        total = 0
        while True:
            line = self.readline()
            if not line:
                break
            lines.append(line)
            total += len(line)
            if 0 < hint <= total:
                break
        return lines

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def __iter__(self) -> Iterator[bytes]:
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def _record(self, data: bytes, to_end: bool = True) -> bytes:
        """Keep ``data``; ``to_end``: an empty answer means the end (not a zero-byte read)."""
        seen = self._seen
        if data:
            seen.add(data)
            if self._length is not None and seen.total >= self._length:
                seen.ended = True
        elif to_end:
            seen.ended = True
        return data

    # -- what an event gets --------------------------------------------------------------------

    def body_for_event(self) -> tuple[bytes | None, int | None]:
        """The body (or its first ``limit + 1`` bytes) and its length, if known; ``None`` if unknown.

        A body the application has not read yet is read now when its declared length fits the
        limit; the application's later reads get those bytes first.
        """
        seen = self._seen
        length = self._length
        if not seen.ended and seen.total == 0 and length is not None and length > 0:
            if not _within(length, seen.limit):
                return None, length
            try:
                data = self._stream.read(length)
            except Exception:
                return None, length
            self._pending = data
            seen.add(data)
            seen.ended = True
            seen.total = 0  # the application has still read nothing itself
            return seen.body(), length
        if seen.total == 0 and not seen.chunks:
            return (b"" if seen.ended or length == 0 else None), length
        return seen.body(), length if length is not None else (seen.total if seen.ended else None)


class ReceiveTee:
    """An ASGI ``receive`` that remembers the body the application receives (up to ``limit``)."""

    def __init__(
        self, receive: Callable[[], Awaitable[dict[str, Any]]], limit: int | None, content_length: int | None
    ) -> None:
        self._receive = receive
        self._seen = _Seen(limit)
        self._length = content_length
        self._pending: list[dict[str, Any]] = []
        self._gone = False  # the client disconnected: nothing more will come

    async def __call__(self) -> dict[str, Any]:
        if self._pending:
            return self._pending.pop(0)
        message = await self._receive()
        self._note(message)
        return message

    def _note(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "http.request":
            body = message.get("body") or b""
            if body:
                self._seen.add(body)
            if not message.get("more_body", False):
                self._seen.ended = True
        elif kind == "http.disconnect":
            self._gone = True

    async def read_for_event(self) -> None:
        """Receive the rest of a body that fits the limit, for the event; the application gets it next."""
        seen = self._seen
        length = self._length
        if seen.ended or self._gone or length is None or not _within(length, seen.limit):
            return
        while not seen.ended:
            message = await self._receive()
            self._pending.append(message)
            if message.get("type") != "http.request":
                return  # a disconnect: the application will see it
            self._note(message)

    def body_for_event(self) -> tuple[bytes | None, int | None]:
        """The body received so far (first ``limit + 1`` bytes at most) and its length, if known."""
        seen = self._seen
        if not seen.ended and not seen.chunks:
            return None, self._length
        return seen.body(), self._length if self._length is not None else (seen.total if seen.ended else None)


def body_data(
    content_type: str | None,
    raw: bytes | None,
    length: int | None,
    limit: int | None,
    form: Mapping[str, Any] | None = None,
    files: Mapping[str, Any] | None = None,
) -> tuple[Any, dict[str, Any] | None]:
    """``(request.data, the _meta notes below it)``; ``(None, None)`` when there is nothing to show.

    ``raw`` is the body's bytes (possibly only the first ``limit + 1``), ``length`` its full length
    when known; a framework that parsed a form already passes ``form`` (and ``files``, whose
    contents are never read) instead.
    """
    if limit == 0:
        return ("", {"": OVER_LIMIT}) if (length or raw or form or files) else (None, None)
    if length is not None and not _within(length, limit):
        return "", {"": OVER_LIMIT}
    if form is not None or files:
        data = {key: value for key, value in (form or {}).items()}
        notes = None
        for name in files or ():
            data[name] = ""
            notes = notes or {}
            notes[name] = {"": RAW}
        return data, notes
    if raw is None or raw == b"":
        return None, None
    if not _within(len(raw), limit):
        return "", {"": OVER_LIMIT}
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "", {"": RAW}
    if kind == "application/json" or kind.endswith("+json"):
        try:
            return json.loads(text), None
        except ValueError:
            return "", {"": RAW}
    if kind == "application/x-www-form-urlencoded":
        return dict(parse_qsl(text, keep_blank_values=True)), None
    if kind.startswith("multipart/"):
        return "", {"": RAW}  # parts may be files: never read into the event
    if "\x00" in text:
        return "", {"": RAW}
    return text, None
