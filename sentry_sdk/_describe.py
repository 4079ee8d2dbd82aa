"""Describing an object that has no JSON form: its ``repr``, made safe.

The ``repr`` is the program's code: it may raise, return something that is not a string, take
forever, or (for lazy database objects) run a query. Here each of those ends in a short string:
lazy query objects are described without being evaluated, a failing ``repr`` becomes a placeholder
naming the type, a slow one is interrupted (see ``_usercode``), and every result is cut to
``MAX_REPR`` characters.
"""

from __future__ import annotations

from ._usercode import OutOfTimeError, TimeBudget

__all__ = ["MAX_REPR", "repr_within", "safe_repr"]

MAX_REPR = 1024
_OBJECT_REPR = object.__repr__
# Seconds one repr may take when called on its own (``safe_repr``), outside an event's budget.
_PER_CALL = 0.05

# Objects whose repr runs code that reaches a database, recognised by where their classes live
# (never by importing those libraries): described instead of evaluated.
_LAZY_CLASSES = {
    "django.db.models.query": ("QuerySet", "RawQuerySet", "ValuesQuerySet"),
    "sqlalchemy.orm.query": ("Query",),
    "sqlalchemy.engine.result": ("Result", "ScalarResult", "MappingResult", "ChunkedIteratorResult"),
    "sqlalchemy.engine.cursor": ("CursorResult", "LegacyCursorResult"),
    "peewee": ("ModelSelect", "SelectQuery"),
}


def _lazy_description(value: object) -> str | None:
    try:
        for cls in type(value).__mro__:
            names = _LAZY_CLASSES.get(cls.__module__)
            if names is not None and cls.__name__ in names:
                return f"<{type(value).__name__} (lazy, not evaluated)>"
    except Exception:
        return "<unknown lazy object>"
    return None


def safe_repr(value: object) -> str:
    """``repr(value)`` cut to ``MAX_REPR`` characters; a placeholder naming the type if it fails
    or takes too long.

    Database query objects (Django, SQLAlchemy, peewee) are described, never evaluated.
    """
    return repr_within(value, TimeBudget(_PER_CALL, _PER_CALL))


def repr_within(value: object, budget: TimeBudget) -> str:
    """``safe_repr`` with the time for the object's ``__repr__`` taken from ``budget``."""
    lazy = _lazy_description(value)
    if lazy is not None:
        return lazy
    try:
        # object's own repr runs no program code: no need to watch the clock.
        text = repr(value) if type(value).__repr__ is _OBJECT_REPR else budget.call(repr, value)
        if type(text) is not str:
            text = str.__str__(text)
    except Exception as error:
        return _placeholder(value, "repr took too long" if type(error) is OutOfTimeError else "broken repr")
    if len(text) > MAX_REPR:
        return text[: MAX_REPR - 3] + "..."
    return text


def _placeholder(value: object, what: str) -> str:
    """``<what of TypeName>``, or just ``<what>`` when even the type's name cannot be read."""
    try:
        return f"<{what} of {type(value).__name__!s}>"
    except Exception:
        return f"<{what}>"
