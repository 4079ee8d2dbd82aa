"""The trace headers' formats: ``sentry-trace`` and the W3C ``baggage`` carrying Sentry's entries.

Pure functions. Incoming values come from other programs, so nothing here raises: a malformed
header reads as no header, a malformed baggage member as no member.
"""

from __future__ import annotations

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

__all__ = [
    "BAGGAGE_HEADER",
    "SENTRY_TRACE_HEADER",
    "format_baggage",
    "format_sample_rand",
    "format_sentry_trace",
    "parse_baggage",
    "parse_sentry_trace",
    "parse_unit_float",
]

SENTRY_TRACE_HEADER = "sentry-trace"
BAGGAGE_HEADER = "baggage"

_HEX = frozenset("0123456789abcdef")
_TRACE_ID_LENGTH = 32
_SPAN_ID_LENGTH = 16
# A valid value is 51 characters; anything far longer is not worth looking at.
_MAX_TRACE_HEADER = 200
# W3C baggage limits: what lies past them is ignored.
_MAX_BAGGAGE_BYTES = 8192
_MAX_BAGGAGE_MEMBERS = 180
_SENTRY_PREFIX = "sentry-"
# sample_rand has six decimals: it is an integer count of millionths.
_MICROS = 1_000_000


def _text(value: object) -> str | None:
    """``value`` as a str when it is a str or ASCII bytes, else None."""
    if isinstance(value, bytes):
        try:
            return value.decode("ascii")
        except UnicodeDecodeError:
            return None
    return value if isinstance(value, str) else None


def _is_id(value: str, length: int) -> bool:
    # An all-zero id is W3C's "invalid" id: continuing it would merge unrelated traces.
    return len(value) == length and _HEX.issuperset(value) and value.strip("0") != ""


def parse_sentry_trace(value: object) -> tuple[str, str, bool | None] | None:
    """``(trace_id, parent_span_id, sampled)`` of a ``sentry-trace`` value, or None if malformed."""
    text = _text(value)
    if text is None or len(text) > _MAX_TRACE_HEADER or not text.isascii():
        return None
    parts = text.strip(" \t").lower().split("-")
    if len(parts) not in (2, 3):
        return None
    trace_id, span_id = parts[0], parts[1]
    if not _is_id(trace_id, _TRACE_ID_LENGTH) or not _is_id(span_id, _SPAN_ID_LENGTH):
        return None
    if len(parts) == 2:
        return trace_id, span_id, None
    flag = parts[2]
    if flag not in ("0", "1"):
        return None
    return trace_id, span_id, flag == "1"


def format_sentry_trace(trace_id: str, span_id: str, sampled: bool | None) -> str:
    """The ``sentry-trace`` value; the sampled flag is left out while the decision is deferred."""
    if sampled is None:
        return f"{trace_id}-{span_id}"
    return f"{trace_id}-{span_id}-{'1' if sampled else '0'}"


def _header_values(values: object) -> Iterator[str]:
    """The text of each baggage header in ``values`` (one header or several); never raises."""
    text = _text(values)
    if text is not None:
        yield text
        return
    # A mapping or a number is not a list of headers; iterating a mapping would yield its keys.
    if values is None or isinstance(values, (int, float, dict)):
        return
    try:
        iterator = iter(values)  # type: ignore[call-overload]
        for item in iterator:
            item_text = _text(item)
            if item_text is not None:
                yield item_text
    except Exception:
        return


def _members(values: object) -> Iterator[str]:
    """The list-members of all headers, stripped, within W3C's byte and member limits."""
    used = 0
    count = 0
    for header in _header_values(values):
        for member in header.split(","):
            # Counted before stripping: the limit is on what came over the wire.
            used += len(member.encode("utf-8", "replace")) + 1
            if used - 1 > _MAX_BAGGAGE_BYTES:
                return
            member = member.strip()
            if not member:
                continue
            count += 1
            if count > _MAX_BAGGAGE_MEMBERS:
                return
            yield member


def _sentry_value(raw: str) -> str:
    from urllib.parse import unquote

    # Properties (";k=v") are not part of Sentry's values.
    return unquote(raw.split(";", 1)[0].strip())


def parse_baggage(values: object) -> tuple[dict[str, str], str]:
    """Sentry's entries (keys without ``sentry-``, values decoded) and the third-party rest as given."""
    sentry: dict[str, str] = {}
    others: list[str] = []
    try:
        for member in _members(values):
            if "=" not in member or not member.isascii():
                continue
            key = member.partition("=")[0].strip()
            if not key:
                continue
            if key.startswith(_SENTRY_PREFIX):
                name = key[len(_SENTRY_PREFIX) :]
                if name:
                    sentry[name] = _sentry_value(member.partition("=")[2])
            else:
                others.append(member)
    except Exception:
        # Only a str subclass with hostile methods gets here; it reads as no baggage.
        return {}, ""
    return sentry, ",".join(others)


def _baggage_text(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    try:
        return str(value)
    except Exception:
        return None


def format_baggage(sentry: Mapping[str, object], third_party: str = "") -> str:
    """A ``baggage`` value: Sentry's entries (percent-encoded) followed by the third-party ones."""
    from urllib.parse import quote

    members = []
    for key, value in sentry.items():
        text = None if value is None else _baggage_text(value)
        if text is not None:
            members.append(f"{_SENTRY_PREFIX}{key}={quote(text, safe='')}")
    rest = third_party.strip(" \t,") if isinstance(third_party, str) else ""
    if rest:
        members.append(rest)
    return ",".join(members)


def parse_unit_float(value: object) -> float | None:
    """A number in [0, 1] from a baggage value such as ``"0.25"``, or None."""
    text = _text(value)
    if text is None:
        return None
    try:
        number = float(text)
    except (ValueError, OverflowError):
        return None
    return number if 0.0 <= number <= 1.0 else None  # nan fails both comparisons


def format_sample_rand(value: float) -> str:
    """Six decimals, truncated, so that a value just under 1 never reads as 1."""
    try:
        # The tolerance absorbs float error: 0.57 times a million may come out as 569999.99999...
        micros = int(value * _MICROS + 1e-6)
    except (TypeError, ValueError, OverflowError):
        micros = 0
    micros = min(max(micros, 0), _MICROS - 1)
    return f"0.{micros:06d}"
