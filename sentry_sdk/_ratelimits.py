"""What the server told us to hold back, per data category, and until when.

Sentry answers with ``X-Sentry-Rate-Limits`` (on any status) as a comma-separated list of
``retry_after:categories:scope[:reason[:namespaces]]`` entries, where ``categories`` is a
``;``-separated list and an empty one means every category. Without that header, a 429's
``Retry-After`` (seconds or an HTTP date; 60 s when absent) holds back everything.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

__all__ = ["DEFAULT_RETRY_AFTER", "RateLimits", "parse_retry_after"]

DEFAULT_RETRY_AFTER = 60.0

# The key under which a limit on every category is kept.
_ALL = ""


class RateLimits:
    """Deadlines (``time.monotonic()``) per data category; ``""`` stands for all of them."""

    __slots__ = ("_until",)

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    def update(self, status: int, headers: Mapping[str, str]) -> bool:
        """Take in a response's limits; returns whether it set any."""
        header = headers.get("x-sentry-rate-limits")
        now = time.monotonic()
        if header:
            changed = False
            for entry in header.split(","):
                parts = entry.strip().split(":")
                try:
                    seconds = max(0.0, float(parts[0]))
                except ValueError:
                    continue
                categories = parts[1].split(";") if len(parts) > 1 else [_ALL]
                for category in categories or [_ALL]:
                    category = category.strip()
                    deadline = now + seconds
                    if deadline > self._until.get(category, 0.0):
                        self._until[category] = deadline
                    changed = True
            return changed
        if status == 429:
            self._until[_ALL] = max(
                self._until.get(_ALL, 0.0), now + parse_retry_after(headers.get("retry-after"))
            )
            return True
        return False

    def is_limited(self, category: str) -> bool:
        """Whether items of ``category`` are held back now."""
        if not self._until:
            return False
        now = time.monotonic()
        return self._until.get(_ALL, 0.0) > now or self._until.get(category, 0.0) > now

    def any_active(self) -> bool:
        """Whether some category is held back now."""
        now = time.monotonic()
        return any(deadline > now for deadline in self._until.values())

    def seconds_left(self) -> float:
        """How long the longest limit still holds."""
        now = time.monotonic()
        return max((deadline - now for deadline in self._until.values()), default=0.0)


def parse_retry_after(value: str | None) -> float:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date); 60 when absent."""
    if not value:
        return DEFAULT_RETRY_AFTER
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # rare: kept off the import path

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return DEFAULT_RETRY_AFTER
