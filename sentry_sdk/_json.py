"""The JSON text of envelope headers and payloads.

Every event of a process carries the same few large parts: the installed distributions
(``modules``), the SDK's own description (``sdk``) and the runtime and OS contexts, together most of
a small event's text. Encoding them again for every event was most of its JSON cost, so the text
of each is kept and reused for as long as the event's part is equal to the one it was made from.
The check is ``==`` at C speed against a private copy holding only strings, so a reused text is
exactly what encoding the part would give (up to the order of keys, which JSON objects do not have).
"""

from __future__ import annotations

import os

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["payload_text", "text"]

_encode: Any = None

# Parts reused by key: at the top of an event, and inside its ``contexts``.
_TOP = ("modules", "sdk")
_CONTEXTS = ("runtime", "os")
# A part that changed this many times varies from event to event: it is no longer kept.
_MAX_CHANGES = 8

# key -> (private copy of the part, its JSON text); key -> times the kept part was replaced.
_kept: dict[str, tuple[Any, str]] = {}
_changes: dict[str, int] = {}
# Stands in for a kept part while the rest of a payload is encoded, then its JSON text is replaced
# by the part's. Random text after a control character (ASCII once encoded, so that the payload's
# text stays one byte per character): no data has it by chance.
_MARK = "\x01" + os.urandom(8).hex()
# key -> (the mark standing in for the part at key, the mark as JSON text).
_marks = {
    key: (_MARK + key, f'"\\u0001{_MARK[1:]}{key}"') for key in (*_TOP, *("contexts." + k for k in _CONTEXTS))
}


def text(value: Any) -> str:
    """``value`` as compact JSON (UTF-8 text kept as it is, NaN refused)."""
    global _encode
    if _encode is None:
        _encode = _encoder()
    rv: str = _encode(value)
    return rv


def _encoder() -> Any:
    import json
    from json import encoder

    # One encoder for the process: json.dumps with options builds a new one at every call, which
    # costs more than encoding an envelope's headers.
    plain = json.JSONEncoder(allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    make = getattr(encoder, "c_make_encoder", None)
    quote = getattr(encoder, "c_encode_basestring", None)
    if make is None or quote is None:  # an interpreter without the C accelerator
        return plain.encode
    # No cycle check (a shared table of the objects being encoded is not safe across threads): the
    # payloads are the serializer's acyclic output, and a cycle put in after it ends in a
    # RecursionError, which the transport handles like any other encoding failure.
    chunks = make(None, plain.default, quote, None, ":", ",", False, False, False)
    join = "".join

    def encode(value: Any) -> str:
        return join(chunks(value, 0))

    return encode


def payload_text(payload: Any) -> str:
    """A JSON item payload as text, reusing the kept text of the parts every event repeats."""
    if type(payload) is not dict:
        return text(payload)
    swaps: list[tuple[str, str]] = []
    top = _stand_ins(payload, _TOP, "", swaps)
    contexts = payload.get("contexts")
    if type(contexts) is dict:
        inner = _stand_ins(contexts, _CONTEXTS, "contexts.", swaps)
        if inner is not contexts:
            if top is payload:
                top = dict(payload)
            top["contexts"] = inner
    rv = text(top)
    for quoted, fragment in swaps:
        rv = rv.replace(quoted, fragment, 1)
    return rv


def _stand_ins(
    part: dict[str, Any], keys: tuple[str, ...], prefix: str, swaps: list[tuple[str, str]]
) -> dict[str, Any]:
    """``part`` with each kept part at ``keys`` replaced by its mark (a copy, if any is: the caller's
    data is not changed); adds (mark as JSON, the part's text) to ``swaps``."""
    out = part
    for key in keys:
        value = part.get(key)
        if value is None:
            continue
        fragment = _fragment(prefix + key, value)
        if fragment is not None:
            if out is part:
                out = dict(part)
            mark, quoted = _marks[prefix + key]
            out[key] = mark
            swaps.append((quoted, fragment))
    return out


def _fragment(key: str, value: Any) -> str | None:
    """The text of ``value``, the part at ``key``: the kept one if equal, else encoded (and kept)."""
    kept = _kept.get(key)
    if kept is not None:
        try:
            if kept[0] == value:
                return kept[1]
        except Exception:  # a value whose __eq__ fails is encoded as usual, or not at all
            return None
    if _changes.get(key, 0) >= _MAX_CHANGES or type(value) is not dict:
        return None
    fragment = text(value)  # TypeError / ValueError go to the caller, as for any payload
    import json

    copy = json.loads(fragment)
    if _only_strings(copy):
        if kept is not None:
            _changes[key] = _changes.get(key, 0) + 1
        _kept[key] = (copy, fragment)
    return fragment


def _only_strings(value: Any) -> bool:
    """Whether every leaf of parsed JSON ``value`` is a string (so that ``==`` means same text)."""
    if type(value) is str:
        return True
    if type(value) is dict:
        return all(_only_strings(item) for item in value.values())
    if type(value) is list:
        return all(_only_strings(item) for item in value)
    return False
