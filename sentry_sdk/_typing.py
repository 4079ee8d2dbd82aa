"""``typing`` helpers that cost nothing at run time (``import typing`` is not free)."""

from __future__ import annotations

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import overload
else:

    def overload(fn):
        """At run time only the last definition counts; the overloads are for type checkers."""
        return fn


__all__ = ["overload"]
