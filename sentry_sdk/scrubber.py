"""Event scrubbing: values under sensitive keys become ``"[Filtered]"`` before an event is sent.

An :class:`EventScrubber` looks at the parts of an event where user data lands: the request's
headers, cookies, body and query, ``extra``, ``user``, each context, breadcrumb data, the local
variables of stack frames and span data. A key matches when, lowercased, it equals an entry of the
denylist (entries are compared lowercased too); the PII denylist is added when ``send_default_pii``
is off. A matched value is replaced by ``"[Filtered]"`` and the event's ``_meta`` records the
substitution at that path, which Sentry shows as "filtered by SDK configuration". In ``user`` a
matched PII key is removed instead: Sentry validates ``user.ip_address`` as an address and would
reject a placeholder.

Only the top level of each part is looked at unless ``recursive=True``. The scrubber never changes
a container the event merely refers to (the scope's breadcrumbs, a frame's local dict, a context
the program still holds): a container that needs a change is copied, and the copy takes its place
in the event. It never raises on odd input: parts that are not of the expected shape are skipped.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from ._log import report_internal_error

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, Optional

    from .types import Event

    # A walk's answer: the replacement for a container (None when it needs no change) and the
    # ``_meta`` notes for the paths below it.
    _Result = tuple[Optional[Any], dict[str, Any]]
    _Leaf = Callable[[Any], _Result]
    _Seen = dict[int, Optional[tuple[int, _Result]]]

__all__ = ["DEFAULT_DENYLIST", "DEFAULT_PII_DENYLIST", "EventScrubber"]

DEFAULT_DENYLIST: list[str] = [
    # credentials and secrets
    "password",
    "passwd",
    "secret",
    "api_key",
    "apikey",
    "auth",
    "credentials",
    "mysql_pwd",
    "privatekey",
    "private_key",
    "token",
    "session",
    # common names of session and CSRF cookies, headers and form fields
    "csrftoken",
    "sessionid",
    "x_csrftoken",
    "x_forwarded_for",
    "set_cookie",
    "cookie",
    "authorization",
    "proxy-authorization",
    "x_api_key",
    "aiohttp_session",
    "connect.sid",
    "csrf_token",
    "csrf",
    "_csrf",
    "_csrf_token",
    "PHPSESSID",
    "_session",
    "symfony",
    "user_session",
    "_xsrf",
    "XSRF-TOKEN",
]

DEFAULT_PII_DENYLIST: list[str] = [
    "x_forwarded_for",
    "x_real_ip",
    "ip_address",
    "remote_addr",
]

_FILTERED = "[Filtered]"
# Deeper than the serializer ever sends (it stops at 30 levels), so nothing sent goes unscrubbed,
# and far enough from the recursion limit.
_MAX_DEPTH = 32
# Path steps: every item of a list, every value of a mapping.
_EACH_ITEM = "[]"
_EACH_VALUE = "{}"
# Values that can hold no keys: the commonest types, skipped without further checks.
_SCALARS = frozenset({str, int, float, bool, type(None), bytes})
_NOTHING: _Result = (None, {})
_CLEAN_MAX = 4096

_FRAME_VARS = ("stacktrace", "frames", _EACH_ITEM, "vars")


def _note(kind: str) -> dict[str, Any]:
    """A ``_meta`` entry for a value changed by the SDK's configuration: "s" substituted, "x" removed.

    Built fresh each time: later stages merge into ``_meta`` entries in place.
    """
    return {"": {"rem": [["!config", kind]]}}


def _names(value: Any, what: str) -> list[str]:
    """A copy of a list of key names; anything else is a configuration error."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset)):
        raise TypeError(f"{what} must be a list of strings, not {type(value).__name__}")
    for name in value:
        if not isinstance(name, str):
            raise TypeError(f"{what} must hold strings only, not {type(name).__name__}")
    return list(value)


def _copy(d: dict[Any, Any]) -> dict[Any, Any]:
    """A plain dict with the items of ``d``, read without calling methods a subclass overrides."""
    return dict(d) if type(d) is dict else dict(dict.items(d))


def _meta_key(key: Any) -> str | None:
    """The ``_meta`` path segment for a mapping key, as the serializer will write that key."""
    if type(key) is str:
        return key
    try:
        text = str.__str__(key) if isinstance(key, str) else str(key)
    except Exception:
        return None
    return text if type(text) is str else None


