"""Sentry's own Python error-monitoring examples run as written, and what they promise reaches a server.

Every snippet here is quoted verbatim from a page of docs.sentry.io/platforms/python/ (the page is
named in the comment above it; where a page changed, each revision users may have copied is kept).
The text is never edited. A snippet that uses names it does not define (``user``, ``session``, an
exception class) gets them in its namespace; a ``sentry_sdk.init(...)`` in a snippet, whose DSN the
docs leave as ``# ...`` or a placeholder, is pointed at the local ingest server by wrapping ``init``.
The events, attachments and breadcrumbs are then read back from that real loopback server.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import linecache
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import sentry_sdk
import sentry_sdk.integrations.logging as sentry_logging
import sentry_sdk.scope
from sentry_sdk.testing import IngestServer
from sentry_sdk.types import Event, Hint

# Some examples annotate with ``X | None``, which Python 3.9 cannot evaluate when it defines a function.
needs_py310 = pytest.mark.skipif(
    sys.version_info < (3, 10), reason="the docs' example uses an X | None annotation (Python 3.10+)"
)


def run(code: str, name: str, **names: Any) -> dict[str, Any]:
    """Execute a docs snippet unchanged, with ``names`` predefined; return its namespace."""
    filename = f"<docs example {name}>"
    # Frames of the snippet get their source lines, as they would in a file of their own.
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": f"docs_{name.replace('-', '_')}", **names}
    # dont_inherit: the snippet runs without this module's ``from __future__ import annotations``,
    # so its annotations are evaluated when its functions are defined, as in a user's own file.
    exec(compile(code, filename, "exec", dont_inherit=True), namespace)
    return namespace


def sent(server: IngestServer, count: int) -> list[dict[str, Any]]:
    """Flush, then return exactly the ``count`` events the server received."""
    sentry_sdk.flush(timeout=5)
    events = server.wait_for_events(count)
    assert count == len(server.events())
    return events


def crumbs(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The breadcrumbs that arrived with ``event``, oldest first."""
    return list((event.get("breadcrumbs") or {}).get("values") or [])


def frame_vars(event: dict[str, Any], function: str) -> dict[str, Any]:
    """The local variables sent for the frame of ``function`` in the event's (last) exception."""
    frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
    (frame,) = (f for f in frames if f.get("function") == function)
    return dict(frame["vars"])


@pytest.fixture
def server(ingest: IngestServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[IngestServer]:
    """The ingest server, with every ``sentry_sdk.init`` a snippet makes pointed at it.

    The docs write ``# ...``, ``...`` or a placeholder DSN where the reader's own DSN goes; the
    wrapper supplies this server's DSN in its place and passes every other option through.
    """
    real_init = sentry_sdk.init

    def init(*_dsn: Any, **options: Any) -> Any:
        options["dsn"] = ingest.dsn
        return real_init(**options)

    monkeypatch.setattr(sentry_sdk, "init", init)
    # ignore_logger holds for the whole process: undone after the test.
    monkeypatch.setattr(sentry_logging, "_ignored_loggers", set(sentry_logging._ignored_loggers))
    # So does add_global_event_processor: the snippets' processors are removed afterwards, while
    # those of integrations (set up once per process, maybe during this test) stay.
    processors = sentry_sdk.scope._global_event_processors
    before = list(processors)
    yield ingest
    processors[:] = [
        p for p in processors if p in before or str(getattr(p, "__module__", "")).startswith("sentry_sdk.")
    ]


@pytest.fixture
def docs_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, bytes], None]:
    """Make a placeholder path from the docs (``/path/to/attachment/file.txt``) readable.

    ``docs_files(path, content)`` makes opening exactly ``path`` open a temporary file holding
    ``content``, for the duration of the test; every other path opens as usual.
    """
    stand_ins: dict[Any, str] = {}
    real_open = builtins.open

    def open_(file: Any, *args: Any, **kwargs: Any) -> Any:
        return real_open(stand_ins.get(file, file), *args, **kwargs)

    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)

    def add(path: str, content: bytes) -> None:
        stand_in = tmp_path / f"stand-in-{len(stand_ins)}"
        stand_in.write_bytes(content)
        stand_ins[path] = str(stand_in)

    return add


@contextmanager
def fresh_root_logger() -> Iterator[logging.Logger]:
    """The root logger as a fresh process has it (no handlers, level WARNING), restored afterwards.

    Used inside the test body: pytest adds its own handlers to the root logger for the call.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers[:] = []
    root.setLevel(logging.WARNING)
    try:
        yield root
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)


@contextmanager
def root_logger_at(level: int) -> Iterator[None]:
    """Set the root logger's level for the block, as a program configuring logging would."""
    root = logging.getLogger()
    previous = root.level
    root.setLevel(level)
    try:
        yield
    finally:
        root.setLevel(previous)


# ---------------------------------------------------------------------------------------------
# https://docs.sentry.io/platforms/python/enriching-events/tags/

# https://docs.sentry.io/platforms/python/enriching-events/tags/ ("Tags can be set with ... `set_tag`")
SET_TAG = """\
import sentry_sdk

sentry_sdk.set_tag("page.locale", "de-at")
"""

# https://docs.sentry.io/platforms/python/enriching-events/tags/ (multiple tags, as the include shows it)
SET_TAGS = """\
import sentry_sdk

sentry_sdk.set_tags({"page.locale": "de-at", "page.type": "article"})
"""

# https://docs.sentry.io/platforms/python/enriching-events/tags/ (multiple tags, as the page body shows it)
SET_TAGS_FROM_IMPORT = """\
from sentry_sdk import set_tags

set_tags({"page.locale": "de-at", "page.type": "article"})
"""


