"""Scrubbing by value: secrets recognised by their shape, wherever they appear in text.

Key-based scrubbing (:mod:`.scrubber`) misses a token inside an exception message, a log line or
a local variable named ``line``. These shapes are specific enough to find anywhere: JSON web
tokens, ``Bearer``/``Basic`` credentials, cloud and SaaS keys (AWS, GCP, Azure, GitHub, Slack,
Stripe), PEM private keys, passwords in URLs and Luhn-valid card numbers. Only the secret itself
is replaced by ``[Filtered]``; the text around it stays, so the event is still useful.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

__all__ = ["SecretFinder"]

FILTERED = "[Filtered]"
# Texts found clean are remembered (those up to this long) until they add up to this many
# characters, then all forgotten.
_CLEAN_LONGEST = 1024
_CLEAN_BUDGET = 1 << 18

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
        r"(?:4[0-9]{3}|5[1-5][0-9]{2}|2[2-7][0-9]{2}|3[47][0-9]{2}|6(?:011|5[0-9]{2}))"
        # No digit before the prefix: looked back for after it, which lets the engine skip
        # ahead to the digits a prefix can start with (three times faster).
        r"(?<![0-9]....)(?:[ -]?[0-9]){9,15}(?![0-9])"
    ),
}


# Where each shape may be, found in all of an event's texts at once at C speed, so that only the
# texts holding a candidate meet the shape's own, slower expression. Each is a literal part of
# the shape, or an expression that opens with one (the regular expression engine then skips from
# one occurrence of that literal to the next without a look at the characters between) and goes
# on to the shape's characteristic part, so that an ordinary text is hardly ever a candidate.
# They search the joined texts ("text"), the same lower-cased ("lower", for the Basic and Bearer
# words), or the same encoded with each byte mapped to its class ("digits", "base64": see
# ``_CLASSES``). Some have a gate: a character the shape cannot do without, found at memory
# speed. A shape without an entry (the program's own patterns) is tried on every text.
_PREFILTERS: list[
    tuple[tuple[str, ...], str, str | None, str | bytes | re.Pattern[str] | re.Pattern[bytes]]
] = [
    (("pem",), "text", None, "-----BEGIN "),
    (("jwt",), "text", "J", re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.eyJ")),
    (("url_password",), "text", "@", re.compile(r"://[^\s/:@]+:[^\s/@]+@")),
    (("basic",), "lower", None, re.compile(r"basic\s+[a-z0-9+/]{6}")),
    (("bearer",), "lower", None, re.compile(r"bearer\s+[a-z0-9._~+/-]{16}")),
    (
        ("aws_access_key", "gcp_api_key"),
        "text",
        None,
        re.compile(r"A(?:(?:KIA|SIA|GPA|IDA|ROA|NPA)[A-Z0-9]{16}|Iza[\w-]{35})"),
    ),
    (("aws_secret_key",), "base64", None, b"a" * 40),
    (("azure_storage_key",), "base64", None, b"a" * 86 + b"=="),
    (("github",), "text", None, re.compile(r"g(?:h[pousr]_[A-Za-z0-9]{36}|ithub_pat_\w{60})")),
    (("slack",), "text", None, re.compile(r"xox[abposr]-[0-9A-Za-z-]{10}")),
    (("stripe",), "text", None, re.compile(r"k_(?:live|test)_[0-9A-Za-z]{16}")),
    # A digit 2 to 6 (as "1") and 12 more, spaces and dashes left out: what every card number has.
    (("card",), "digits", None, re.compile(b"1[01]{12}")),
]
# Joins texts to be searched together. The NUL marks where each text ends (a hit's text is the
# number of NULs before it); with the line breaks around it, no prefilter matches across it.
_SEPARATOR = "\n\x00\n"
_MARK = "\x00"
_BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# Byte tables for ``bytes.translate`` (the NUL kept in both) and the bytes it removes: "digits"
# maps the digits 2 to 6, which a card number can start with, to "1", the others to "0", and
# removes the spaces and dashes a card number may have between its digits; "base64" maps its
# alphabet to "a" and keeps "=".
_CLASSES: dict[str, tuple[bytes, bytes]] = {
    "digits": (
        bytes(
            0x31 if 0x32 <= i <= 0x36 else 0x30 if 0x30 <= i <= 0x39 else i if i == 0 else 0x78
            for i in range(256)
        ),
        b" -",
    ),
    "base64": (
        bytes(0x61 if chr(i) in _BASE64_ALPHABET else i if i in (0, 0x3D) else 0x20 for i in range(256)),
        b"",
    ),
}


def _view(source: str, joined: str) -> str | bytes:
    """The joined texts as prefilters of ``source`` search them."""
    if source == "lower":
        return joined.lower()
    table, removed = _CLASSES[source]
    # Other characters than ASCII encode to bytes that map to no class: they cannot be in a shape.
    return joined.encode("utf-8", "surrogatepass").translate(table, removed)


def _finder(prefilter: str | bytes | re.Pattern[Any]) -> Callable[[Any, int], int]:
    """``find(view, start)``: where ``prefilter`` next matches in ``view`` from ``start``, or -1."""
    if not isinstance(prefilter, re.Pattern):
        literal = prefilter
        return lambda view, start: view.find(literal, start)
    search = prefilter.search

    def find(view: Any, start: int) -> int:
        match = search(view, start)
        return -1 if match is None else match.start()

    return find


def _texts_hit(find: Callable[[Any, int], int], view: Any, place: int) -> list[int]:
    """The index of each text in ``view`` (joined texts as a prefilter sees them) where ``find``,
    a prefilter's, finds something, the first at ``place``."""
    mark = _MARK if type(view) is str else b"\x00"
    hit: list[int] = []
    index = counted = 0
    while place >= 0:
        index += view.count(mark, counted, place)
        hit.append(index)
        counted = view.find(mark, place)  # on to the next text: one hit a text is enough
        if counted < 0:
            break
        place = find(view, counted)
    return hit


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
        self._shapes = {name: (re.compile(pattern), _replacer(name)) for name, pattern in shapes.items()}
        self._prefilters = [
            (names, source, gate, _finder(pattern)) for names, source, gate, pattern in _PREFILTERS
        ]
        self._everywhere = [name for name in shapes if name not in _SHAPES]
        # The scope repeats its data in every event (breadcrumbs in every event after theirs,
        # tags, contexts): its texts found clean are remembered, within a bound, so that the next
        # event searches only what it does not share with the earlier ones.
        self._clean: set[str] = set()
        self._clean_size = 0
        self.min_length = 12 if not extra_patterns else 1

    def scrub(self, text: str) -> str | None:
        """``text`` with its secrets replaced, or ``None`` when it has none."""
        if len(text) < self.min_length:
            return None  # shorter than any built-in shape
        return self.find([text]).get(text)

    def find(self, texts: list[str], kept: list[str] | None = None) -> dict[str, str]:
        """The texts among ``texts`` and ``kept`` that hold a secret, each mapped to its scrubbed
        form. ``kept`` are texts likely to come again (what the scope keeps for every event):
        those found clean are remembered and not searched again.

        Built for many texts of which few hold a secret (the strings of an event): the prefilters
        run once over all of them joined, and each place one finds is mapped back to its text, so
        that only those texts meet the shape's own expression.
        """
        clean = self._clean
        todo = set(texts)
        recurring = set(kept).difference(clean) if kept else set()
        todo.update(recurring)
        new = list(todo)
        found: dict[str, str] = {}
        if not new:
            return found
        joined = _SEPARATOR.join(new)
        if not self._find_in(new, joined, found):
            # A NUL of a text's own would be taken for the end of a text: such texts go alone.
            together = [text for text in new if _MARK not in text]
            if together:
                self._find_in(together, _SEPARATOR.join(together), found)
            for text in new:
                if _MARK in text:
                    self._find_in([text], text, found)
        if recurring:
            remember = [text for text in recurring if len(text) <= _CLEAN_LONGEST and text not in found]
            size = self._clean_size + sum(map(len, remember))
            if size > _CLEAN_BUDGET:
                self._clean = clean = set()
                size = 0
            self._clean_size = size
            clean.update(remember)  # only texts known to be clean: another thread may be reading
        return found

    def _find_in(self, texts: list[str], joined: str, found: dict[str, str]) -> bool:
        """Add to ``found`` those of ``texts`` that hold a secret; ``joined`` is the one text, or
        all of them joined. False, with nothing added, if a hit needed placing and a text has a
        NUL of its own."""
        views: dict[str, Any] = {"text": joined}
        alone = len(texts) == 1
        candidates: dict[int, list[str]] = {}
        checked = alone
        for names, source, gate, find in self._prefilters:
            if gate is not None and gate not in joined:
                continue
            view = views.get(source)
            if view is None:
                view = views[source] = _view(source, joined)
            place = find(view, 0)
            if place < 0:
                continue
            if alone:
                candidates.setdefault(0, []).extend(names)
                continue
            if not checked:
                # Only now, with a hit to place, does a NUL of a text's own matter.
                if joined.count(_MARK) != len(texts) - 1:
                    return False
                checked = True
            for index in _texts_hit(find, view, place):
                candidates.setdefault(index, []).extend(names)
        if self._everywhere:
            for index in range(len(texts)):
                candidates.setdefault(index, []).extend(self._everywhere)
        shapes = self._shapes
        for index, found_names in candidates.items():
            text = current = texts[index]
            for name in found_names:
                regex, replace = shapes[name]
                if regex.search(current) is not None:  # far cheaper than a sub that changes nothing
                    current = regex.sub(replace, current)
            if current != text:
                found[text] = current
        return True
