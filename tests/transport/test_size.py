"""Size: events over the server's limit are cut to fit, and a 413 gets one smaller retry."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import sentry_sdk
from sentry_sdk.consts import MAX_EVENT_BYTES
from sentry_sdk.envelope import Envelope, Item, PayloadRef
from sentry_sdk.testing import IngestServer


def _fail_with_big_locals() -> None:
    blobs = ["x" * 400_000 for _ in range(3)]  # noqa: F841 - 1.2 MB of locals
    numbers = list(range(50))  # noqa: F841
    raise ValueError("with big locals")


def _capture_big_event() -> None:
    for i in range(30):
        sentry_sdk.add_breadcrumb(message=f"step {i}", category="work")
    try:
        _fail_with_big_locals()
    except ValueError:
        sentry_sdk.capture_exception()


def test_an_event_over_the_limit_is_cut_before_it_is_sent(ingest: IngestServer) -> None:
    """Local variables go first (marked in _meta); type, frames and breadcrumbs stay."""
    sentry_sdk.init(dsn=ingest.dsn, default_integrations=False)
    _capture_big_event()
    sentry_sdk.flush(timeout=10)
    (event,) = ingest.events()
    (request,) = ingest.requests
    frames = event["exception"]["values"][0]["stacktrace"]["frames"]
    assert ("ValueError", "_fail_with_big_locals") == (
        event["exception"]["values"][0]["type"],
        frames[-1]["function"],
    )
    assert all("vars" not in frame for frame in frames)
    meta_frames = event["_meta"]["exception"]["values"]["0"]["stacktrace"]["frames"]
    assert {"rem": [["!limit", "x"]]} == meta_frames[str(len(frames) - 1)]["vars"][""]
    assert 30 == len(event["breadcrumbs"]["values"])
    assert 200 == request.status


def test_a_413_is_answered_with_the_event_cut_down_once(ingest: IngestServer) -> None:
    """The server's 413 gets one more try without locals, breadcrumbs and long strings."""
    ingest.script((413, {}))
    sentry_sdk.init(dsn=ingest.dsn, default_integrations=False)
    sentry_sdk.add_breadcrumb(message="m" * 5000)
    try:
        local = "y" * 5000  # noqa: F841
        raise KeyError("k" * 3000)
    except KeyError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=10)
    assert [413, 200] == [r.status for r in ingest.requests]
    first, second = (r.envelope.items[0].json() for r in ingest.requests if r.envelope)
    assert "vars" in first["exception"]["values"][0]["stacktrace"]["frames"][0]
    frame = second["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert "vars" not in frame
    assert [] == second["breadcrumbs"]["values"]
    assert second["exception"]["values"][0]["value"].endswith("...")
    assert 3002 == second["_meta"]["exception"]["values"]["0"]["value"][""]["len"]


def test_a_second_413_drops_the_event_and_counts_it(ingest: IngestServer) -> None:
    """Only one smaller retry: then the loss is counted as send_error."""
    ingest.script((413, {}), (413, {}))
    sentry_sdk.init(dsn=ingest.dsn, default_integrations=False, send_client_reports=False)
    sentry_sdk.capture_message("too big twice")
    sentry_sdk.flush(timeout=10)
    assert [413, 413] == [r.status for r in ingest.requests]
    transport = sentry_sdk.Hub.current.client.transport  # type: ignore[union-attr]
    assert 1 == transport.lost_events[("send_error", "error")]  # type: ignore[union-attr]


def test_envelopes_read_back_from_their_bytes() -> None:
    """``Envelope.deserialize`` reverses ``serialize``: headers, item headers and payloads."""
    envelope = Envelope(headers={"event_id": "a" * 32})
    envelope.add_event({"message": "hi"})
    envelope.add_item(Item(PayloadRef(bytes=b"\n raw \n"), type="attachment", filename="a.bin"))
    again = Envelope.deserialize(envelope.serialize())
    assert {"event_id": "a" * 32} == again.headers
    assert {"message": "hi"} == again.get_event()
    assert (b"\n raw \n", "a.bin") == (again.items[1].get_bytes(), again.items[1].headers["filename"])
    assert envelope.serialize() == again.serialize()


def _deep_module(tmp_path: Path) -> Any:
    """A module whose recursive function sits among 1000-character lines of source context."""
    pad = "# " + "s" * 998
    source = "\n".join(
        [pad] * 6 + ["def dive(n):", "    if n == 0:", "        raise RecursionError('bottom')"]
    )
    source += "\n    dive(n - 1)\n" + "\n".join([pad] * 6) + "\n"
    path = tmp_path / "deep_module.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("deep_module", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_a_deep_stack_too_big_for_the_server_keeps_its_ends(ingest: IngestServer, tmp_path: Path) -> None:
    """Past locals, breadcrumbs and long strings, the middle frames of a deep stack go: the
    outermost and innermost frames arrive, with frames_omitted and a _meta note saying what went."""
    module = _deep_module(tmp_path)
    sentry_sdk.init(dsn=ingest.dsn, default_integrations=False, max_stack_frames=2000)
    try:
        module.dive(600)
    except RecursionError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=10)
    (event,) = ingest.events()
    (request,) = ingest.requests
    stacktrace = event["exception"]["values"][0]["stacktrace"]
    frames = stacktrace["frames"]
    total = 602  # this test's frame, then dive(600) down to dive(0)
    assert (200, 20, [10, total - 10]) == (request.status, len(frames), stacktrace["frames_omitted"])
    assert ("test_a_deep_stack_too_big_for_the_server_keeps_its_ends", "dive") == (
        frames[0]["function"],
        frames[-1]["function"],
    )
    assert "raise RecursionError" in frames[-1]["context_line"]
    assert total == event["_meta"]["exception"]["values"]["0"]["stacktrace"]["frames"][""]["len"]
    assert len(json.dumps(event, separators=(",", ":")).encode()) <= MAX_EVENT_BYTES