def test_tags_set_tag(server: IngestServer) -> None:
    """Tags page: after ``set_tag("page.locale", "de-at")`` every event carries that tag."""
    sentry_sdk.init(dsn=server.dsn)
    run(SET_TAG, "tags-set-tag")
    sentry_sdk.capture_message("a page failed")
    (event,) = sent(server, 1)
    assert {"page.locale": "de-at"} == event["tags"]


@pytest.mark.parametrize("code", [SET_TAGS, SET_TAGS_FROM_IMPORT], ids=["sentry_sdk.set_tags", "from-import"])
def test_tags_set_tags(server: IngestServer, code: str) -> None:
    """Tags page: ``set_tags({...})`` sets several tags at once, and all of them arrive."""
    sentry_sdk.init(dsn=server.dsn)
    run(code, "tags-set-tags")
    sentry_sdk.capture_message("a page failed")
    (event,) = sent(server, 1)
    assert {"page.locale": "de-at", "page.type": "article"} == event["tags"]


# ---------------------------------------------------------------------------------------------
# https://docs.sentry.io/platforms/python/enriching-events/context/
SET_CONTEXT = """\
import sentry_sdk

sentry_sdk.set_context("character", {
    "name": "Mighty Fighter",
    "age": 19,
    "attack_type": "melee"
})
"""


def test_context_set_context(server: IngestServer) -> None:
    """Context page: a structured context set by name arrives whole under ``contexts``."""
    sentry_sdk.init(dsn=server.dsn)
    run(SET_CONTEXT, "context-set-context")
    sentry_sdk.capture_message("the fight went wrong")
    (event,) = sent(server, 1)
    expected = {"name": "Mighty Fighter", "age": 19, "attack_type": "melee"}
    assert expected == event["contexts"]["character"]


# ---------------------------------------------------------------------------------------------
# https://docs.sentry.io/platforms/python/enriching-events/identify-user/ ("To identify the user")
SET_USER = """\
from sentry_sdk import set_user

set_user({"email": "jane.doe@example.com"})
"""

# https://docs.sentry.io/platforms/python/enriching-events/identify-user/ ("clear the currently set user";
# the same snippet is on https://docs.sentry.io/platforms/python/enriching-events/scopes/ for logout)
UNSET_USER = """\
import sentry_sdk

sentry_sdk.set_user(None)
"""


def test_identify_user(server: IngestServer) -> None:
    """Users page: the user set with ``set_user`` is the event's user, exactly as given."""
    sentry_sdk.init(dsn=server.dsn)
    run(SET_USER, "identify-user")
    sentry_sdk.capture_message("checkout failed")
    (event,) = sent(server, 1)
    assert {"email": "jane.doe@example.com"} == event["user"]


def test_unset_user(server: IngestServer) -> None:
    """Users page: after ``set_user(None)`` (at logout) events carry no user any more."""
    sentry_sdk.init(dsn=server.dsn)
    run(SET_USER, "identify-user")
    sentry_sdk.capture_message("while logged in")
    run(UNSET_USER, "unset-user")
    sentry_sdk.capture_message("after logout")
    logged_in, logged_out = sent(server, 2)
    assert {"email": "jane.doe@example.com"} == logged_in["user"]
    assert "user" not in logged_out


# ---------------------------------------------------------------------------------------------
# https://docs.sentry.io/platforms/python/enriching-events/breadcrumbs/ ("Manually record a breadcrumb")
ADD_BREADCRUMB = """\
import sentry_sdk

sentry_sdk.add_breadcrumb(
    category='auth',
    message='Authenticated user %s' % user.email,
    level='info',
)
"""

# https://docs.sentry.io/platforms/python/enriching-events/breadcrumbs/ ("Customize Breadcrumbs")
BEFORE_BREADCRUMB = """\
import sentry_sdk
from sentry_sdk.types import Breadcrumb, BreadcrumbHint

def before_breadcrumb(crumb: Breadcrumb, hint: BreadcrumbHint) -> Breadcrumb | None:
    if crumb['category'] == 'a.spammy.Logger':
        return None

    return crumb

sentry_sdk.init(
    # ...
    before_breadcrumb=before_breadcrumb,
)
"""

# https://docs.sentry.io/platforms/python/enriching-events/breadcrumbs/ (a revision of the same
# example that annotates ``hint: Hint`` without importing ``Hint``)
BEFORE_BREADCRUMB_HINT_TYPO = """\
import sentry_sdk
from sentry_sdk.types import Breadcrumb, BreadcrumbHint

def before_breadcrumb(crumb: Breadcrumb, hint: Hint) -> Breadcrumb | None:
    if crumb['category'] == 'a.spammy.Logger':
        return None

    return crumb

sentry_sdk.init(
    # ...
    before_breadcrumb=before_breadcrumb,
)
"""


def test_breadcrumbs_manual(server: IngestServer) -> None:
    """Breadcrumbs page: a manual breadcrumb reaches the next event with its category, message, level."""
    sentry_sdk.init(dsn=server.dsn)
    run(ADD_BREADCRUMB, "breadcrumbs-manual", user=SimpleNamespace(email="jane.doe@example.com"))
    sentry_sdk.capture_message("then it failed")
    (event,) = sent(server, 1)
    (crumb,) = crumbs(event)
    assert ("auth", "Authenticated user jane.doe@example.com", "info") == (
        crumb["category"],
        crumb["message"],
        crumb["level"],
    )
    assert "timestamp" in crumb


