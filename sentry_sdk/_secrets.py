"""Scrubbing by value: secrets recognised by their shape, wherever they appear in text.

Key-based scrubbing (:mod:`.scrubber`) misses a token inside an exception message, a log line or
a local variable named ``line``. These shapes are specific enough to find anywhere: JSON web
tokens, ``Bearer``/``Basic`` credentials, cloud and SaaS keys (AWS, GCP, Azure, GitHub, Slack,
Stripe), PEM private keys, passwords in URLs and Luhn-valid card numbers. Only the secret itself
is replaced by ``[Filtered]``; the text around it stays, so the event is still useful.
"""

from __future__ import annotations

import re

from ._meta import meta_at

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

__all__ = ["SecretFinder"]

FILTERED = "[Filtered]"

_SHAPES = {
    "pem": r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----[\s\S]*?-----END (?:[A-Z]+ )*PRIVATE KEY-----",
    "jwt": r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}",
    "url_password": r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@]+:[^\s/@]+@",
    "basic": r"(?i:\bbasic)\s+[A-Za-z0-9+/]{6,}={0,2}",
    "bearer": r"(?i:\bbearer)\s+(?=[A-Za-z0-9._~+/-]*[0-9])[A-Za-z0-9._~+/-]{16,}=*",
    "aws_access_key": r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b",
    # 40 base64 characters; only those mixing lower case, upper case and digits count (see below:
    # hex digests have no upper case).
    "aws_secret_key": r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])",
    "gcp_api_key": r"\bAIza[0-9A-Za-z_-]{35}\b",
    "azure_storage_key": r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{86}==",
    "github": r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b",
    "slack": r"\bxox[abposr]-[0-9A-Za-z-]{10,}",
    "stripe": r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}\b",
    # Card-number prefixes (Visa, Mastercard, Amex, Discover); the Luhn check decides.
    "card": (
        r"(?<![0-9])(?:4[0-9]{3}|5[1-5][0-9]{2}|2[2-7][0-9]{2}|3[47][0-9]{2}|6(?:011|5[0-9]{2}))"
        r"(?:[ -]?[0-9]){9,15}(?![0-9])"
    ),
}


# Text each shape cannot match without: a shape is only looked for in text holding one of its
# literals (checked with ``in``, hundreds of times faster than a regular expression). The Basic
# and Bearer words are looked for in lower-cased text. None: a shape with no literal, tested
# another quick way (cards: 13 digits; AWS secret keys: a run of 40 base64 characters).
_LITERALS: dict[str, tuple[str, ...] | None] = {
    "pem": ("-----BEGIN ",),
    "jwt": ("eyJ",),
    "url_password": ("://",),
    "basic": ("basic",),
    "bearer": ("bearer",),
    "aws_access_key": ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA"),
    "aws_secret_key": None,
    "gcp_api_key": ("AIza",),
    "azure_storage_key": ("==",),
    "github": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "slack": ("xox",),
    "stripe": ("_live_", "_test_"),
    "card": None,
}
_LOWER_CASED = frozenset(("basic", "bearer"))


# Joins texts to be searched together: whitespace and a NUL, which no shape can match across.
_SEPARATOR = "\n\x00\n"
# Bytes that can be part of a base64 run (as 'a') and those that cannot (as a space).
_BASE64_RUNS = bytes(
    0x61 if chr(i) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" else 0x20
    for i in range(256)
)


# Digits as "0", the separators a card number may have as spaces, anything else as "x".
_CARD_CHARS = bytes(0x30 if 0x30 <= i <= 0x39 else 0x20 if i in (0x20, 0x2D) else 0x78 for i in range(256))


def _may_hold_card(text: str) -> bool:
    """Whether ``text`` has 13 digits apart from spaces and dashes (every card number has)."""
    return b"0" * 13 in text.encode("utf-8", "surrogatepass").translate(_CARD_CHARS).replace(b" ", b"")


def _has_base64_run(text: str) -> bool:
    """Whether ``text`` has 40 base64 characters in a row (what an AWS secret key needs)."""
    return b"a" * 40 in text.encode("utf-8", "surrogatepass").translate(_BASE64_RUNS)


