"""Cutting an oversized event: what goes first, and how the cut is recorded."""

from __future__ import annotations

import json
from typing import Any

from sentry_sdk._trim import trim_event


def _size(event: dict[str, Any]) -> int:
    return len(json.dumps(event).encode())


def _frames(numbers: list[int]) -> list[dict[str, Any]]:
    return [{"function": f"f{n}", "context_line": "x" * 500} for n in numbers]


def test_an_event_that_fits_is_left_alone() -> None:
    """Nothing is cut, and no _meta is added, when the event is within the limit."""
    event = {"exception": {"values": [{"stacktrace": {"frames": _frames(list(range(50)))}}]}}
    before = json.dumps(event)
    assert (True, before) == (trim_event(event, _size, 10**6), json.dumps(event))


def test_middle_frames_go_last_and_the_gap_is_numbered_in_the_original_stack() -> None:
    """A stack already cut by max_stack_frames (frames 50..949 of 1000 omitted) keeps its ten
    outermost and ten innermost frames; frames_omitted covers both cuts in the original numbering."""
    kept = list(range(50)) + list(range(950, 1000))
    stacktrace = {"frames": _frames(kept), "frames_omitted": [50, 950]}
    event: dict[str, Any] = {"exception": {"values": [{"type": "E", "stacktrace": stacktrace}]}}
    assert trim_event(event, _size, 20_000)
    frames = event["exception"]["values"][0]["stacktrace"]["frames"]
    assert (
        [f"f{n}" for n in [*range(10), *range(990, 1000)]],
        [10, 990],
        {"len": 100, "rem": [["!limit", "x"]]},
    ) == (
        [frame["function"] for frame in frames],
        event["exception"]["values"][0]["stacktrace"]["frames_omitted"],
        event["_meta"]["exception"]["values"]["0"]["stacktrace"]["frames"][""],
    )


def test_frames_stay_when_dropping_locals_is_enough() -> None:
    """Locals go before frames: an event made small enough by that keeps all its frames."""
    frames = _frames(list(range(30)))
    for frame in frames:
        frame["vars"] = {"blob": "v" * 5000}
    event: dict[str, Any] = {"exception": {"values": [{"stacktrace": {"frames": frames}}]}}
    assert trim_event(event, _size, 20_000)
    kept = event["exception"]["values"][0]["stacktrace"]
    assert (30, False, "frames_omitted" in kept) == (
        len(kept["frames"]),
        any("vars" in f for f in kept["frames"]),
        False,
    )