@needs_py310
@pytest.mark.parametrize(
    "code", [BEFORE_BREADCRUMB, BEFORE_BREADCRUMB_HINT_TYPO], ids=["BreadcrumbHint", "Hint"]
)
def test_breadcrumbs_before_breadcrumb(server: IngestServer, code: str) -> None:
    """Breadcrumbs page: ``before_breadcrumb`` returning None discards a breadcrumb; others are kept.

    Logging records become breadcrumbs whose category is the logger's name, so the docs' filter
    also silences the logger ``a.spammy.Logger``.
    """
    run(code, "breadcrumbs-before-breadcrumb", Hint=Hint)
    sentry_sdk.add_breadcrumb(category="a.spammy.Logger", message="spam")
    logging.getLogger("a.spammy.Logger").warning("more spam")
    sentry_sdk.add_breadcrumb(category="auth", message="logged in")
    logging.getLogger("a.useful.Logger").warning("worth keeping")
    sentry_sdk.capture_message("then it failed")
    (event,) = sent(server, 1)
    assert [("auth", "logged in"), ("a.useful.Logger", "worth keeping")] == [
        (c["category"], c["message"]) for c in crumbs(event)
    ]


# ---------------------------------------------------------------------------------------------
# https://docs.sentry.io/platforms/python/enriching-events/attachments/ (tab "Python (SDK 2.x)")
ADD_ATTACHMENT = """\
# Add an attachment
import sentry_sdk

scope = sentry_sdk.get_current_scope()
scope.add_attachment(bytes=b"Hello World!", filename="attachment.txt")
scope.add_attachment(path="/path/to/attachment/file.txt")
"""

# https://docs.sentry.io/platforms/python/enriching-events/attachments/ (tab "Python (SDK 1.x)")
ADD_ATTACHMENT_1X = """\
# Add an attachment
from sentry_sdk import Scope

# Scope.get_current_scope() or Scope.get_global_scope() can also be used.
# Read about the different scopes on our Scope docs page.
scope = Scope.get_isolation_scope()

# Add attachment titled "attachment.txt" with content "Hello World!"
scope.add_attachment(bytes=b"Hello World!", filename="attachment.txt")

# Attach the file located at /path/to/attachment/file.txt
scope.add_attachment(path="/path/to/attachment/file.txt")

# This attachment will also be sent with transactions
scope.add_attachment(path="/other/attachment.txt", add_to_transactions=True)
"""

# https://docs.sentry.io/platforms/python/enriching-events/attachments/ (an earlier revision)
ADD_ATTACHMENT_CONFIGURE_SCOPE = """\
# Add an attachment
from sentry_sdk import configure_scope

with configure_scope() as scope:
    scope.add_attachment(bytes=b"Hello World!", filename="attachment.txt")
    scope.add_attachment(path="/path/to/attachment/file.txt")
"""


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (ADD_ATTACHMENT, [("attachment.txt", b"Hello World!"), ("file.txt", b"the file's content")]),
        (
            ADD_ATTACHMENT_1X,
            [
                ("attachment.txt", b"Hello World!"),
                ("file.txt", b"the file's content"),
                ("attachment.txt", b"the other file's content"),
            ],
        ),
        (
            ADD_ATTACHMENT_CONFIGURE_SCOPE,
            [("attachment.txt", b"Hello World!"), ("file.txt", b"the file's content")],
        ),
    ],
    ids=["2.x", "1.x", "configure_scope"],
)
def test_attachments(
    server: IngestServer,
    docs_files: Callable[[str, bytes], None],
    code: str,
    expected: list[tuple[str, bytes]],
) -> None:
    """Attachments page: bytes and files added to the scope travel with the next event.

    The bytes arrive under the given filename; a file arrives with its content under its base name.
    """
    docs_files("/path/to/attachment/file.txt", b"the file's content")
    docs_files("/other/attachment.txt", b"the other file's content")
    sentry_sdk.init(dsn=server.dsn)
    run(code, "attachments")
    sentry_sdk.capture_message("look at the attachments")
    (event,) = sent(server, 1)
    (envelope,) = server.envelopes()
    assert event["event_id"] == envelope.headers["event_id"]
    attachments = [i for i in envelope.items if i.headers["type"] == "attachment"]
    assert expected == [(i.headers["filename"], i.payload) for i in attachments]


# ---------------------------------------------------------------------------------------------
# https://docs.sentry.io/platforms/python/enriching-events/scopes/ ("Changing the Scope")
CONFIGURE_SCOPE_NEW_SCOPE = """\
import sentry_sdk

# The following works in SDK >= 2.0. In earlier versions you'd use
# configure_scope() instead of new_scope()
with sentry_sdk.new_scope() as scope:
    scope.set_tag("my-tag", "my value")
    scope.user = {"id": 42, "email": "john.doe@example.com"}

    # reset all scope data
    scope.clear()

# Or:

sentry_sdk.set_tag("my-tag", "my value")
sentry_sdk.set_user({"id": 42, "email": "john.doe@example.com"})
"""

# https://docs.sentry.io/platforms/python/enriching-events/scopes/ (an earlier revision)
CONFIGURE_SCOPE_CURRENT = """\
import sentry_sdk
from sentry_sdk.scope import Scope

scope = Scope.get_current_scope()
scope.set_tag("my-tag", "my value")
scope.user = {"id": 42, "email": "john.doe@example.com"}

# reset all scope data
scope.clear()

# Or:

sentry_sdk.set_tag("my-tag", "my value")
sentry_sdk.set_user({"id": 42, "email": "john.doe@example.com"})
"""

# https://docs.sentry.io/platforms/python/enriching-events/scopes/ ("Local Scopes", 1.x revision)
WITH_PUSH_SCOPE = """\
from sentry_sdk import push_scope, capture_exception

with push_scope() as scope:
    scope.set_tag("my-tag", "my value")
    scope.level = 'warning'
    # will be tagged with my-tag="my value"
    capture_exception(Exception("my error"))

# will not be tagged with my-tag
capture_exception(Exception("my other error"))
"""


