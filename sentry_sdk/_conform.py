"""Making a serialized event acceptable to Sentry where its data has a shape Sentry refuses.

Sentry (Relay, its ingestion layer) checks the type of some top-level fields and throws away a
field that does not fit, with an error in the event: tags must be short one-line strings under
keys of a few characters, each context and the user must be an object. The serializer has already
made every value JSON-safe; this pass reshapes what Relay would still throw away, so the data
arrives instead, and notes in ``_meta`` what was cut.
"""

from __future__ import annotations

from ._meta import meta_at

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["EVENT_KEYS", "conform"]

# The characters a tag key may hold, and the longest tag key or value Sentry keeps.
_TAG_KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:- "
_TAG_CHARS = 200


# The top-level fields of an event Sentry knows; it drops any other.
EVENT_KEYS = frozenset(
    """
    event_id timestamp start_timestamp level platform logger transaction transaction_info
    server_name release dist environment tags extra contexts user request sdk exception threads
    breadcrumbs message logentry fingerprint modules debug_meta type culprit stacktrace spans
    measurements breakdowns errors version time_spent checksum template csp _meta _metrics _dsc
    """.split()
)


def conform(event: dict[str, Any]) -> None:
    """Reshape, in place, the fields of a serialized ``event`` that Sentry would drop."""
    unknown = [key for key in event if key not in EVENT_KEYS]
    if unknown:
        # Most likely the program's own data put in the wrong place: kept, as extras.
        extra = event.get("extra")
        moved = {key: event.pop(key) for key in unknown}
        if type(extra) is not dict:
            extra = {} if extra is None else {"extra": extra}
        event["extra"] = {**extra, **moved}
    tags = event.get("tags")
    if tags is not None:
        event["tags"] = _tags(event, tags)
    contexts = event.get("contexts")
    if contexts is not None:
        event["contexts"] = _contexts(contexts)
    level = event.get("level")
    if level is not None:
        _set_level(event, level)
    for key in _EVENT_STRINGS:
        value = event.get(key)
        if value is not None and type(value) is not str:
            event[key] = _text(value)
    fingerprint = event.get("fingerprint")
    if fingerprint is not None:
        parts = fingerprint if type(fingerprint) is list else [fingerprint]
        event["fingerprint"] = [
            part if type(part) is str else _text(part) for part in parts if part is not None
        ]
    crumbs = event.get("breadcrumbs")
    if type(crumbs) is dict and type(crumbs.get("values")) is list:
        crumbs["values"] = [_breadcrumb(crumb) for crumb in crumbs["values"] if type(crumb) is dict]
    user = event.get("user")
    if user is not None:
        if type(user) is dict:
            _user(user)
        elif type(user) is str or type(user) is int:
            # set_user("alice") or set_user(42) names a user.
            event["user"] = {"id": user if _is_exact_scalar(user) or type(user) is str else str(user)}
        else:
            del event["user"]


def _tags(event: dict[str, Any], tags: Any) -> dict[str, Any]:
    """Sentry drops a tag whose key holds a character outside letters, digits, ``_.:-`` and space,
    or whose value is empty, holds a newline or is not a string, number or bool. Such characters
    become ``_`` (in keys) and spaces (in values), other values their text, empty ones go, and
    keys and values are cut to ``_TAG_CHARS``."""
    if type(tags) is list:
        # The protocol also allows a list of [key, value] pairs.
        tags = {p[0]: p[1] for p in tags if type(p) is list and len(p) == 2 and type(p[0]) is str}
    elif type(tags) is not dict:
        return {}
    out: dict[str, Any] = {}
    for key, value in tags.items():
        if type(value) is str:
            value = value.replace("\n", " ")
        elif value is not None and not _is_exact_scalar(value):
            value = _text(value)
        if not key or value == "":
            continue
        if key.strip(_TAG_KEY_CHARS):
            # Some character is not allowed (strip removes every allowed one from both ends).
            key = "".join(c if c in _TAG_KEY_CHARS else "_" for c in key)
        key = key[:_TAG_CHARS]
        if type(value) is str and len(value) > _TAG_CHARS:
            meta_at(event, ("tags", key)).update(
                {"len": len(value), "rem": [["!limit", "s", _TAG_CHARS - 3, _TAG_CHARS]]}
            )
            value = value[: _TAG_CHARS - 3] + "..."
        out[key] = value
    return out


