"""Checks of the options web integrations take, so that a wrong value raises at construction."""

from __future__ import annotations

from collections.abc import Iterable

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "DEFAULT_FAILED_REQUEST_STATUS_CODES",
    "DEFAULT_HTTP_METHODS_TO_CAPTURE",
    "check_choice",
    "check_methods",
    "check_status_codes",
]

DEFAULT_FAILED_REQUEST_STATUS_CODES: frozenset[int] = frozenset(range(500, 600))
DEFAULT_HTTP_METHODS_TO_CAPTURE = ("CONNECT", "DELETE", "GET", "PATCH", "POST", "PUT", "TRACE")


def check_choice(integration: str, option: str, value: Any, valid: Iterable[str]) -> str:
    """``value`` if it is one of ``valid``; else ``ValueError`` naming the valid values."""
    choices = tuple(valid)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"{integration}: invalid {option} {value!r}; valid values are {', '.join(map(repr, choices))}"
        )
    return value


def check_status_codes(integration: str, value: Any) -> frozenset[int]:
    """A set of HTTP status codes (ints; ``range`` objects allowed, as older sentry-sdk took)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(
            f"{integration}: failed_request_status_codes must be a set of ints, got {type(value).__name__}"
        )
    codes: set[int] = set()
    for item in value:
        if isinstance(item, range):
            codes.update(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            codes.add(item)
        else:
            raise TypeError(
                f"{integration}: failed_request_status_codes must hold ints (status codes), got {item!r}"
            )
    return frozenset(codes)


def check_methods(integration: str, value: Any) -> tuple[str, ...]:
    """HTTP method names, uppercased."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{integration}: http_methods_to_capture must be a tuple of method names")
    methods = []
    for item in value:
        if not isinstance(item, str):
            raise TypeError(f"{integration}: http_methods_to_capture must hold strings, got {item!r}")
        methods.append(item.upper())
    return tuple(methods)
