"""Hypothesis strategies for hostile values: what a program may hand the SDK on a bad day.

``hostile_values()`` mixes ordinary JSON data with everything a serializer trips on: cycles, deep
nesting, huge strings, lone surrogates, non-string keys, bytes, NaN and infinities, huge integers,
datetimes with a broken time zone, and objects (and subclasses of ``str``, ``dict``, ``list``,
``int``, ``tuple`` and ``Exception``) whose special methods raise, return the wrong type, or never
return.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from hypothesis import strategies as st

__all__ = ["hostile_keys", "hostile_objects", "hostile_values"]

# How a misbehaving method misbehaves. "endless" costs real time (the SDK interrupts it after its
# share of the time budget), so it is drawn less often than the others.
_HOW = st.sampled_from(["raise", "raise", "raise", "wrong type", "wrong type", "endless"])

_METHODS = (
    "__repr__",
    "__str__",
    "__eq__",
    "__hash__",
    "__len__",
    "__iter__",
    "__bool__",
    "__getitem__",
    "__contains__",
    "__getattr__",
    "__format__",
    "keys",
    "items",
    "values",
)

_BASES: dict[type, Callable[[type], Any]] = {
    object: lambda cls: object.__new__(cls),
    str: lambda cls: str.__new__(cls, "hostile text"),
    int: lambda cls: int.__new__(cls, 7),
    tuple: lambda cls: tuple.__new__(cls, (1, "two")),
    list: lambda cls: _filled(list.__new__(cls), list.extend, [1, "two", None]),
    dict: lambda cls: _filled(dict.__new__(cls), dict.update, {"a": 1, "password": "hunter2"}),
    Exception: lambda cls: Exception.__new__(cls, "hostile exception"),
}


def _filled(value: Any, fill: Callable[[Any, Any], None], content: Any) -> Any:
    fill(value, content)
    return value


class HostileError(Exception):
    """What the raising methods raise."""


def _method(how: str) -> Callable[..., Any]:
    if how == "raise":

        def method(self: object, *args: object, **kwargs: object) -> Any:
            raise HostileError("a special method that raises")

    elif how == "wrong type":

        def method(self: object, *args: object, **kwargs: object) -> Any:
            return object()

    else:

        def method(self: object, *args: object, **kwargs: object) -> Any:
            while True:
                try:
                    pass
                except Exception:
                    pass

        method.endless = True  # type: ignore[attr-defined]
    return method


@st.composite
def hostile_objects(draw: st.DrawFn) -> Any:
    """An instance of a subclass of object, str, int, tuple, list, dict or Exception with some of its
    special methods broken."""
    base = draw(st.sampled_from(list(_BASES)))
    broken = draw(st.dictionaries(st.sampled_from(_METHODS), _HOW, min_size=1, max_size=4))
    namespace: dict[str, Any] = {name: _method(how) for name, how in broken.items()}
    if "__eq__" in namespace and "__hash__" not in namespace:
        namespace["__hash__"] = object.__hash__
    # How Hypothesis prints a failing example: the SDK never calls it, and without it the report
    # of a failure would itself fail on the broken __repr__.
    name = f"Hostile{base.__name__.title()}"
    namespace["_repr_pretty_"] = lambda self, printer, cycle: printer.text(f"<{name} breaking {broken}>")
    cls = type(name, (base,), namespace)
    return _BASES[base](cls)


class _BrokenZone(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta:
        raise HostileError("no offset")

    def dst(self, dt: datetime | None) -> timedelta:
        raise HostileError("no dst")

    def tzname(self, dt: datetime | None) -> str:
        raise HostileError("no name")


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def _cyclic(kind: str) -> Any:
    if kind == "list":
        items: list[Any] = [1]
        items.append(items)
        return items
    mapping: dict[str, Any] = {"a": 1}
    mapping["self"] = mapping
    mapping["inner"] = {"back": mapping}
    return mapping


_ATOMS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**64, max_value=2**200),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e308]),
    st.floats(),
    st.text(),
    st.text(st.characters(codec=None, categories=["Cs", "Co", "Cc", "Lo"]), max_size=20),
    st.binary(max_size=64),
    st.integers(min_value=100_000, max_value=2_000_000).map(lambda n: "x" * n),
    st.datetimes(timezones=st.sampled_from([None, timezone.utc, timezone(timedelta(hours=-5))])),
    st.builds(lambda: datetime(2026, 1, 1, tzinfo=_BrokenZone())),
    st.integers(min_value=50, max_value=3000).map(_nested),
    st.sampled_from(["list", "dict"]).map(_cyclic),
    st.complex_numbers(),
    hostile_objects(),
)


def hostile_keys() -> st.SearchStrategy[Any]:
    """Mapping keys: strings of any kind and other hashable values, some with a broken ``__str__``."""
    return st.one_of(
        st.text(),
        st.text(st.characters(codec=None, categories=["Cs"]), min_size=1, max_size=3),
        st.integers(),
        st.none(),
        st.binary(max_size=8),
        st.tuples(st.integers(), st.text(max_size=3)),
        hostile_objects().filter(_hashable),
    )


def _hashable(value: Any) -> bool:
    # A key whose __hash__ or __eq__ never returns would hang the test's own dict.
    if any(getattr(type(value).__dict__.get(name), "endless", False) for name in ("__hash__", "__eq__")):
        return False
    try:
        hash(value)
        return True
    except Exception:
        return False


def hostile_values() -> st.SearchStrategy[Any]:
    """Atoms above, alone or in lists, tuples, sets and dicts (with hostile keys), nested."""
    return st.recursive(
        _ATOMS,
        lambda children: st.one_of(
            st.lists(children, max_size=12),
            st.lists(children, max_size=4).map(tuple),
            st.dictionaries(hostile_keys(), children, max_size=12),
            st.frozensets(st.integers() | st.text(max_size=5), max_size=5),
        ),
        max_leaves=20,
    )