@pytest.mark.parametrize(
    "code", [CONFIGURE_SCOPE_NEW_SCOPE, CONFIGURE_SCOPE_CURRENT], ids=["new_scope", "get_current_scope"]
)
def test_scopes_configure(server: IngestServer, code: str) -> None:
    """Scopes page: ``scope.clear()`` resets what was set; the top-level calls set tag and user."""
    sentry_sdk.init(dsn=server.dsn)
    run(code, "scopes-configure")
    sentry_sdk.capture_message("after configuring the scope")
    (event,) = sent(server, 1)
    assert {"my-tag": "my value"} == event["tags"]
    assert {"id": 42, "email": "john.doe@example.com"} == event["user"]


def test_scopes_push_scope(server: IngestServer) -> None:
    """Scopes page: data set in ``push_scope`` applies to the error captured inside it, not after it."""
    sentry_sdk.init(dsn=server.dsn)
    run(WITH_PUSH_SCOPE, "scopes-push-scope")
    inside, after = sent(server, 2)
    assert ("my error", "warning", {"my-tag": "my value"}) == (
        inside["exception"]["values"][-1]["value"],
        inside["level"],
        inside["tags"],
    )
    assert ("my other error", "error") == (after["exception"]["values"][-1]["value"], after["level"])
    assert "my-tag" not in (after.get("tags") or {})


# ---------------------------------------------------------------------------------------------
# https://docs.sentry.io/platforms/python/enriching-events/event-processors/ (global processors)
EVENT_PROCESSOR_GLOBAL = """\
import sentry_sdk
from sentry_sdk.types import Event, Hint
from sentry_sdk.scope import add_global_event_processor

sentry_sdk.init(
  # ...
)

def event_processor(event, hint):
    event["tags"] = {"foo": "42"}
    return event

global_scope = sentry_sdk.get_global_scope()
global_scope.add_event_processor(event_processor)

# You can do the same thing using add_global_event_processor
add_global_event_processor(event_processor)
"""

# https://docs.sentry.io/platforms/python/enriching-events/event-processors/ (processors on a local scope)
EVENT_PROCESSOR_LOCAL = """\
with sentry_sdk.new_scope() as scope:
    scope.add_event_processor(event_processor)

    # The processor applies only inside this scope
    sentry_sdk.capture_message("Test")

# The event processor will NOT apply to this event
sentry_sdk.capture_message("Test");
"""


def _event_processor(event: Event, hint: Hint) -> Event:
    # The page's own processor, for the snippet that uses it without defining it.
    event["tags"] = {"foo": "42"}
    return event


def test_event_processors_global(server: IngestServer) -> None:
    """Event Processors page: a processor on the global scope runs on every event sent afterwards."""
    run(EVENT_PROCESSOR_GLOBAL, "event-processors-global")
    sentry_sdk.set_tag("overwritten", "by the processor")
    sentry_sdk.capture_message("first")
    with sentry_sdk.new_scope():
        sentry_sdk.capture_message("second")
    events = sent(server, 2)
    assert [{"foo": "42"}, {"foo": "42"}] == [e["tags"] for e in events]


def test_event_processors_local(server: IngestServer) -> None:
    """Event Processors page: a processor added in ``new_scope`` applies only to events captured there."""
    sentry_sdk.init(dsn=server.dsn)
    run(
        EVENT_PROCESSOR_LOCAL,
        "event-processors-local",
        sentry_sdk=sentry_sdk,
        event_processor=_event_processor,
    )
    inside, outside = sent(server, 2)
    assert ("Test", {"foo": "42"}) == (inside["message"], inside["tags"])
    assert "Test" == outside["message"]
    assert "foo" not in (outside.get("tags") or {})


# ---------------------------------------------------------------------------------------------
# https://docs.sentry.io/platforms/python/enriching-events/transaction-name/ (tab "Python (SDK 2.x)")
SET_TRANSACTION_NAME = """\
import sentry_sdk

scope = sentry_sdk.get_current_scope()
scope.set_transaction_name("UserListView")
"""

# https://docs.sentry.io/platforms/python/enriching-events/transaction-name/ (tab "Python (SDK 1.x)")
SET_TRANSACTION_NAME_1X = """\
import sentry_sdk

with sentry_sdk.configure_scope() as scope:
    scope.set_transaction_name("UserListView")
"""


@pytest.mark.parametrize("code", [SET_TRANSACTION_NAME, SET_TRANSACTION_NAME_1X], ids=["2.x", "1.x"])
def test_transaction_name(server: IngestServer, code: str) -> None:
    """Transaction Name page: the name set on the scope annotates error events with where they failed."""
    sentry_sdk.init(dsn=server.dsn)
    run(code, "transaction-name")
    sentry_sdk.capture_exception(RuntimeError("listing users failed"))
    (event,) = sent(server, 1)
    assert "UserListView" == event["transaction"]


# ---------------------------------------------------------------------------------------------
# https://docs.sentry.io/platforms/python/configuration/filtering/ ("Using before_send", an earlier
# revision; the same snippet is on https://docs.sentry.io/platforms/python/data-management/sensitive-data/)
BEFORE_SEND_STRIP = """\
import sentry_sdk

def strip_sensitive_data(event, hint):
    # modify event here
    return event

sentry_sdk.init(
    # ...

    before_send=strip_sensitive_data,
)
"""

# https://docs.sentry.io/platforms/python/configuration/filtering/ ("Example `before_send`")
MY_BEFORE_SEND = """\
import sentry_sdk
from sentry_sdk.types import Event, Hint

def my_before_send(event: Event, hint: Hint) -> Event:
    # Filter out all ZeroDivisionError events.
    # Note that the exception type is available in the hint,
    # but we should handle the case where the exception info
    # is missing.
    if hint.get("exc_info", [None])[0] == ZeroDivisionError:
        return None

    # We can set extra data on the event's "extra" field.
    event["extra"]["foo"] = "bar"

    # We have modified the event as desired, so return the event.
    # The SDK will then send the returned event to Sentry.
    return event

sentry_sdk.init(
    # ...

    before_send=my_before_send,
)
"""

