"""Reading a framework's version, for the minimum-version checks of ``setup_once``."""

from __future__ import annotations

__all__ = ["parse_version"]


def parse_version(text: str) -> tuple[int, ...]:
    """``"5.3.0rc1"`` -> ``(5, 3, 0)``: the release's first three numbers (a missing one is 0)."""
    numbers = []
    for part in text.split(".")[:3]:
        digits = ""
        for char in part:
            if not char.isdigit():
                break
            digits += char
        numbers.append(int(digits or 0))
    return tuple(numbers)
