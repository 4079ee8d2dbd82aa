"""Private by default: an event built from a realistic request keeps its secrets at home."""

from __future__ import annotations

import sentry_sdk
from sentry_sdk.testing import IngestServer

SECRETS = [
    "hunter2-Pa55word",  # form field "password"
    "sessionid-8f3a9c2e71d4",  # cookie
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtMTIzNDU2",  # bearer JWT
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc",  # API key in a query string and a local
    "AKIAIOSFODNN7EXAMPLE",  # in the exception message
    "ghp_R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3s12",  # in a breadcrumb (36 characters after ghp_)
    "203.0.113.77",  # the client's IP address (PII)
]


def test_a_realistic_request_event_sends_no_secret_and_stays_useful(ingest: IngestServer) -> None:
    """Headers, cookies, body, query, locals, message and breadcrumbs with secrets, PII off."""
    sentry_sdk.init(dsn=ingest.dsn)
    sentry_sdk.add_breadcrumb(category="http", message=f"GET https://api.github.com/user token {SECRETS[5]}")

    def add_request(event: dict, hint: dict) -> dict:
        event["request"] = {
            "method": "POST",
            "url": "https://shop.example.com/checkout",
            "query_string": {"api_key": SECRETS[3], "page": "2"},
            "headers": {
                "Authorization": f"Bearer {SECRETS[2]}",
                "Cookie": f"sessionid={SECRETS[1]}",
                "X-Forwarded-For": SECRETS[6],
                "User-Agent": "Mozilla/5.0",
            },
            "cookies": {"sessionid": SECRETS[1], "theme": "dark"},
            "data": {"username": "jane", "password": SECRETS[0], "items": [1, 2]},
            "env": {"REMOTE_ADDR": SECRETS[6]},
        }
        return event

    with sentry_sdk.new_scope() as scope:
        scope.add_event_processor(add_request)
        try:
            password = SECRETS[0]  # noqa: F841 - locals the SDK collects
            stripe_key = SECRETS[3]  # noqa: F841
            cart_total = 42
            raise PermissionError(f"S3 refused key {SECRETS[4]} for cart {cart_total}")
        except PermissionError:
            sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=5)

    (request,) = ingest.requests
    assert request.envelope is not None
    raw = b"".join(item.payload for item in request.envelope.items).decode()
    leaked = [secret for secret in SECRETS if secret in raw]
    assert [] == leaked

    (event,) = ingest.events()
    exception = event["exception"]["values"][0]
    assert ("PermissionError", "S3 refused key [Filtered] for cart 42") == (
        exception["type"],
        exception["value"],
    )
    frame = exception["stacktrace"]["frames"][-1]
    assert frame["function"] == "test_a_realistic_request_event_sends_no_secret_and_stays_useful"
    assert ("[Filtered]", "[Filtered]", 42) == (
        frame["vars"]["password"],
        frame["vars"]["stripe_key"],
        frame["vars"]["cart_total"],
    )
    assert ("POST", "jane", [1, 2], "dark", "Mozilla/5.0") == (
        event["request"]["method"],
        event["request"]["data"]["username"],
        event["request"]["data"]["items"],
        event["request"]["cookies"]["theme"],
        event["request"]["headers"]["User-Agent"],
    )
    assert "2" == event["request"]["query_string"]["page"]
    assert ["http"] == [c["category"] for c in event["breadcrumbs"]["values"]]
