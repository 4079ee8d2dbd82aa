"""The demo: a loopback ingest server, the SDK pointed at it, and what the server received."""

from __future__ import annotations

import logging
import sys

import sentry_sdk

from ._ingest import IngestServer, describe_event


def _checkout(cart: dict[str, int]) -> float:
    total = sum(cart.values())
    discount = 100 / (total - total)  # the bug the demo reports: ZeroDivisionError
    return total - discount


def run() -> int:
    """Run the demo; returns the process exit status."""
    with IngestServer() as server:
        print(f"ingest server listening on {server.url}; DSN {server.dsn}\n")
        sentry_sdk.init(dsn=server.dsn, release="demo@1.0", environment="demo")

        with sentry_sdk.push_scope() as scope:
            scope.set_tag("feature", "checkout")
            scope.user = {"id": 42, "username": "ada"}
            sentry_sdk.add_breadcrumb(category="cart", message="added 2 books", level="info")
            sentry_sdk.add_breadcrumb(lambda: {"category": "cart", "message": "opened checkout"})
            try:
                _checkout({"books": 2})
            except ZeroDivisionError:
                sentry_sdk.capture_exception()

        sentry_sdk.capture_message("The demo says hello", level="warning")
        logging.getLogger("demo.payments").error("card declined for order %s", 1234)

        sentry_sdk.flush(timeout=5)
        events = server.wait_for_events(3, timeout=10)
        for number, event in enumerate(events, 1):
            print(f"--- event {number} of {len(events)} as the server received it ---")
            print(describe_event(event))
            print()
    return 0


if __name__ == "__main__":
    sys.exit(run())
