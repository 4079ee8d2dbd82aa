"""Serializer: turns an event into JSON-ready data within Sentry's size limits, and never raises.

The output holds only ``dict`` (with ``str`` keys), ``list``, ``str``, finite ``float``, ``int``
within 64 bits, ``bool`` and ``None``, and every string encodes to UTF-8, so the envelope can
always be written. Anything else becomes a string: datetimes become ISO-8601 UTC, bytes and
other objects their ``repr``, at most ``_MAX_REPR`` characters.

User data areas ("databags": ``extra`` and ``contexts`` values, ``user``, ``tags`` values,
``request`` data, cookies and headers, breadcrumb ``data``, frame ``vars``) keep at most
``_BAG_DEPTH`` levels of containers and ``_BAG_BREADTH`` items per container; a cut container
records its original length in ``_meta``. ``max_value_length`` shortens long strings everywhere
except the SDK's own protocol fields (ids, timestamps, levels, the ``sdk`` block, exception types
and mechanisms, frame locations, breadcrumb types), which a cut would corrupt.

An event is a fixed skeleton built by the SDK around user data, so the skeleton is walked by
shape (``EVENT`` in ``_skeleton``) and only the parts it does not know go through the generic
walker. Paths for ``_meta`` notes live in one list that grows and shrinks with the walk.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from itertools import islice

from ._conform import conform
from ._describe import MAX_REPR as _MAX_REPR
from ._describe import repr_within as _repr_within
from ._describe import safe_repr
from ._log import report_internal_error
from ._prebuilt import Serialized, SerializedTree, copy_tree
from ._skeleton import BAG as _BAG
from ._skeleton import EVENT as _EVENT
from ._skeleton import KEEP as _KEEP
from ._skeleton import SCAN as _SCAN
from ._skeleton import Shape as _Shape
from ._usercode import TimeBudget
from ._values import BASES as _BASES
from ._values import UNSEEN as _UNSEEN
from ._values import bytes_repr as _bytes_repr
from ._values import int_text as _int_text
from ._values import iso_utc as _iso_utc
from ._values import kind_of as _kind
from ._values import kinds as _kinds
from ._values import mapping_items as _mapping_items
from ._values import merge_meta as _merge
from ._values import utf8 as _utf8

# Bound once: see _hub_in_context in api.py (a method of an imported name costs a new object per call).
_known_kind = _kinds.get

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ._secrets import SecretFinder


__all__ = ["safe_repr", "serialize_event"]

_BAG_DEPTH = 5
_BAG_BREADTH = 10
# Nesting bound outside databags: deep enough for any real payload, shallow enough to stay far
# from the recursion limit (each level costs two Python frames).
_MAX_DEPTH = 30
# Relay reads integers outside this range as floats or as 0, so those are sent as strings.
_INT_MIN = -(2**63)
_INT_END = 2**64
_NO_LIMIT = sys.maxsize
_CYCLE = "<cyclic>"
# Items read from a mapping that is not a dict (its ``items()`` is the program's code) outside a
# databag, where no breadth limit applies.
_MAPPING_ITEMS = 1000


def serialize_event(
    event: Mapping[str, Any],
    *,
    max_value_length: int | None = None,
    custom_repr: Callable[[Any], str | None] | None = None,
    secrets: SecretFinder | None = None,
) -> dict[str, Any]:
    """A JSON-ready copy of ``event`` within the limits above; ``event`` itself is not changed.

    ``max_value_length`` (at least 3; ``None`` for no limit) is the longest string kept in user
    data and messages; longer ones end with "..." and get a ``_meta`` note of their length.
    ``custom_repr(value)``, if given, describes each value that is not exactly a JSON type before
    anything else is tried; when it returns ``None`` (or fails) the value is serialized as usual.
    The program's code run on the way (``__repr__``, ``custom_repr``, a mapping's ``items``)
    shares one time budget (see ``_usercode``), so that no object can stall the capture.
    With ``secrets``, the strings in databags, messages, log entries, exception values and
    breadcrumb messages are searched for secrets, all together once the walk is done (see
    ``_Walker.replace_secrets``); each one replaced gets a ``_meta`` note.
    """
    try:
        limit = _NO_LIMIT if max_value_length is None else max(int(max_value_length), 3)
        walker = _Walker(limit, custom_repr, secrets)
        out = walker.shaped(event, _EVENT, _MAX_DEPTH)
        if type(out) is not dict:
            return {}
        if walker.pending or walker.kept:
            walker.replace_secrets(out)
        conform(out)
        notes = walker.notes
        if notes:
            meta = out.get("_meta")
            out["_meta"] = _merge(meta, notes) if type(meta) is dict else notes
        return out
    except Exception:
        # Unreachable unless the walker itself has a bug: an empty event beats an exception, and
        # the bug is logged (and fails the SDK's own tests) instead of passing in silence.
        report_internal_error()
        return {}


def _strings_in(value: Any) -> list[str]:
    """The strings in serialized ``value``, wherever they stand."""
    if type(value) is str:
        return [value]
    if type(value) is dict:
        return [text for item in value.values() for text in _strings_in(item)]
    if type(value) is list:
        return [text for item in value for text in _strings_in(item)]
    return []


class _Walker:
    """The state of one ``serialize_event`` call.

    ``path`` is the key path of the value being walked (for ``_meta`` notes), ``active`` the ids
    of the containers being walked (to spot cycles), ``notes`` the ``_meta`` tree built so far.
    A ``limit`` argument is the longest string kept (``_NO_LIMIT`` for no limit), ``depth`` how
    many more levels of containers may be opened, ``bag`` whether this is inside a databag.

    Each container walker never raises and checks its items inline, by exact type, so that the
    common values (short ASCII strings, small ints, None, bools, finite floats) cost no call:
    that check is written out in each loop because a call per value would cost more than the rest.
    """

    __slots__ = (
        "limit",
        "path",
        "active",
        "notes",
        "budget",
        "custom_repr",
        "secrets",
        "scan_min",
        "pending",
        "fresh",
        "kept",
    )

    def __init__(
        self,
        limit: int,
        custom_repr: Callable[[Any], str | None] | None = None,
        secrets: SecretFinder | None = None,
    ) -> None:
        self.limit = limit
        self.secrets = secrets
        # Strings in databags at least this long are scanned for secrets (none without a finder).
        self.scan_min = secrets.min_length if secrets is not None else _NO_LIMIT
        # Databag strings still to be searched for secrets, all together after the walk.
        self.pending: list[str] = []
        # Where ``pending`` points: strings new with this event, and those the scope kept.
        self.fresh = self.pending
        self.kept: list[str] = []
        self.path: list[str] = []
        self.active: set[int] = set()
        self.notes: dict[str, Any] | None = None
        self.budget = TimeBudget()
        self.custom_repr = custom_repr

    def note(self, note: dict[str, Any]) -> None:
        """Add ``note`` to the ``_meta`` entry of the current path."""
        node = self.notes
        if node is None:
            node = self.notes = {}
        for part in self.path:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            node = child
        entry = node.get("")
        if entry is None:
            node[""] = note
        else:
            entry.update(note)

    def text(self, value: str, limit: int, bag: bool = False) -> str:
        """``value`` made UTF-8-safe, its secrets replaced if it is in a databag (before any cut,
        which could leave a secret half-recognisable), and cut to ``limit`` characters; each change
        is noted in ``_meta``."""
        if not value.isascii():
            value = _utf8(value)
        if bag and len(value) >= self.scan_min:
            if len(value) <= limit:
                # Searched with all the others at the end of the walk (see serialize_event).
                self.pending.append(value)
                return value
            replaced = self.secrets.scrub(value)  # type: ignore[union-attr]
            if replaced is not None:
                value = replaced
                self.note_removal(["@secret", "s"])
        if len(value) > limit:
            keep = limit - 3
            self.note({"len": len(value), "rem": [["!limit", "s", keep, limit]]})
            return value[:keep] + "..."
        return value

    def replace_secrets(self, out: dict[str, Any]) -> None:
        """Search the pending databag strings for secrets together; if any holds one, put its
        scrubbed form wherever it stands in ``out``, each with a ``_meta`` note."""
        found = self.secrets.find(self.fresh, self.kept)  # type: ignore[union-attr]
        if found:
            self.path.clear()
            self._replace_in(out, found)
            self.path.clear()

    def _replace_in(self, node: Any, found: dict[str, str]) -> None:
        path = self.path
        pairs: Any = node.items() if type(node) is dict else enumerate(node)
        changes = []
        for key, value in pairs:
            if type(value) is str:
                replaced = found.get(value)
                if replaced is not None:
                    changes.append((key, replaced))
            elif (type(value) is dict or type(value) is list) and key != "_meta":
                path.append(str(key))
                self._replace_in(value, found)
                path.pop()
        for key, replaced in changes:
            node[key] = replaced
            path.append(str(key))
            self.note_removal(["@secret", "s"])
            path.pop()

    def note_removal(self, remark: list[Any]) -> None:
        """Add ``remark`` to the ``rem`` list of the current path's ``_meta`` entry."""
        self.note({})
        node: Any = self.notes
        for part in self.path:
            node = node[part]
        node[""].setdefault("rem", []).append(remark)

    def fallback(self, value: object, limit: int) -> str:
        """What a value that failed to serialize becomes."""
        try:
            return self.text(_repr_within(value, self.budget), limit)
        except Exception:
            return "<unserializable>"

    def custom(self, value: object) -> str | None:
        """What ``custom_repr`` makes of ``value``: a string, or ``None`` to serialize it as usual."""
        try:
            text = self.budget.call(self.custom_repr, value)  # type: ignore[arg-type]
            if isinstance(text, str):
                return str.__str__(text)
        except Exception:
            # A failing custom_repr must not cost the event: the value is described as usual.
            pass
        return None

    def key(self, key: object) -> str:
        """A mapping key as a UTF-8-safe string."""
        try:
            if isinstance(key, str):
                text = str.__str__(key)
            elif isinstance(key, bytes):
                text = _bytes_repr(key, bytes)
            else:
                text = self.budget.call(str, key)
                if type(text) is not str:
                    text = str.__str__(text)
                if len(text) > _MAX_REPR:
                    text = text[: _MAX_REPR - 3] + "..."
            return text if text.isascii() else _utf8(text)
        except Exception:
            return _utf8(_repr_within(key, self.budget))

    def value(self, value: Any, depth: int, bag: bool, limit: int) -> Any:
        """Any value, in a databag if ``bag``, with ``depth`` more levels of containers allowed."""
        t = type(value)
        if t is str:
            if value.isascii() and len(value) <= limit:
                if bag and len(value) >= self.scan_min:
                    self.pending.append(value)
                return value
            return self.text(value, limit, bag)
        if t is dict:
            return self.mapping(value, None, 0, depth, bag, limit)
        if t is list or t is tuple:
            return self.sequence(value, value, len(value), depth, bag, limit)
        if t is int:
            return value if _INT_MIN <= value < _INT_END else self.text(_int_text(value), limit)
        if t is float:
            return value if value - value == 0.0 else repr(value)
        if value is None or t is bool:
            return value
        return self.other(value, t, depth, bag, limit)

    def other(self, value: Any, t: type, depth: int, bag: bool, limit: int) -> Any:
        """A value whose type is not exactly a JSON one: a subclass of one, or anything else."""
        if t is Serialized:
            return dict(value)
        if t is SerializedTree:
            return copy_tree(value)
        try:
            if self.custom_repr is not None:
                text = self.custom(value)
                if text is not None:
                    return self.text(text, limit, bag)
            kind = _known_kind(t, _UNSEEN)
            if kind is _UNSEEN:
                kind = _kind(t)
            if kind is None:
                return self.text(_repr_within(value, self.budget), limit, bag)
            if kind is str:
                return self.text(str.__str__(value), limit, bag)
            if kind is dict:
                return self.mapping(value, dict.items(value), dict.__len__(value), depth, bag, limit)
            if kind is Mapping:
                # Its len() and items() are the program's code: read them within the time budget.
                size, pairs = self.budget.call(_mapping_items, value, _BAG_BREADTH if bag else _MAPPING_ITEMS)
                return self.mapping(value, pairs, size, depth, bag, limit)
            if kind is int:
                return self.value(int.__int__(value), depth, bag, limit)
            if kind is float:
                return self.value(float.__float__(value), depth, bag, limit)
            if kind is bytes or kind is bytearray:
                return self.text(_bytes_repr(value, kind), limit, bag)
            if kind in _BASES:
                return self.sequence(value, kind.__iter__(value), kind.__len__(value), depth, bag, limit)
            if kind.__name__ == "datetime":
                # utcoffset() asks the tzinfo, which may be the program's class.
                return self.budget.call(_iso_utc, value, kind)
            return str(kind.isoformat(value))
        except Exception:
            return self.fallback(value, limit)

    def mapping(self, value: Any, items: Any, size: int, depth: int, bag: bool, limit: int) -> Any:
        """A mapping given as its (key, value) pairs and their number (``None`` for an exact dict)."""
        active = self.active
        oid = id(value)
        if oid in active:
            return _CYCLE
        if depth <= 0:
            return self.text(_repr_within(value, self.budget), limit, bag)
        depth -= 1
        path = self.path
        base = len(path)
        scan_min = self.scan_min
        pending = self.pending
        out: dict[str, Any] = {}
        active.add(oid)
        try:
            if items is None:
                items = value.items()
                if bag:
                    size = len(value)
            if bag and size > _BAG_BREADTH:
                self.note({"len": size})
                items = islice(items, _BAG_BREADTH)
            for k, v in items:
                if type(k) is not str or not k.isascii():
                    k = self.key(k)
                t = type(v)
                if t is str:
                    if len(v) > limit or not v.isascii():
                        path.append(k)
                        v = self.text(v, limit, bag)
                        path.pop()
                    elif bag and len(v) >= scan_min:
                        pending.append(v)
                elif t is int:
                    if not _INT_MIN <= v < _INT_END:
                        path.append(k)
                        v = self.text(_int_text(v), limit)
                        path.pop()
                elif t is dict:
                    path.append(k)
                    v = self.mapping(v, None, 0, depth, bag, limit)
                    path.pop()
                elif t is list or t is tuple:
                    path.append(k)
                    v = self.sequence(v, v, len(v), depth, bag, limit)
                    path.pop()
                elif v is None or t is bool:
                    pass
                elif t is float:
                    if v - v != 0.0:
                        v = repr(v)
                else:
                    path.append(k)
                    v = self.other(v, t, depth, bag, limit)
                    path.pop()
                out[k] = v
            return out
        except Exception:
            del path[base:]
            return self.fallback(value, limit)
        finally:
            active.discard(oid)

    def sequence(self, value: Any, items: Any, size: int, depth: int, bag: bool, limit: int) -> Any:
        """A list, tuple, set or deque given as an iterable of its items and their number."""
        active = self.active
        oid = id(value)
        if oid in active:
            return _CYCLE
        if depth <= 0:
            return self.text(_repr_within(value, self.budget), limit, bag)
        depth -= 1
        path = self.path
        base = len(path)
        scan_min = self.scan_min
        pending = self.pending
        out: list[Any] = []
        append = out.append
        active.add(oid)
        try:
            if bag and size > _BAG_BREADTH:
                self.note({"len": size})
                items = islice(items, _BAG_BREADTH)
            for v in items:
                t = type(v)
                if t is str:
                    if len(v) > limit or not v.isascii():
                        path.append(str(len(out)))
                        v = self.text(v, limit, bag)
                        path.pop()
                    elif bag and len(v) >= scan_min:
                        pending.append(v)
                elif t is int:
                    if not _INT_MIN <= v < _INT_END:
                        path.append(str(len(out)))
                        v = self.text(_int_text(v), limit)
                        path.pop()
                elif t is dict:
                    path.append(str(len(out)))
                    v = self.mapping(v, None, 0, depth, bag, limit)
                    path.pop()
                elif t is list or t is tuple:
                    path.append(str(len(out)))
                    v = self.sequence(v, v, len(v), depth, bag, limit)
                    path.pop()
                elif v is None or t is bool:
                    pass
                elif t is float:
                    if v - v != 0.0:
                        v = repr(v)
                else:
                    path.append(str(len(out)))
                    v = self.other(v, t, depth, bag, limit)
                    path.pop()
                append(v)
            return out
        except Exception:
            del path[base:]
            return self.fallback(value, limit)
        finally:
            active.discard(oid)

    def shaped(self, value: Any, shape: _Shape, depth: int) -> Any:
        """A mapping of the event skeleton, each key walked by its rule in ``shape``."""
        limit = self.limit
        t = type(value)
        if t is dict:
            items = value.items()
        else:
            try:
                kind = _known_kind(t, _UNSEEN)
                if kind is _UNSEEN:
                    kind = _kind(t)
                if kind is dict:
                    items = dict.items(value)
                elif kind is Mapping:
                    items = value.items()
                else:
                    return self.value(value, depth, False, limit)
            except Exception:
                return self.fallback(value, limit)
        active = self.active
        oid = id(value)
        if oid in active:
            return _CYCLE
        rules = shape.rules
        other = shape.other
        path = self.path
        base = len(path)
        depth -= 1
        out: dict[str, Any] = {}
        active.add(oid)
        outer_pending = self.pending
        if shape.kept:
            self.pending = self.kept
        try:
            for k, v in items:
                if type(k) is not str or not k.isascii():
                    k = self.key(k)
                rule = rules.get(k, other)
                t = type(v)
                if rule is None or rule is _KEEP:
                    if (
                        (t is str and v.isascii() and (rule is _KEEP or len(v) <= limit))
                        or v is None
                        or t is bool
                        or (t is int and _INT_MIN <= v < _INT_END)
                    ):
                        out[k] = v
                        continue
                    path.append(k)
                    if t is list:
                        v = self.sequence(v, v, len(v), depth, False, _NO_LIMIT if rule is _KEEP else limit)
                    else:
                        v = self.value(v, depth, False, _NO_LIMIT if rule is _KEEP else limit)
                elif rule is _BAG:
                    path.append(k)
                    if t is dict:
                        v = self.mapping(v, None, 0, _BAG_DEPTH, True, limit)
                    else:
                        v = self.value(v, _BAG_DEPTH, True, limit)
                elif rule is _SCAN:
                    path.append(k)
                    if t is str:
                        v = self.text(v, limit, True)
                    else:
                        v = self.value(v, depth, False, limit)
                        if self.secrets is not None:
                            self.pending.extend(text for text in _strings_in(v) if len(text) >= self.scan_min)
                elif type(rule) is _Shape:
                    path.append(k)
                    v = self.shaped(v, rule, depth)
                else:
                    path.append(k)
                    v = self.each(v, rule.shape, depth)  # type: ignore[union-attr]
                path.pop()
                out[k] = v
            return out
        except Exception:
            del path[base:]
            return self.fallback(value, limit)
        finally:
            active.discard(oid)
            self.pending = outer_pending

    def each(self, value: Any, shape: _Shape, depth: int) -> Any:
        """A list of the event skeleton, each item walked with ``shape``."""
        t = type(value)
        if t is not list and t is not tuple:
            return self.value(value, depth, False, self.limit)
        active = self.active
        oid = id(value)
        if oid in active:
            return _CYCLE
        path = self.path
        out: list[Any] = []
        active.add(oid)
        try:
            for v in value:
                path.append(str(len(out)))
                out.append(self.shaped(v, shape, depth - 1))
                path.pop()
            return out
        finally:
            active.discard(oid)
