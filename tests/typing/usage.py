"""User code in the styles people write for sentry-sdk 2.x and for the early API.

Never run: ``mypy --strict`` checks it (tests/test_typing.py), so that code type-checked against
sentry-sdk type-checks against this package too.
"""

from __future__ import annotations

import logging

import sentry_sdk
from sentry_sdk import Hub, Scope
from sentry_sdk.envelope import Envelope, Item, PayloadRef
from sentry_sdk.integrations import DidNotEnable, Integration
from sentry_sdk.integrations.logging import LoggingIntegration, ignore_logger
from sentry_sdk.scope import add_global_event_processor, use_isolation_scope, use_scope
from sentry_sdk.transport import HttpTransport, Transport
from sentry_sdk.types import Breadcrumb, BreadcrumbHint, Event, Hint


def before_send(event: Event, hint: Hint) -> Event | None:
    if "exc_info" in hint:
        exc_type, exc_value, tb = hint["exc_info"]
        if isinstance(exc_value, KeyboardInterrupt):
            return None
    event.setdefault("tags", {})["checked"] = "yes"
    return event


def before_breadcrumb(crumb: Breadcrumb, hint: BreadcrumbHint) -> Breadcrumb | None:
    return None if crumb.get("category") == "noise" else crumb


class PrintingTransport(Transport):
    def capture_envelope(self, envelope: Envelope) -> None:
        for item in envelope.items:
            print(item.type, len(item.get_bytes()))


class MyIntegration(Integration):
    identifier = "mine"

    @staticmethod
    def setup_once() -> None:
        if not logging.getLogger().handlers:
            raise DidNotEnable("needs a configured root logger")


def modern() -> None:
    sentry_sdk.init(
        dsn="https://key@o0.ingest.sentry.io/0",
        release="1.0",
        environment="staging",
        sample_rate=0.5,
        max_breadcrumbs=50,
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
        ignore_errors=[KeyError, "myapp.Boring"],
        integrations=[LoggingIntegration(level=logging.INFO, event_level=logging.ERROR)],
        transport=PrintingTransport,
    )
    ignore_logger("noisy")
    sentry_sdk.set_tag("page", "home")
    sentry_sdk.set_tags({"a": 1, "b": "two"})
    sentry_sdk.set_user({"id": "42", "email": "jane@example.com"})
    sentry_sdk.set_context("order", {"id": 5})
    sentry_sdk.set_extra("cart", [1, 2])
    sentry_sdk.set_level("warning")
    sentry_sdk.add_breadcrumb(category="auth", message="logged in", level="info")
    sentry_sdk.add_attachment(bytes=b"x", filename="x.txt")
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("in", "block")
        event_id: str | None = sentry_sdk.capture_message("hi", level="info")
    with sentry_sdk.isolation_scope() as isolation:
        isolation.set_user(None)
        try:
            _ = 1 / 0
        except ZeroDivisionError as exc:
            sentry_sdk.capture_exception(exc, tags={"kw": "yes"}, level="fatal")
    current: Scope = sentry_sdk.get_current_scope()
    forked = current.fork()
    forked.update_from_kwargs(tags={"x": "y"}, fingerprint=["f"])
    with use_scope(forked), use_isolation_scope(sentry_sdk.get_isolation_scope().fork()):
        sentry_sdk.capture_event({"message": "raw"}, hint={"note": 1})
    sentry_sdk.get_global_scope().set_tag("service", "api")
    client = sentry_sdk.get_client()
    if client.is_active() and sentry_sdk.is_initialized():
        sentry_sdk.flush(timeout=2.0)
    last: str | None = sentry_sdk.last_event_id()
    print(event_id, last, HttpTransport, Item, PayloadRef)


def early() -> None:
    sentry_sdk.init("https://key@o0.ingest.sentry.io/0", with_locals=False)
    hub: Hub = sentry_sdk.get_current_hub()
    with hub.push_scope() as scope:
        scope.user = {"id": 1}
        scope.level = "error"
        scope.set_extra("debug", True)
        hub.capture_message("early")

    @sentry_sdk.configure_scope
    def _(scope: Scope) -> None:
        scope.set_tag("configured", "yes")

    with sentry_sdk.configure_scope() as scope:
        scope.fingerprint = ["{{ default }}", "custom"]

    @sentry_sdk.push_scope
    def _pushed(scope: Scope) -> None:
        scope.set_tag("pushed", "yes")

    sentry_sdk.add_breadcrumb(lambda: {"message": "computed lazily"})

    def processor(event: Event, hint: Hint) -> Event | None:
        return event

    add_global_event_processor(processor)
    with Hub(Hub.current) as clone:
        clone.capture_exception(ValueError("x"))
    Hub.main.flush()
