"""Serializer: any event into JSON-safe data with depth, breadth and length limits; never raises."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any

_MAX_REPR = 1024
_DATABAG_DEPTH = 5
_DATABAG_BREADTH = 10
_SAFETY_DEPTH = 50


def safe_repr(value: object) -> str:
    try:
        rv = repr(value)
    except Exception:
        try:
            return f"<broken repr of {type(value).__name__}>"
        except Exception:
            return "<broken repr>"
    if not isinstance(rv, str):
        return "<broken repr>"
    return rv if len(rv) <= _MAX_REPR else rv[: _MAX_REPR - 3] + "..."


def serialize_event(event: Mapping[str, Any], *, max_value_length: int | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    rv = _walk(event, (), meta, max_value_length, False, 0, set())
    if not isinstance(rv, dict):
        return {}
    if meta:
        existing = rv.get("_meta")
        rv["_meta"] = _merge(existing if isinstance(existing, dict) else {}, meta)
    return rv


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(a.get(k), dict):
            _merge(a[k], v)
        else:
            a[k] = v
    return a


def _note(meta: dict[str, Any], path: tuple[str, ...], note: dict[str, Any]) -> None:
    node = meta
    for part in path:
        node = node.setdefault(part, {})
    node.setdefault("", {}).update(note)


_DATABAG_PATHS = {
    ("extra", "*"),
    ("breadcrumbs", "values", "*", "data"),
    ("exception", "values", "*", "stacktrace", "frames", "*", "vars"),
    ("threads", "values", "*", "stacktrace", "frames", "*", "vars"),
    ("request", "data"),
    ("request", "cookies"),
}


def _is_databag(path: tuple[str, ...]) -> bool:
    for pattern in _DATABAG_PATHS:
        if len(pattern) == len(path) and all(p == "*" or p == q for p, q in zip(pattern, path)):
            return True
    return False


def _walk(
    value: Any,
    path: tuple[str, ...],
    meta: dict[str, Any],
    max_len: int | None,
    in_bag: bool,
    bag_depth: int,
    stack: set[int],
) -> Any:
    try:
        t = type(value)
        if t is str:
            if max_len is not None and len(value) > max_len:
                _note(meta, path, {"len": len(value), "rem": [["!limit", "s", max_len - 3, max_len]]})
                return value[: max_len - 3] + "..."
            return value
        if value is None or t is bool or t is int:
            return value
        if t is float:
            return value if value == value and value not in (float("inf"), float("-inf")) else repr(value)
        if not in_bag and path and len(path) < 9 and _is_databag(path):
            in_bag, bag_depth = True, 0
        if isinstance(value, (Mapping, list, tuple, set, frozenset)) or t.__name__ == "deque":
            if id(value) in stack:
                return "<cyclic>"
            if len(path) >= _SAFETY_DEPTH or (in_bag and bag_depth >= _DATABAG_DEPTH):
                return safe_repr(value)
            stack.add(id(value))
            try:
                if isinstance(value, Mapping):
                    out: Any = {}
                    items = list(value.items())
                    if in_bag and len(items) > _DATABAG_BREADTH:
                        _note(meta, path, {"len": len(items)})
                        items = items[:_DATABAG_BREADTH]
                    for k, v in items:
                        key = k if type(k) is str else _key(k)
                        out[key] = _walk(v, (*path, key), meta, max_len, in_bag, bag_depth + 1, stack)
                    return out
                seq = list(value)
                if in_bag and len(seq) > _DATABAG_BREADTH:
                    _note(meta, path, {"len": len(seq)})
                    seq = seq[:_DATABAG_BREADTH]
                return [
                    _walk(v, (*path, str(i)), meta, max_len, in_bag, bag_depth + 1, stack)
                    for i, v in enumerate(seq)
                ]
            finally:
                stack.discard(id(value))
        if isinstance(value, str):
            return _walk(str.__str__(value), path, meta, max_len, in_bag, bag_depth, stack)
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return _walk(float(value), path, meta, max_len, in_bag, bag_depth, stack)
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                value = value.astimezone(timezone.utc)
            return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if isinstance(value, date):
            return value.isoformat()
        return safe_repr(value)
    except Exception:
        return "<unserializable>"


def _key(k: Any) -> str:
    try:
        return str(k)
    except Exception:
        return safe_repr(k)


__all__ = ["safe_repr", "serialize_event"]