def _merged(old: Any, new: dict[str, Any]) -> dict[str, Any]:
    """``_meta`` tree ``old`` with ``new`` merged in, without changing ``old``; remark lists are joined."""
    if type(old) is not dict:
        return new
    out = dict(old)
    for key, value in new.items():
        present = out.get(key)
        if type(present) is dict and type(value) is dict:
            out[key] = _merged(present, value)
        elif key == "rem" and type(present) is list and type(value) is list:
            out[key] = present + value
        else:
            out[key] = value
    return out


class _Keys:
    """A denylist as a set of lowercased names, plus the key strings already found not to match.

    Events repeat the same keys (local variable names, header names), so a mapping whose keys were
    all seen before is cleared by one set comparison. ``clean`` stops growing at ``_CLEAN_MAX``.
    """

    __slots__ = ("deny", "clean")

    def __init__(self, deny: frozenset[str]) -> None:
        self.deny = deny
        self.clean: set[str] = set()

    def match(self, key: Any) -> str | None:
        """The lowercased key if it is denied, else None."""
        if type(key) is str:
            if key in self.clean:
                return None
            lowered = key.lower()
            if lowered in self.deny:
                return lowered
            if len(self.clean) < _CLEAN_MAX:
                self.clean.add(key)
            return None
        # A str subclass is sent under its string value; its own methods are not trusted.
        if isinstance(key, str) and (text := str.lower(key)) in self.deny:
            return text
        return None