# https://docs.sentry.io/platforms/python/configuration/filtering/ ("Event Hints")
BEFORE_SEND_HINT = """\
import sentry_sdk
from sentry_sdk.types import Event, Hint

def before_send(event: Event, hint: Hint) -> Event | None:
    if 'exc_info' not in hint:
        return event

    exception = hint['exc_info'][1]

    if isinstance(exception, DatabaseUnavailable):
        event['fingerprint'] = ['database-unavailable']

    return event

sentry_sdk.init(
    # ...
    before_send=before_send,
)
"""

# https://docs.sentry.io/platforms/python/configuration/filtering/ ("Using Hints")
BEFORE_SEND_FINGERPRINT = """\
import sentry_sdk

def before_send(event, hint):
    if 'exc_info' in hint:
        exc_type, exc_value, tb = hint['exc_info']
        if isinstance(exc_value, DatabaseUnavailable):
            event['fingerprint'] = ['database-unavailable']
    return event

sentry_sdk.init(
    # ...
    before_send=before_send,
)
"""


class DatabaseUnavailable(Exception):  # noqa: N818 - the docs' name
    """The exception the filtering examples test for, which they leave to the reader to define."""


def test_filtering_before_send_passes_events_through(server: IngestServer) -> None:
    """Filtering page: a ``before_send`` that returns the event lets it through unchanged."""
    namespace = run(BEFORE_SEND_STRIP, "filtering-before-send")
    sentry_sdk.set_tag("kept", "yes")
    sentry_sdk.capture_message("nothing to strip")
    (event,) = sent(server, 1)
    assert ("nothing to strip", {"kept": "yes"}) == (event["message"], event["tags"])
    assert namespace["strip_sensitive_data"] is sentry_sdk.get_client().options["before_send"]


def capture_zero_division_value_error_and_message() -> None:
    try:
        1 / 0  # noqa: B018 - the error the docs filter out
    except ZeroDivisionError:
        sentry_sdk.capture_exception()
    sentry_sdk.capture_exception(ValueError("kept"))
    sentry_sdk.capture_message("kept too")


def test_filtering_my_before_send_with_extra_set(server: IngestServer) -> None:
    """Filtering page: ZeroDivisionError events are dropped; every other event gets ``extra.foo``.

    Here the program has set some extra data of its own, so every event has an ``extra`` field.
    """
    run(MY_BEFORE_SEND, "filtering-my-before-send")
    sentry_sdk.set_extra("request_id", "r-1")
    capture_zero_division_value_error_and_message()
    error, message = sent(server, 2)
    for event in (error, message):
        assert ("r-1", "bar") == (event["extra"]["request_id"], event["extra"]["foo"])
    assert ("ValueError", "kept too") == (error["exception"]["values"][-1]["type"], message["message"])


def test_filtering_my_before_send(server: IngestServer) -> None:
    """Filtering page: ZeroDivisionError events are dropped; every other event gets ``extra.foo``.

    This works as written because every event has ``extra``: the default argv integration puts
    the command line there.
    """
    run(MY_BEFORE_SEND, "filtering-my-before-send")
    capture_zero_division_value_error_and_message()
    error, message = sent(server, 2)
    assert ("ValueError", "kept too") == (error["exception"]["values"][-1]["type"], message["message"])
    assert ["bar", "bar"] == [error["extra"]["foo"], message["extra"]["foo"]]
    assert [sys.argv, sys.argv] == [error["extra"]["sys.argv"], message["extra"]["sys.argv"]]


@pytest.mark.parametrize(
    "code", [BEFORE_SEND_HINT, BEFORE_SEND_FINGERPRINT], ids=["event-hints", "using-hints"]
)
def test_filtering_hint_sets_fingerprint(server: IngestServer, code: str) -> None:
    """Filtering page: the hint's ``exc_info`` holds the original exception, used to force a fingerprint."""
    run(code, "filtering-hints", DatabaseUnavailable=DatabaseUnavailable)
    sentry_sdk.capture_exception(DatabaseUnavailable("db is down"))
    sentry_sdk.capture_exception(ValueError("something else"))
    sentry_sdk.capture_message("no exception at all")
    unavailable, other, message = sent(server, 3)
    assert ["database-unavailable"] == unavailable["fingerprint"]
    assert "fingerprint" not in other
    assert "fingerprint" not in message


# ---------------------------------------------------------------------------------------------
# https://docs.sentry.io/platforms/python/integrations/logging/ ("Ignoring a logger", linked from
# "Decluttering Sentry" on https://docs.sentry.io/platforms/python/configuration/filtering/)
IGNORE_LOGGER = """\
from sentry_sdk.integrations.logging import ignore_logger

ignore_logger("a.spammy.logger")

logger = logging.getLogger("a.spammy.logger")
logger.error("hi")  # no error sent to sentry
"""

# https://docs.sentry.io/platforms/python/integrations/logging/ ("Verify")
LOGGING_VERIFY = """\
import logging

def main():
    sentry_sdk.init(...)  # same as above

    logging.debug("I am ignored")
    logging.info("I am a breadcrumb")
    logging.error("I am an event", extra=dict(bar=43))
    logging.exception("An exception happened")

main()
"""

# https://docs.sentry.io/platforms/python/integrations/logging/ ("Options")
LOGGING_OPTIONS = """\
import logging
import sentry_sdk
from sentry_sdk.integrations.logging import LoggingIntegration

# The SDK will honor the level set by the logging library, which is WARNING by default.
# If we want to capture records with lower severity, we need to configure
# the logger level first.
logging.basicConfig(level=logging.INFO)

sentry_sdk.init(
    # ...
    integrations=[
        LoggingIntegration(
            level=logging.INFO,        # Capture info and above as breadcrumbs
            event_level=logging.INFO   # Send records as events
        ),
    ],
)
"""