# The levels Sentry knows (in lower case), and the names of other levels it would refuse.
_LEVELS = frozenset(("debug", "info", "log", "warning", "error", "fatal", "critical"))
_LEVEL_NAMES = {"warn": "warning", "exception": "error", "notset": "debug"}
_EVENT_STRINGS = ("message", "transaction", "logger", "culprit")
_CRUMB_STRINGS = ("message", "category", "type")
_CRUMB_KEYS = frozenset(("timestamp", "type", "category", "level", "message", "data", "event_id", "origin"))


def _set_level(holder: dict[str, Any], level: Any) -> None:
    """A level as Sentry spells it ("WARN" becomes "warning"); one it cannot know is left out."""
    if type(level) is str:
        lower = level.lower()
        lower = _LEVEL_NAMES.get(lower, lower)
        if lower in _LEVELS:
            holder["level"] = lower
            return
    del holder["level"]


def _breadcrumb(crumb: dict[str, Any]) -> dict[str, Any]:
    """A breadcrumb's fields as Sentry types them; keys it does not know move into ``data``."""
    unknown = [key for key in crumb if key not in _CRUMB_KEYS]
    if unknown:
        data = crumb.get("data")
        moved = {key: crumb.pop(key) for key in unknown}
        crumb["data"] = {**data, **moved} if type(data) is dict else {"value": data, **moved}
    for key in _CRUMB_STRINGS:
        value = crumb.get(key)
        if value is not None and type(value) is not str:
            crumb[key] = _text(value)
    level = crumb.get("level")
    if level is not None:
        _set_level(crumb, level)
    data = crumb.get("data")
    if data is not None and type(data) is not dict:
        crumb["data"] = {"value": data}
    stamp = crumb.get("timestamp")
    if stamp is not None and not _is_timestamp(stamp):
        del crumb["timestamp"]
    return crumb


def _is_timestamp(value: Any) -> bool:
    """A number of seconds since 1970 (not before it), or an ISO-8601 string."""
    if type(value) is int or type(value) is float:
        return value >= 0
    if type(value) is str:
        from datetime import datetime

        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
            return True
        except ValueError:
            return False
    return False


# User fields Sentry takes only as text, and those it also takes as numbers or bools.
_USER_STRINGS = ("email", "name", "segment", "sentry_user")
_USER_SCALARS = ("id", "username")
# Sentry reads numbers as doubles: past 2**53 it refuses them rather than lose digits.
_EXACT = 2**53


def _user(user: dict[str, Any]) -> None:
    """A user's typed fields made the type Sentry expects: values become their text; an IP
    address that is not one, or a ``geo`` that is not an object, moves into ``data``."""
    for key in _USER_STRINGS:
        value = user.get(key)
        if value is not None and type(value) is not str:
            user[key] = _text(value)
    for key in _USER_SCALARS:
        value = user.get(key)
        if value is not None and type(value) is not str and not _is_exact_scalar(value):
            user[key] = _text(value)
    moved: dict[str, Any] = {}
    ip = user.get("ip_address")
    if ip is not None and not _is_ip(ip):
        moved["ip_address"] = user.pop("ip_address")
    geo = user.get("geo")
    if geo is not None and type(geo) is not dict:
        moved["geo"] = user.pop("geo")
    data = user.get("data")
    if data is not None and type(data) is not dict:
        moved["value"] = data
        data = None
    if moved:
        user["data"] = {**(data or {}), **moved}


def _is_exact_scalar(value: Any) -> bool:
    """A bool, or a number Sentry can read without losing digits."""
    t = type(value)
    return t is bool or ((t is int or t is float) and -_EXACT < value < _EXACT)


def _text(value: Any) -> str:
    """A JSON value as text: containers as their repr, numbers and bools as Python writes them."""
    return repr(value) if type(value) is dict or type(value) is list else str(value)


def _is_ip(value: Any) -> bool:
    if value == "{{auto}}":
        return True
    if type(value) is not str:
        return False
    import ipaddress

    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False


def _contexts(contexts: Any) -> dict[str, Any]:
    """Each context an object: a value that is not one (``set_context("step", 3)``) is kept as
    ``{"value": ...}`` rather than dropped by the server."""
    if type(contexts) is not dict:
        return {"value": {"value": contexts}}
    return {
        key: value if type(value) is dict else {"value": value}
        for key, value in contexts.items()
        if value is not None
    }
