"""The skeleton of an event, as the serializer walks it: which fields hold the SDK's own data,
which hold the program's (databags), and which hold text to search for secrets.

A rule is ``None`` (generic, strings shortened), ``KEEP`` (generic, strings kept whole), ``BAG`` (a
databag starts here), ``SCAN`` (generic, strings searched for secrets), a nested ``Shape``, or an
``Each`` for a list of them.
"""

from __future__ import annotations

from ._conform import EVENT_KEYS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Union

    Rule = Union[str, "Shape", "Each", None]

__all__ = ["BAG", "EVENT", "KEEP", "SCAN", "Each", "Shape"]


class Shape:
    """How to walk a mapping the SDK builds: a rule per known key, ``other`` for the rest.

    ``kept`` marks data the scope keeps from one
    event to the next (breadcrumbs, extras, contexts, tags): the secret finder remembers which of
    its strings it found clean, where remembering the others would only cost time.
    """

    __slots__ = ("rules", "other", "kept")

    def __init__(self, rules: dict[str, Rule], other: Rule = None, kept: bool = False) -> None:
        self.rules = rules
        self.other = other
        self.kept = kept


class Each:
    """A list whose items are all walked with ``shape``."""

    __slots__ = ("shape",)

    def __init__(self, shape: Shape) -> None:
        self.shape = shape


KEEP = "keep"
BAG = "bag"
# Text a person wrote or a program formatted outside the databags (messages, exception values):
# walked as usual, with its strings searched for secrets.
SCAN = "scan"

_FRAME = Shape(
    {
        "filename": KEEP,
        "abs_path": KEEP,
        "module": KEEP,
        "function": KEEP,
        "lineno": KEEP,
        "colno": KEEP,
        "in_app": KEEP,
        "vars": BAG,
    }
)
_STACKTRACE = Shape({"frames": Each(_FRAME)})
_EXCEPTION = Shape(
    {"type": KEEP, "value": SCAN, "module": KEEP, "mechanism": KEEP, "stacktrace": _STACKTRACE}
)
_THREAD = Shape({"stacktrace": _STACKTRACE})
_CRUMB = Shape({"timestamp": KEEP, "type": KEEP, "level": KEEP, "message": SCAN, "data": BAG}, kept=True)
_BAG_VALUES = Shape({}, other=BAG, kept=True)
# Trace and span ids are random hex: a run of digits in one can pass for a card number, and a
# "filtered" id would break the link between services. They are kept as they are.
_TRACE_IDS: dict[str, Rule] = dict.fromkeys(("trace_id", "span_id", "parent_span_id"), KEEP)
_CONTEXTS = Shape({"trace": Shape(_TRACE_IDS, other=BAG, kept=True)}, other=BAG, kept=True)
# A transaction's spans: built by the SDK (kept whole), except what describes the program's work
# (a query, a URL, data set by the program), which is searched for secrets without databag cuts.
_SPAN = Shape(
    {
        **_TRACE_IDS,
        "op": KEEP,
        "status": KEEP,
        "origin": KEEP,
        "start_timestamp": KEEP,
        "timestamp": KEEP,
        "same_process_as_parent": KEEP,
        "description": SCAN,
        "data": SCAN,
        "tags": SCAN,
    },
    other=SCAN,
)
EVENT = Shape(
    {
        # The fields Sentry knows that have no rule below are walked as they are, without
        # databag limits.
        **dict.fromkeys(EVENT_KEYS),
        "event_id": KEEP,
        "timestamp": KEEP,
        "start_timestamp": KEEP,
        "level": KEEP,
        "platform": KEEP,
        "type": KEEP,
        "release": KEEP,
        "dist": KEEP,
        "environment": KEEP,
        "server_name": KEEP,
        "sdk": KEEP,
        "_meta": KEEP,
        "message": SCAN,
        "logentry": Shape({"message": SCAN, "formatted": SCAN, "params": SCAN}),
        "exception": Shape({"values": Each(_EXCEPTION)}),
        "threads": Shape({"values": Each(_THREAD)}),
        "breadcrumbs": Shape({"values": Each(_CRUMB)}),
        "extra": _BAG_VALUES,
        "contexts": _CONTEXTS,
        "tags": _BAG_VALUES,
        "user": BAG,
        "spans": Each(_SPAN),
        "measurements": KEEP,
        "transaction_info": KEEP,
        "request": Shape({"data": BAG, "cookies": BAG, "headers": BAG}),
    },
    # A field Sentry does not know is the program's data, moved into extra (see _conform).
    other=BAG,
)