def test_logging_ignore_logger(server: IngestServer) -> None:
    """Logging page: records of an ignored logger become neither events nor breadcrumbs."""
    sentry_sdk.init(dsn=server.dsn)
    run(IGNORE_LOGGER, "logging-ignore-logger", logging=logging)
    logging.getLogger("a.spammy.logger.child").error("hi from a child")
    logging.getLogger("a.useful.logger").warning("kept as a breadcrumb")
    sentry_sdk.capture_message("the only event")
    (event,) = sent(server, 1)
    assert "the only event" == event["message"]
    assert ["kept as a breadcrumb"] == [c["message"] for c in crumbs(event)]


def run_logging_verify(server: IngestServer) -> list[dict[str, Any]]:
    # The page's own note says records below a logger's level are never seen, so its promise that
    # the INFO record becomes a breadcrumb holds for a program whose root logger is at INFO.
    with root_logger_at(logging.INFO):
        run(LOGGING_VERIFY, "logging-verify", sentry_sdk=sentry_sdk)
    return sent(server, 2)


def test_logging_verify(server: IngestServer) -> None:
    """Logging page, "Verify": the ERROR record is an event with the INFO record as its breadcrumb.

    ``bar`` from ``extra=`` is in the event's extra, ``logging.exception`` is an event too, and the
    DEBUG record surfaces nowhere.
    """
    event, exception = run_logging_verify(server)
    assert ("I am an event", "error", "root") == (
        event["logentry"]["message"],
        event["level"],
        event["logger"],
    )
    assert 43 == event["extra"]["bar"]
    assert ["I am a breadcrumb"] == [c["message"] for c in crumbs(event)]
    assert ("An exception happened", "error") == (exception["logentry"]["message"], exception["level"])
    # No event or breadcrumb from the DEBUG record (the stack attached to the logging.exception
    # event shows the snippet's source lines, which include the call itself).
    records = [e.get("logentry", {}).get("message") for e in server.events()]
    records += [c.get("message") for e in server.events() for c in crumbs(e)]
    assert "I am ignored" not in records


def test_logging_verify_exception_outside_except_attaches_the_stack(server: IngestServer) -> None:
    """Logging page, "Verify": "If there's no exception, the current stack will be attached"."""
    _, exception = run_logging_verify(server)
    stack = exception.get("stacktrace") or exception["threads"]["values"][0]["stacktrace"]
    assert "main" in [f["function"] for f in stack["frames"]]


def test_logging_options(server: IngestServer) -> None:
    """Logging page, "Options": with ``event_level=INFO`` and the root at INFO, INFO records are events."""
    with fresh_root_logger() as root:
        run(LOGGING_OPTIONS, "logging-options")
        assert logging.INFO == root.level
        logging.getLogger("my.app").info("an info record")
        logging.getLogger("my.app").debug("a debug record")
    (event,) = sent(server, 1)
    assert ("an info record", "info", "my.app") == (
        event["logentry"]["message"],
        event["level"],
        event["logger"],
    )


# ---------------------------------------------------------------------------------------------
# https://docs.sentry.io/platforms/python/usage/ ("Capturing Errors")
CAPTURE_ERROR = """\
import sentry_sdk

try:
    a_potentially_failing_function()
except Exception as e:
    # Alternatively the argument can be omitted
    sentry_sdk.capture_exception(e)
"""

# https://docs.sentry.io/platforms/python/usage/ ("Capturing Messages")
CAPTURE_MESSAGE = """\
import sentry_sdk

sentry_sdk.capture_message('Something went wrong')
"""

# https://docs.sentry.io/platforms/python/usage/set-level/
SET_LEVEL = """\
import sentry_sdk

sentry_sdk.set_level("warning")
"""


def a_potentially_failing_function() -> float:
    return 1 / 0


def test_usage_capture_error(server: IngestServer) -> None:
    """Usage page: a caught exception is reported with its type, value and the frame that raised it."""
    sentry_sdk.init(dsn=server.dsn)
    run(CAPTURE_ERROR, "usage-capture-error", a_potentially_failing_function=a_potentially_failing_function)
    (event,) = sent(server, 1)
    (exception,) = event["exception"]["values"]
    assert ("ZeroDivisionError", "division by zero", "error") == (
        exception["type"],
        exception["value"],
        event["level"],
    )
    functions = [f["function"] for f in exception["stacktrace"]["frames"]]
    assert ["<module>", "a_potentially_failing_function"] == functions


def test_usage_capture_message(server: IngestServer) -> None:
    """Usage page: a bare message is sent as an event of level info."""
    sentry_sdk.init(dsn=server.dsn)
    run(CAPTURE_MESSAGE, "usage-capture-message")
    (event,) = sent(server, 1)
    assert ("Something went wrong", "info") == (event["message"], event["level"])


def test_usage_set_level(server: IngestServer) -> None:
    """Set the Level page: the level set on the scope overrides the level of the events captured."""
    sentry_sdk.init(dsn=server.dsn)
    run(SET_LEVEL, "usage-set-level")
    sentry_sdk.capture_exception(RuntimeError("not that bad"))
    (event,) = sent(server, 1)
    assert "warning" == event["level"]


# ---------------------------------------------------------------------------------------------
# https://docs.sentry.io/platforms/python/usage/sdk-fingerprinting/ ("Basic Example", tab "Python (SDK 2.x)")
FINGERPRINT_BASIC = """\
import sentry_sdk

def make_request(method, path, options):
    try:
        return session.request(method, path, **options)
    except RequestError as err:
        with sentry_sdk.new_scope() as scope:
            # group errors together based on their request and response
            scope.fingerprint = [method, path, str(err.status_code)]
            sentry_sdk.capture_exception(err)
"""