def _luhn_valid(text: str) -> bool:
    digits = [int(c) for c in text if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _mixed(value: str) -> bool:
    return (
        not value.isdigit()
        and not value.islower()
        and not value.isupper()
        and any(c.isdigit() for c in value)
    )


def _basic_credentials(token: str) -> bool:
    """Whether ``Basic <token>`` really carries ``user:password`` (so prose like "Basic usage" is kept)."""
    import base64
    import binascii

    raw = token.split()[-1]
    try:
        decoded = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    return ":" in decoded and decoded.isprintable()


def _replacer(kind: str) -> Callable[[re.Match[str]], str]:
    """The replacement function for matches of shape ``kind``: only the secret itself goes."""

    def replace(match: re.Match[str]) -> str:
        value = match.group()
        if kind == "card" and not _luhn_valid(value):
            return value
        if kind == "aws_secret_key" and not _mixed(value):
            return value
        if kind == "basic":
            if not _basic_credentials(value):
                return value
            return value.split()[0] + " " + FILTERED
        if kind == "bearer":
            return value.split()[0] + " " + FILTERED
        if kind == "url_password":  # keep scheme and user: only the password goes
            user_end = value.index(":", value.index("://") + 3)
            return value[: user_end + 1] + FILTERED + "@"
        return FILTERED

    return replace


class SecretFinder:
    """Finds and replaces secrets in strings; ``extra_patterns`` adds regular expressions of your own."""

    def __init__(self, extra_patterns: Iterable[str] = ()) -> None:
        shapes = dict(_SHAPES)
        for index, pattern in enumerate(extra_patterns):
            re.compile(pattern)  # a bad pattern fails at init, naming itself
            shapes[f"custom{index}"] = pattern
        # Each shape is its own regular expression: one alternation of them all costs ten times
        # more per character than its parts, and most texts need only one or two of the parts.
        self._checks = [
            (name, _LITERALS.get(name), re.compile(pattern), _replacer(name))
            for name, pattern in shapes.items()
        ]
        # Programs repeat their strings (the same locals in every frame, the same log templates):
        # results for short ones are remembered, a bounded number of them.
        self._seen: dict[str, str | None] = {}
        self.min_length = 12 if not extra_patterns else 1

    def scrub(self, text: str) -> str | None:
        """``text`` with its secrets replaced, or ``None`` when it has none."""
        if len(text) < self.min_length:
            return None  # shorter than any built-in shape
        if len(text) <= 256:
            seen = self._seen
            if text in seen:
                return seen[text]
            result = self._scrub(text)
            if len(seen) >= 4096:
                seen.clear()
            seen[text] = result
            return result
        return self._scrub(text)

    def _scrub(self, text: str) -> str | None:
        return self._scrub_all([text])[0]

    def scrub_many(self, texts: list[str]) -> list[str | None]:
        """:meth:`scrub` of each of ``texts``, found together: far cheaper than one by one."""
        results: list[str | None] = [None] * len(texts)
        todo: list[int] = []
        todo_texts: list[str] = []
        seen = self._seen
        minimum = self.min_length
        for index, text in enumerate(texts):
            if len(text) < minimum:
                continue
            if len(text) <= 256 and text in seen:
                results[index] = seen[text]
            else:
                todo.append(index)
                todo_texts.append(text)
        if todo_texts:
            found = self._scrub_all(todo_texts)
            if len(seen) >= 4096:
                seen.clear()
            for index, text, result in zip(todo, todo_texts, found):
                results[index] = result
                if len(text) <= 256:
                    seen[text] = result
        return results

    def _scrub_all(self, texts: list[str]) -> list[str | None]:
        """The work of :meth:`scrub_many`, without the cache.

        Each shape is first looked for in all the texts joined together, with C-speed tests
        (literals with ``in``, digits, runs of base64 characters); only when that finds a
        candidate are the texts that hold one given to the shape's regular expression. The
        separator breaks every shape, so no candidate in one text is hidden by its neighbour.
        """
        joined = _SEPARATOR.join(texts)
        joined_lower: str | None = None
        lowered: list[str] | None = None
        current = list(texts)
        for name, literals, regex, replace in self._checks:
            if literals is not None:
                if name in _LOWER_CASED:
                    if joined_lower is None:
                        joined_lower = joined.lower()
                    if not any(literal in joined_lower for literal in literals):
                        continue
                    if lowered is None:
                        lowered = [text.lower() for text in texts]
                    hits = [i for i, low in enumerate(lowered) if any(lit in low for lit in literals)]
                else:
                    present = [literal for literal in literals if literal in joined]
                    if not present:
                        continue
                    hits = [i for i, text in enumerate(texts) if any(lit in text for lit in present)]
            elif name == "card":
                if not _may_hold_card(joined):
                    continue
                hits = [i for i, text in enumerate(texts) if _may_hold_card(text)]
            elif name == "aws_secret_key":
                if not _has_base64_run(joined):
                    continue
                hits = [i for i, text in enumerate(texts) if len(text) >= 40 and _has_base64_run(text)]
            else:
                hits = list(range(len(texts)))
            for i in hits:
                current[i] = regex.sub(replace, current[i])
        return [None if new == old else new for new, old in zip(current, texts)]

    def scrub_fields(self, event: dict[str, Any]) -> None:
        """Replace secrets in the text fields of a serialized event outside its databags: the
        message, the log entry, exception values and breadcrumb messages. (The serializer scans
        the databags, extras, contexts, user, tags, request data, breadcrumb data and frame
        variables, as it walks them.) Each replacement is marked in the event's ``_meta``.
        """

        def note(path: tuple[str, ...]) -> None:
            meta_at(event, path).setdefault("rem", []).append(["@secret", "s"])

        if "message" in event:
            event["message"] = self.scrub_tree(event["message"], note, ("message",))
        logentry = event.get("logentry")
        if isinstance(logentry, dict):
            for key in ("message", "formatted", "params"):
                if key in logentry:
                    logentry[key] = self.scrub_tree(logentry[key], note, ("logentry", key))
        crumbs = event.get("breadcrumbs")
        for index, crumb in enumerate((crumbs or {}).get("values") or () if isinstance(crumbs, dict) else ()):
            if isinstance(crumb, dict) and isinstance(crumb.get("message"), str):
                path = ("breadcrumbs", "values", str(index), "message")
                crumb["message"] = self.scrub_tree(crumb["message"], note, path)
        for area in ("exception", "threads"):
            values = event.get(area, {}).get("values") if isinstance(event.get(area), dict) else None
            for index, value in enumerate(values or ()):
                if isinstance(value, dict) and isinstance(value.get("value"), str):
                    value["value"] = self.scrub_tree(
                        value["value"], note, (area, "values", str(index), "value")
                    )

    def scrub_tree(self, node: Any, on_change: Any = None, path: tuple[str, ...] = ()) -> Any:
        """A copy-free walk of JSON-like data: strings with secrets are replaced in place.

        ``on_change(path)`` is told where each replacement happened. Runs on every event, so the
        walk checks exact types and builds a path only when something is replaced.
        """
        kind = type(node)
        if kind is str:
            replaced = self.scrub(node)
            if replaced is None:
                return node
            if on_change is not None:
                on_change(path)
            return replaced
        if kind is dict:
            for key, value in node.items():
                value_kind = type(value)
                if value_kind is str:
                    if len(value) >= self.min_length:
                        replaced = self.scrub(value)
                        if replaced is not None:
                            node[key] = replaced
                            if on_change is not None:
                                on_change((*path, str(key)))
                elif (value_kind is dict or value_kind is list) and key != "_meta":
                    self.scrub_tree(value, on_change, (*path, str(key)))
        elif kind is list:
            for index, value in enumerate(node):
                value_kind = type(value)
                if value_kind is str or value_kind is dict or value_kind is list:
                    node[index] = self.scrub_tree(value, on_change, (*path, str(index)))
        return node
