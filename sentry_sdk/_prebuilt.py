"""Parts of events the SDK builds JSON-clean itself, marked so that the serializer copies them into
each event instead of walking them: the installed distributions, the SDK's own description, the
runtime and OS contexts. The same on every event of the process, they would otherwise be paid for
again by every event."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Serialized", "SerializedTree", "copy_tree", "serialized"]

# How deep clean data may nest.
_MAX_NESTING = 10


class Serialized(dict):  # type: ignore[type-arg]
    """A dict the SDK built JSON-clean itself (short ASCII string keys and values, nothing nested):
    put in the event as a plain copy, without walking it. For data that is the same on every event
    of the process (the installed distributions, the runtime and OS contexts), so that each event
    does not pay for it again. Made by :func:`serialized`, which checks that the data is clean."""

    __slots__ = ()


class SerializedTree(dict):  # type: ignore[type-arg]
    """As :class:`Serialized`, with dicts and lists of such strings nested (the SDK's own
    description): copied to every event by a walk that checks nothing."""

    __slots__ = ()


# The longest string a Serialized part may hold: far below any limit the serializer applies.
_CLEAN_LENGTH = 200


def serialized(value: dict[str, Any]) -> dict[str, Any]:
    """``value`` as a :class:`Serialized` (flat) or :class:`SerializedTree` if every key and leaf
    is a short ASCII string; else ``value`` itself, to be walked like any other data."""
    if not _clean(value, _MAX_NESTING):
        return value
    if all(type(item) is str for item in value.values()):
        return Serialized(value)
    return SerializedTree(value)


def _clean(value: Any, depth: int) -> bool:
    t = type(value)
    if t is str:
        return value.isascii() and len(value) <= _CLEAN_LENGTH
    if depth <= 0:
        return False
    if t is list:
        return all(_clean(item, depth - 1) for item in value)
    if t is dict or t is Serialized or t is SerializedTree:
        return all(type(k) is str and _clean(k, 1) and _clean(v, depth - 1) for k, v in value.items())
    return False


def copy_tree(value: Any) -> Any:
    """A copy of clean nested data (see ``SerializedTree``), as plain dicts and lists."""
    t = type(value)
    if t is str:
        return value
    if t is list:
        return [copy_tree(item) for item in value]
    return {k: (v if type(v) is str else copy_tree(v)) for k, v in value.items()}