# https://docs.sentry.io/platforms/python/usage/sdk-fingerprinting/ ("Basic Example", tab "Python (SDK 1.x)")
FINGERPRINT_BASIC_1X = """\
import sentry_sdk

def make_request(method, path, options):
    try:
        return session.request(method, path, **options)
    except RequestError as err:
        with sentry_sdk.push_scope() as scope:
            # group errors together based on their request and response
            scope.fingerprint = [method, path, str(err.status_code)]
            sentry_sdk.capture_exception(err)
"""

# https://docs.sentry.io/platforms/python/usage/sdk-fingerprinting/ ("Group Errors With Greater Granularity")
FINGERPRINT_RPC = """\
import sentry_sdk

class CustomRPCError(Exception):
    # The name of the RPC function that was called (e.g. "getAllBlogArticles")
    function = None
    # For example a HTTP status code returned by the server.
    error_code = None

def before_send(event: Event, hint: Hint):
    if 'exc_info' not in hint:
        return event

    exception = hint['exc_info'][1]

    if isinstance(exception, CustomRPCError):
        event['fingerprint'] = [
            '{{ default }}',
            str(exception.function),
            str(exception.error_code)
        ]

    return event

sentry_sdk.init(
    # ...
    before_send=before_send,
)
"""

# https://docs.sentry.io/platforms/python/usage/sdk-fingerprinting/ ("Group Errors More Aggressively")
FINGERPRINT_DATABASE_CONNECTION = """\
import sentry_sdk
from sentry_sdk.types import Event, Hint

class DatabaseConnectionError(Exception):
    pass

def before_send(event: Event, hint: Hint) -> Event | None:
    if 'exc_info' not in hint:
        return event

    exception = hint['exc_info'][1]

    if isinstance(exception, DatabaseConnectionError):
        event['fingerprint'] = ['database-connection-error']

    return event

sentry_sdk.init(
    # ...
    before_send=before_send,
)
"""


class RequestError(Exception):
    """What the fingerprinting example's ``session`` raises: a failed request and its status code."""

    def __init__(self, status_code: int) -> None:
        super().__init__(f"request failed with {status_code}")
        self.status_code = status_code


class FailingSession:
    """A ``session`` for the fingerprinting example whose every request fails with a 503."""

    def request(self, method: str, path: str, **options: Any) -> Any:
        raise RequestError(503)


@pytest.mark.parametrize("code", [FINGERPRINT_BASIC, FINGERPRINT_BASIC_1X], ids=["2.x", "1.x"])
def test_fingerprint_basic(server: IngestServer, code: str) -> None:
    """SDK Fingerprinting page: the fingerprint set in the scope groups by request and status code.

    It applies to the error captured in that scope only.
    """
    sentry_sdk.init(dsn=server.dsn)
    namespace = run(code, "fingerprint-basic", session=FailingSession(), RequestError=RequestError)
    assert namespace["make_request"]("GET", "/api/articles", {"timeout": 3}) is None
    sentry_sdk.capture_message("outside the scope")
    failed, outside = sent(server, 2)
    assert ["GET", "/api/articles", "503"] == failed["fingerprint"]
    assert "RequestError" == failed["exception"]["values"][-1]["type"]
    assert "fingerprint" not in outside


def test_fingerprint_rpc(server: IngestServer) -> None:
    """SDK Fingerprinting page: ``{{ default }}`` plus the RPC function and error code split a group."""
    namespace = run(FINGERPRINT_RPC, "fingerprint-rpc", Event=Event, Hint=Hint)
    error = namespace["CustomRPCError"]("the call failed")
    error.function, error.error_code = "getAllBlogArticles", 500
    sentry_sdk.capture_exception(error)
    sentry_sdk.capture_exception(KeyError("unrelated"))
    rpc, unrelated = sent(server, 2)
    assert ["{{ default }}", "getAllBlogArticles", "500"] == rpc["fingerprint"]
    assert "fingerprint" not in unrelated


@needs_py310
def test_fingerprint_database_connection(server: IngestServer) -> None:
    """SDK Fingerprinting page: all database connection errors share one fingerprint, whatever the stack."""
    namespace = run(FINGERPRINT_DATABASE_CONNECTION, "fingerprint-database-connection")
    sentry_sdk.capture_exception(namespace["DatabaseConnectionError"]("connection refused"))
    sentry_sdk.capture_exception(namespace["DatabaseConnectionError"]("connection reset"))
    refused, reset = sent(server, 2)
    assert [["database-connection-error"]] * 2 == [refused["fingerprint"], reset["fingerprint"]]


# ---------------------------------------------------------------------------------------------
# https://docs.sentry.io/platforms/python/configuration/options/ (how options are passed to init)
CONFIG_INTRO = """\
import sentry_sdk

sentry_sdk.init(
    dsn="___PUBLIC_DSN___",
    max_breadcrumbs=50,
    debug=True,
    # Set traces_sample_rate to 1.0 to capture 100%
    # of transactions for tracing.
    traces_sample_rate=1.0,
    # Add request headers and IP for users,
    # see https://docs.sentry.io/platforms/python/data-management/data-collected/ for more info
    send_default_pii=True,

    # By default the SDK will try to use the SENTRY_RELEASE
    # environment variable, or infer a git commit
    # SHA as release, however you may want to set
    # something more human-readable.
    # release="myapp@1.0.0",
)
"""


def test_options_init(server: IngestServer) -> None:
    """Options page: options are keyword arguments of ``init``; ``max_breadcrumbs=50`` keeps the last 50."""
    run(CONFIG_INTRO, "options-init")
    for n in range(60):
        sentry_sdk.add_breadcrumb(message=f"step {n}")
    sentry_sdk.capture_message("after sixty steps")
    (event,) = sent(server, 1)
    assert [f"step {n}" for n in range(10, 60)] == [c["message"] for c in crumbs(event)]


