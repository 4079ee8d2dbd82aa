"""Naming a Django request after its route, as sentry-sdk's two transaction styles do.

``url``: the URL pattern the request matched, joined across ``include()``s, with its parameters as
``{name}``: ``path("message/<int:id>")`` is ``/message/{id}``,
``re_path(r"^api/(?P<version>(v1|v2))/author/$")`` is ``/api/{version}/author/`` (an unnamed
group is ``{var}``; anchors, lookarounds and the ``?`` of an optional character are dropped;
escaped punctuation is shown as itself).

``function_name``: the view's module and qualified name (``myapp.views.message``); a class-based
view is named by its class (``myapp.views.MessageView``).
"""

from __future__ import annotations

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["format_route", "view_name"]

# What follows "(?" in a group that matches no text of its own, so it names nothing.
_LOOKAROUNDS = ("=", "!", "<=", "<!")


def _group_end(pattern: str, start: int) -> int:
    """The index of the ``)`` closing the group opened at ``start`` (the end if unbalanced)."""
    depth = 0
    i = start
    in_class = False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern.startswith("]", i + 1) or pattern.startswith("^]", i + 1):
                i += 2 if pattern[i + 1] == "]" else 3  # a "]" first in a class is literal
                continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(pattern) - 1


def _skip_quantifier(pattern: str, i: int) -> int:
    """The index past a quantifier (``?``, ``*``, ``+``, ``{m,n}``, lazy or not) at ``i``, if any."""
    if i < len(pattern) and pattern[i] in "?*+":
        i += 1
    elif pattern.startswith("{", i):
        end = pattern.find("}", i)
        if end != -1 and all(c.isdigit() or c == "," for c in pattern[i + 1 : end]):
            i = end + 1
    if i < len(pattern) and pattern[i] in "?+":  # lazy or possessive
        i += 1
    return i


def format_route(route: str) -> str:
    """A Django route (``ResolverMatch.route``: path syntax, regex, or both joined) as ``/a/{b}/``."""
    out: list[str] = []
    i = 0
    length = len(route)
    while i < length:
        char = route[i]
        if char == "\\" and i + 1 < length:
            escaped = route[i + 1]
            out.append(escaped if not escaped.isalnum() else route[i : i + 2])
            i += 2
        elif char == "(":
            end = _group_end(route, i)
            if route.startswith("(?P<", i):
                close = route.find(">", i)
                out.append("{" + route[i + 4 : close] + "}")
            elif not (route.startswith("(?", i) and any(route.startswith(k, i + 2) for k in _LOOKAROUNDS)):
                out.append("{var}")
            i = _skip_quantifier(route, end + 1)
        elif char == "<":  # a path() converter: <int:id> or <id>
            close = route.find(">", i)
            if close == -1:
                out.append(char)
                i += 1
            else:
                out.append("{" + route[i + 1 : close].rpartition(":")[2] + "}")
                i = close + 1
        elif char in "^$" or (char == "?" and i > 0):
            i += 1  # anchors; "?" making the character before it optional
        else:
            out.append(char)
            i += 1
    return "/" + "".join(out).lstrip("/")


def view_name(view: Any) -> str | None:
    """``module.qualname`` of a view function; of its class for a class-based view."""
    view = getattr(view, "view_class", None) or view
    qualname = getattr(view, "__qualname__", None)
    if qualname is None:  # a callable instance
        view = type(view)
        qualname = view.__qualname__
    module = getattr(view, "__module__", None)
    return f"{module}.{qualname}" if module else str(qualname)
