"""Names that look like they name a secret (``api_key``, ``X-Auth-Token``, ``--password``), and the
values they name hidden: in the query strings of outgoing requests and in command lines.

Shared by the integrations that record what the program sends or runs (``http.client``, httpx,
``subprocess``), so that a secret passed as a parameter never reaches a breadcrumb or a span.
"""

from __future__ import annotations

import functools
import re

__all__ = ["FILTERED", "filter_pairs", "looks_secret"]

FILTERED = "[Filtered]"

_SECRET_WORDS = frozenset(("key", "sig", "code", "pwd", "pass"))
_SECRET_PARTS = ("token", "secret", "passw", "auth", "signature", "session", "credential")
_CAMEL_BOUNDARY = re.compile(r"([a-z0-9])([A-Z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")


# Parameter names repeat from one request to the next, so the answers are kept.
@functools.lru_cache(maxsize=512)
def looks_secret(name: str) -> bool:
    """Whether a parameter or flag name looks like it names a secret.

    Names are split into words (``api_key``, ``apiKey``, ``X-Api-Key`` all give ``key``); erring on
    the side of hiding a harmless value is fine, showing a secret is not.
    """
    for word in _NON_WORD.split(_CAMEL_BOUNDARY.sub(r"\1_\2", name).lower()):
        if word in _SECRET_WORDS or word.endswith("key") or any(part in word for part in _SECRET_PARTS):
            return True
    return False


def filter_pairs(text: str) -> str:
    """``a=1&token=x`` as ``a=1&token=[Filtered]``; anything else is kept as written."""
    parts = text.split("&")
    for i, part in enumerate(parts):
        name, eq, _ = part.partition("=")
        if eq and looks_secret(_unquote(name) if "%" in name or "+" in name else name):
            parts[i] = f"{name}={FILTERED}"
    return "&".join(parts)


def _unquote(text: str) -> str:
    from urllib.parse import unquote_plus

    return unquote_plus(text)