class EventScrubber:
    """Replaces the values of sensitive keys in events with ``"[Filtered]"``.

    ``denylist`` defaults to :data:`DEFAULT_DENYLIST` and ``pii_denylist`` to
    :data:`DEFAULT_PII_DENYLIST`; the PII list applies only when ``send_default_pii`` is False.
    Both lists are read once, here: build a new scrubber to change them, e.g.
    ``EventScrubber(denylist=DEFAULT_DENYLIST + ["my_key"])``. ``recursive=True`` also looks into
    nested mappings and lists. Anything but a list of strings for either list raises ``TypeError``.
    """

    def __init__(
        self,
        denylist: Iterable[str] | None = None,
        recursive: bool = False,
        send_default_pii: bool = False,
        pii_denylist: Iterable[str] | None = None,
    ) -> None:
        self.denylist: list[str] = _names(DEFAULT_DENYLIST if denylist is None else denylist, "denylist")
        self.pii_denylist: list[str] = _names(
            DEFAULT_PII_DENYLIST if pii_denylist is None else pii_denylist, "pii_denylist"
        )
        self.recursive = bool(recursive)
        self.send_default_pii = bool(send_default_pii)

        pii = frozenset(name.lower() for name in self.pii_denylist)
        deny = frozenset(name.lower() for name in self.denylist)
        if not self.send_default_pii:
            deny |= pii
        self._keys = _Keys(deny)
        # Header names are written with dashes ("X-Api-Key") while several entries use underscores
        # ("x_api_key"): either spelling of an entry matches a header.
        dashed = {n.replace("_", "-") for n in deny} | {n.replace("-", "_") for n in deny}
        self._header_keys = _Keys(deny | dashed)
        # In ``user`` these keys are removed rather than filtered (see the module docstring).
        self._user_drop = (frozenset() if self.send_default_pii else pii) | {"ip_address"}
        self._depth = _MAX_DEPTH if self.recursive else 1

    def __repr__(self) -> str:
        return f"<EventScrubber recursive={self.recursive} send_default_pii={self.send_default_pii}>"

    # -- the public per-part entry points, in the order scrub_event runs them

    def scrub_event(self, event: Event) -> None:
        """Scrub every part of ``event`` listed in the module docstring, in place; never raises."""
        if not isinstance(event, dict):
            return
        for scrub in (
            self.scrub_request,
            self.scrub_extra,
            self.scrub_user,
            self.scrub_contexts,
            self.scrub_breadcrumbs,
            self.scrub_frames,
            self.scrub_spans,
        ):
            try:
                scrub(event)
            except Exception:
                # The part is left as it was: copies are made before any change, so it is whole.
                report_internal_error()

    def scrub_request(self, event: Event) -> None:
        """The top level of the request's ``headers``, ``cookies``, ``data``, ``query_string`` and ``env``."""
        self._apply(event, ("request", "headers"), self._headers)
        for part in ("cookies", "data", "query_string", "env"):
            self._apply(event, ("request", part), self._bag)

    def scrub_extra(self, event: Event) -> None:
        """The top level of ``extra``."""
        self._apply(event, ("extra",), self._bag)

    def scrub_user(self, event: Event) -> None:
        """The top level of ``user``; matched PII keys and ``ip_address`` are removed, not filtered."""
        self._apply(event, ("user",), self._user)

    def scrub_contexts(self, event: Event) -> None:
        """The top level of each context (a context itself is never replaced) and the trace's ``data``."""
        self._apply(event, ("contexts", _EACH_VALUE), self._bag)
        if not self.recursive:
            # Span data of a transaction's root span lives here; without recursion it is not reached.
            self._apply(event, ("contexts", "trace", "data"), self._bag)

    def scrub_breadcrumbs(self, event: Event) -> None:
        """The top level of each breadcrumb's ``data``."""
        self._apply(event, ("breadcrumbs", "values", _EACH_ITEM, "data"), self._bag)
        # The older form: a bare list of breadcrumbs.
        self._apply(event, ("breadcrumbs", _EACH_ITEM, "data"), self._bag)

    def scrub_frames(self, event: Event) -> None:
        """The local variables (``vars``) of every frame of every exception and thread."""
        for area in ("exception", "threads"):
            self._apply(event, (area, "values", _EACH_ITEM, *_FRAME_VARS), self._bag)
            self._apply(event, (area, _EACH_ITEM, *_FRAME_VARS), self._bag)
        self._apply(event, _FRAME_VARS, self._bag)

    def scrub_spans(self, event: Event) -> None:
        """The top level of each span's ``data``."""
        self._apply(event, ("spans", _EACH_ITEM, "data"), self._bag)

    def scrub_dict(self, d: dict[Any, Any]) -> None:
        """Scrub the mapping ``d`` in place (its top level; everything below it when recursive).

        Containers nested in ``d`` are replaced by scrubbed copies, never changed. Nothing is
        recorded in ``_meta``: ``d`` is not known to be part of an event.
        """
        if isinstance(d, dict):
            new, _ = self._map(d, self._keys, self._depth, {}, None)
            if new is not None:
                d.update(new)

    def scrub_list(self, lst: list[Any]) -> None:
        """Scrub the mappings inside the list ``lst`` in place, as :meth:`scrub_dict` does."""
        if isinstance(lst, list):
            new, _ = self._sequence(lst, self._depth + 1, {})
            if new is not None:
                lst[:] = new

    # -- walking

    def _apply(self, event: Event, path: tuple[str, ...], leaf: _Leaf) -> None:
        """Scrub the part(s) of ``event`` at ``path`` with ``leaf``; record what changed in ``_meta``."""
        top = path[0]
        node = event.get(top)
        if node is None:
            return
        new, notes = self._walk(node, path, 1, leaf)
        if new is None:
            return
        event[top] = new
        if notes:
            event["_meta"] = _merged(event.get("_meta"), {top: notes})

    def _walk(self, node: Any, path: tuple[str, ...], i: int, leaf: _Leaf) -> _Result:
        """Follow ``path`` from step ``i`` down from ``node``; copy what is on the way to a change."""
        end = len(path)
        if i == end:
            return leaf(node)
        step = path[i]
        out: Any = None
        notes: dict[str, Any] = {}
        if step == _EACH_ITEM:
            if not isinstance(node, (list, tuple)):
                return _NOTHING
            # Every frame or breadcrumb ends its path with one key ("vars", "data"): that last
            # step is taken here rather than through another call per item.
            last = path[i + 1] if i + 2 == end else None
            for index, item in enumerate(node):
                if last is None:
                    new, below = self._walk(item, path, i + 1, leaf)
                    if new is None:
                        continue
                else:
                    if not isinstance(item, dict):
                        continue
                    child = dict.get(item, last)
                    if child is None:
                        continue
                    new, below = leaf(child)
                    if new is None:
                        continue
                    copy = _copy(item)
                    copy[last] = new
                    new = copy
                    below = {last: below} if below else {}
                if out is None:
                    out = list(node)
                out[index] = new
                if below:
                    notes[str(index)] = below
            return out, notes
        if not isinstance(node, dict):
            return _NOTHING
        if step == _EACH_VALUE:
            for key, value in dict.items(node):
                new, below = self._walk(value, path, i + 1, leaf)
                if new is not None:
                    if out is None:
                        out = _copy(node)
                    out[key] = new
                    name = _meta_key(key)
                    if below and name is not None:
                        notes[name] = below
            return out, notes
        child = dict.get(node, step)
        if child is None:
            return _NOTHING
        new, below = self._walk(child, path, i + 1, leaf)
        if new is None:
            return _NOTHING
        out = _copy(node)
        out[step] = new
        return out, ({step: below} if below else {})

    # -- leaves: what is done with the container at the end of a path

    def _bag(self, node: Any) -> _Result:
        if isinstance(node, dict):
            if self._depth == 1 and self._keys.clean.issuperset(dict.keys(node)):
                # The commonest case, answered without another call: see ``_map``.
                return _NOTHING
            return self._map(node, self._keys, self._depth, {}, None)
        if self.recursive:
            return self._value(node, self._depth, {})
        return _NOTHING

    def _headers(self, node: Any) -> _Result:
        if isinstance(node, dict):
            return self._map(node, self._header_keys, self._depth, {}, None)
        return _NOTHING

    def _user(self, node: Any) -> _Result:
        if isinstance(node, dict):
            return self._map(node, self._keys, self._depth, {}, self._user_drop)
        return _NOTHING

    # -- the generic walk below a part, for any value
    #
    # ``seen`` maps the id of each container entered during one part's walk to ``None`` while it is
    # being walked (meeting it again is a cycle) and then to its depth budget and result, so a
    # container reached along many paths is walked once: the walk stays linear in the data's size.

    def _value(self, value: Any, depth: int, seen: _Seen) -> _Result:
        """Scrub inside ``value`` if it is a container, with ``depth`` levels of containers allowed."""
        t = type(value)
        if t in _SCALARS:
            return _NOTHING
        if t is dict:
            return self._map(value, self._keys, depth, seen, None)
        if t is list or t is tuple:
            return self._sequence(value, depth, seen)
        if isinstance(value, dict):
            return self._map(value, self._keys, depth, seen, None)
        if isinstance(value, (list, tuple, deque)):
            return self._sequence(value, depth, seen)
        if isinstance(value, Mapping):
            try:
                plain = dict(value.items())
            except Exception:
                # The serializer cannot read it either; it sends a repr instead.
                return _NOTHING
            return self._map(plain, self._keys, depth, seen, None, ident=id(value))
        return _NOTHING

    def _map(
        self,
        d: dict[Any, Any],
        keys: _Keys,
        depth: int,
        seen: _Seen,
        drop: frozenset[str] | None,
        ident: int | None = None,
    ) -> _Result:
        """Scrub the keys of ``d`` (and below them while ``depth`` allows); ``drop``: keys to remove.

        ``ident`` is the id of the object ``d`` was read from when it is a copy.
        """
        descend = depth > 1
        mark = id(d) if ident is None else ident
        if descend:
            known = _remembered(seen, mark, depth)
            if known is not None:
                return known
            seen[mark] = None
        elif keys.clean.issuperset(dict.keys(d)):
            # The common case: a flat look at a mapping whose keys are all known not to match.
            return _NOTHING
        out: dict[Any, Any] | None = None
        notes: dict[str, Any] = {}
        match = keys.match
        for key, value in dict.items(d):
            lowered = match(key)
            if lowered is not None:
                if out is None:
                    out = _copy(d)
                if drop is not None and lowered in drop:
                    del out[key]
                    note = _note("x")
                else:
                    out[key] = _FILTERED
                    note = _note("s")
            elif descend and type(value) not in _SCALARS:
                new, note = self._value(value, depth - 1, seen)
                if new is None:
                    continue
                if out is None:
                    out = _copy(d)
                out[key] = new
                if not note:
                    continue
            else:
                continue
            name = _meta_key(key)
            if name is not None:
                notes[name] = note
        result = (out, notes)
        if descend:
            seen[mark] = (depth, result)
        return result

    def _sequence(self, seq: Any, depth: int, seen: _Seen) -> _Result:
        """Scrub the containers inside a list, tuple or deque; a changed one comes back as a list."""
        if depth <= 1:
            return _NOTHING
        ident = id(seq)
        known = _remembered(seen, ident, depth)
        if known is not None:
            return known
        seen[ident] = None
        out: list[Any] | None = None
        notes: dict[str, Any] = {}
        for index, item in enumerate(seq):
            if type(item) in _SCALARS:
                continue
            new, below = self._value(item, depth - 1, seen)
            if new is None:
                continue
            if out is None:
                out = list(seq)
            out[index] = new
            if below:
                notes[str(index)] = below
        result = (out, notes)
        seen[ident] = (depth, result)
        return result


def _remembered(seen: _Seen, ident: int, depth: int) -> _Result | None:
    """The result for a container met before, or None when it must be walked (again).

    A cycle gives "no change". Otherwise the earlier walk's copy is used again, without its notes:
    ``_meta`` marks a shared container at the first path that reached it only, which keeps
    ``_meta`` as small as the data even when a container is reachable along very many paths. An
    earlier walk with a smaller depth budget saw less than this one may, so the container is walked
    again; the budget bounds how often that can happen.
    """
    if ident not in seen:
        return None
    entry = seen[ident]
    if entry is None:
        return _NOTHING
    if entry[0] < depth:
        return None
    return (entry[1][0], {})
