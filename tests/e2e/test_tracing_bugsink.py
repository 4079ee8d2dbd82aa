"""End to end: a transaction and an error of the same trace, sent to a live Bugsink.

Bugsink accepts transactions (200) without storing them, and answers every envelope with a
rate limit on transactions for a day (see its notes): so each test runs in a fresh interpreter
whose first envelope is the transaction. What Bugsink received is read back from its raw
envelope table; the autouse fixture of this directory runs every raw body through Relay's checks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bugsink_server import BugsinkServer

from sentry_sdk.testing import parse_envelope


def _received(bugsink: BugsinkServer, after: int, kind: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    found = []
    for _, body in bugsink.raw_envelopes(after):
        envelope = parse_envelope(body)
        for item in envelope.items:
            if item.headers.get("type") == kind:
                found.append((envelope.headers, item.json()))
    return found


def test_a_transaction_with_spans_is_accepted_and_the_next_error_is_stored_in_its_trace(
    bugsink: BugsinkServer, run_script: Callable[[str], Any]
) -> None:
    seen = max((i for i, _ in bugsink.raw_envelopes()), default=0)
    result = run_script(
        "import json, sentry_sdk\n"
        f"sentry_sdk.init(dsn={bugsink.dsn!r}, traces_sample_rate=1.0, release='shop@2')\n"
        "with sentry_sdk.start_transaction(name='nightly-report', op='task') as transaction:\n"
        "    with sentry_sdk.start_span(op='db', name='SELECT * FROM orders') as span:\n"
        "        span.set_data('db.system', 'sqlite')\n"
        "    with sentry_sdk.start_span(op='render', name='pdf'):\n"
        "        pass\n"
        "sentry_sdk.flush(timeout=10)\n"
        "with sentry_sdk.start_transaction(name='after', op='task') as after:\n"
        "    sentry_sdk.capture_message('report done, with warnings', level='warning')\n"
        "sentry_sdk.flush(timeout=10)\n"
        "print(json.dumps([transaction.trace_id, after.trace_id]))\n"
    )
    assert 0 == result.returncode, result.stderr
    trace_id, after_trace_id = json.loads(result.stdout)
    transactions = _received(bugsink, seen, "transaction")
    header, transaction = next((h, t) for h, t in transactions if t["transaction"] == "nightly-report")
    assert ("task", trace_id) == (
        transaction["contexts"]["trace"]["op"],
        transaction["contexts"]["trace"]["trace_id"],
    )
    assert [("db", "SELECT * FROM orders"), ("render", "pdf")] == [
        (s["op"], s["description"]) for s in transaction["spans"]
    ]
    assert (trace_id, "shop@2", "true") == (
        header["trace"]["trace_id"],
        header["trace"]["release"],
        header["trace"]["sampled"],
    )
    # The message was captured inside the second transaction: stored, in that transaction's trace.
    (event,) = [e for e in bugsink.events() if e.get("message") == "report done, with warnings"]
    assert after_trace_id == event["contexts"]["trace"]["trace_id"]
    # Bugsink's first answer limits transactions for a day: the second one is not sent (and counted).
    assert "after" not in [t["transaction"] for _, t in transactions]