# ---------------------------------------------------------------------------------------------
# https://docs.sentry.io/platforms/python/data-management/sensitive-data/ ("event_scrubber")
EVENT_SCRUBBER_DEFAULT = """\
import sentry_sdk
from sentry_sdk.scrubber import EventScrubber

sentry_sdk.init(
    # ...
    send_default_pii=False,
    event_scrubber=EventScrubber(),  # this is set by default
)
"""

# https://docs.sentry.io/platforms/python/data-management/sensitive-data/ ("event_scrubber", custom denylist)
EVENT_SCRUBBER_DENYLIST = """\
from sentry_sdk.scrubber import EventScrubber, DEFAULT_DENYLIST

# custom denylist
denylist = DEFAULT_DENYLIST + ["my_sensitive_var"]

sentry_sdk.init(
    # ...
    send_default_pii=False,
    event_scrubber=EventScrubber(denylist=denylist),
)
"""

# https://docs.sentry.io/platforms/python/data-management/sensitive-data/ ("event_scrubber", recursive)
EVENT_SCRUBBER_RECURSIVE = """\
from sentry_sdk.scrubber import EventScrubber

sentry_sdk.init(
    # ...
    send_default_pii=False,
    event_scrubber=EventScrubber(recursive=True),
)
"""

# https://docs.sentry.io/platforms/python/data-management/sensitive-data/ ("Contextual information")
SENSITIVE_SET_TAG = """\
sentry_sdk.set_tag("birthday", checksum_or_hash("08/12/1990"))
"""

# https://docs.sentry.io/platforms/python/data-management/sensitive-data/ ("User details")
SENSITIVE_SET_USER = """\
sentry_sdk.set_user({"id": user.id})

# or

sentry_sdk.set_user({"username": user.username})
"""


def failing_with_secrets() -> None:
    password = "hunter2"  # noqa: F841 - a local the scrubber must filter
    my_sensitive_var = "classified"  # noqa: F841
    payload = {"nested": {"password": "hunter2"}}  # noqa: F841
    raise ValueError("failed while holding secrets")


def capture_failing_with_secrets() -> None:
    try:
        failing_with_secrets()
    except ValueError:
        sentry_sdk.capture_exception()


def test_sensitive_data_default_scrubber(server: IngestServer) -> None:
    """Sensitive Data page: the default scrubber filters denylisted locals such as ``password``."""
    run(EVENT_SCRUBBER_DEFAULT, "sensitive-data-default-scrubber")
    capture_failing_with_secrets()
    (event,) = sent(server, 1)
    local_vars = frame_vars(event, "failing_with_secrets")
    assert ("[Filtered]", "classified") == (local_vars["password"], local_vars["my_sensitive_var"])


def test_sensitive_data_custom_denylist(server: IngestServer) -> None:
    """Sensitive Data page: names added to ``DEFAULT_DENYLIST`` are filtered too, the defaults still are."""
    run(EVENT_SCRUBBER_DENYLIST, "sensitive-data-denylist", sentry_sdk=sentry_sdk)
    capture_failing_with_secrets()
    (event,) = sent(server, 1)
    local_vars = frame_vars(event, "failing_with_secrets")
    assert ("[Filtered]", "[Filtered]") == (local_vars["password"], local_vars["my_sensitive_var"])


def test_sensitive_data_recursive_scrubber(server: IngestServer) -> None:
    """Sensitive Data page: ``recursive=True`` also filters denylisted keys nested inside values."""
    run(EVENT_SCRUBBER_RECURSIVE, "sensitive-data-recursive", sentry_sdk=sentry_sdk)
    capture_failing_with_secrets()
    (event,) = sent(server, 1)
    local_vars = frame_vars(event, "failing_with_secrets")
    assert {"nested": {"password": "[Filtered]"}} == local_vars["payload"]


def checksum_or_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_sensitive_data_hashed_tag(server: IngestServer) -> None:
    """Sensitive Data page: a hashed value is sent as the tag, never the plain value."""
    sentry_sdk.init(dsn=server.dsn)
    run(SENSITIVE_SET_TAG, "sensitive-data-set-tag", sentry_sdk=sentry_sdk, checksum_or_hash=checksum_or_hash)
    sentry_sdk.capture_message("with a hashed tag")
    (event,) = sent(server, 1)
    assert {"birthday": checksum_or_hash("08/12/1990")} == event["tags"]
    assert "08/12/1990" not in repr(server.envelopes())


def test_sensitive_data_user_by_id(server: IngestServer) -> None:
    """Sensitive Data page: identify users by an internal id or username instead of their email."""
    sentry_sdk.init(dsn=server.dsn)
    user = SimpleNamespace(id="u-1234", username="jane", email="jane.doe@example.com")
    run(SENSITIVE_SET_USER, "sensitive-data-set-user", sentry_sdk=sentry_sdk, user=user)
    sentry_sdk.capture_message("identified without an email")
    (event,) = sent(server, 1)
    assert {"username": "jane"} == event["user"]
    assert "jane.doe@example.com" not in repr(server.envelopes())


def test_options_ignore_errors_as_described(server: IngestServer) -> None:
    """Options page, ``ignore_errors``: exceptions of the listed classes, or subclasses, are not sent.

    The page describes the option but shows no code for it, so this runs the description: a class
    (its subclasses included) and a class name, next to an error that is still sent.
    https://docs.sentry.io/platforms/python/configuration/options/#ignore-errors
    """

    class BoringError(Exception):
        pass

    class StillBoringError(BoringError):
        pass

    sentry_sdk.init(ignore_errors=[BoringError, "KeyError"])
    for error in (BoringError(), StillBoringError(), KeyError("k"), ValueError("kept")):
        try:
            raise error
        except Exception:
            sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=5)
    (event,) = sent(server, 1)
    assert ("ValueError", "kept") == tuple(event["exception"]["values"][-1][k] for k in ("type", "value"))
