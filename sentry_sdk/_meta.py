"""The event's ``_meta``: notes on what the SDK changed in it, kept at the path of each change."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

__all__ = ["meta_at"]


def meta_at(event: dict[str, Any], path: Iterable[str]) -> dict[str, Any]:
    """The note dict (``_meta ... [""]``) for the value at ``path``, created as needed."""
    node = event.setdefault("_meta", {})
    for key in path:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    note: dict[str, Any] = node.setdefault("", {})
    return note
