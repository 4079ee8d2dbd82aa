"""Single values made JSON-safe for the serializer: what a type is serialized as, text that UTF-8
can encode, bytes, integers too big for Sentry, datetimes, and merging ``_meta`` notes.

Each helper reads a value through its base type's own methods, so that an override in a subclass
can neither break nor fool it.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Mapping
from itertools import islice

from ._describe import MAX_REPR as _MAX_REPR

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "BASES",
    "UNSEEN",
    "bytes_repr",
    "int_text",
    "iso_utc",
    "kind_of",
    "kinds",
    "mapping_items",
    "merge_meta",
    "utf8",
]

# The builtin types whose subclasses are serialized as the base type would be, read through the
# base type's own methods so that an override cannot break or fool the walk.
BASES = (str, int, float, dict, list, tuple, set, frozenset, deque, bytes, bytearray)

# The base type each type is serialized as (see ``kind_of``), remembered for the first types seen.
kinds: dict[type, Any] = {}
_KINDS_MAX = 1000
UNSEEN: Any = object()


def kind_of(t: type) -> Any:
    """What values of type ``t`` are serialized as: one of ``BASES``, ``Mapping``, the
    ``datetime`` or ``date`` class (never a subclass), or ``None`` for their ``repr``."""
    kind: Any = None
    for base in BASES:
        if issubclass(t, base):
            kind = base
            break
    else:
        if issubclass(t, Mapping):
            kind = Mapping
        else:
            # Only a program that imported datetime can hold one: there is no need to import it.
            dt = sys.modules.get("datetime")
            if dt is not None:
                if issubclass(t, dt.datetime):
                    kind = dt.datetime
                elif issubclass(t, dt.date):
                    kind = dt.date
    if len(kinds) < _KINDS_MAX:
        kinds[t] = kind
    return kind


def utf8(value: str) -> str:
    """``value`` with lone surrogates (which UTF-8 cannot encode) written as escapes."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")


def mapping_items(value: Any, most: int) -> tuple[int, list[Any]]:
    """The length of a mapping that is not a dict, and its first ``most`` (key, value) pairs."""
    return len(value), list(islice(value.items(), most))


def bytes_repr(value: Any, kind: Any) -> str:
    """``repr`` of bytes (``b'...'``, readable and unambiguous) from at most ``_MAX_REPR`` of them."""
    text = str(kind.__repr__(kind.__getitem__(value, slice(0, _MAX_REPR))))
    if len(text) > _MAX_REPR or kind.__len__(value) > _MAX_REPR:
        return text[: _MAX_REPR - 3] + "..."
    return text


def int_text(value: int) -> str:
    """An integer too large for Relay, as decimal digits (or its size, past Python's digit limit)."""
    try:
        return str(value)
    except ValueError:
        return f"<int of {value.bit_length()} bits>"


def iso_utc(value: Any, datetime_type: Any) -> str:
    """A datetime in UTC as ISO-8601 with a ``Z``; a naive datetime is taken to be UTC already."""
    offset = datetime_type.utcoffset(value)
    if offset is not None:
        value = value - offset
    naive = datetime_type.replace(value, tzinfo=None)
    return str(datetime_type.isoformat(naive, timespec="microseconds")) + "Z"


def merge_meta(meta: dict[str, Any], notes: dict[str, Any]) -> dict[str, Any]:
    """``meta`` (from the event) with ``notes`` merged in; both lists of remarks are kept."""
    for key, note in notes.items():
        old = meta.get(key)
        if type(old) is dict and type(note) is dict:
            merge_meta(old, note)
        elif key == "rem" and type(old) is list and type(note) is list:
            meta[key] = old + note
        else:
            meta[key] = note
    return meta
