"""Every code example in README.md runs as written, and the data it promises reaches a real server."""

from __future__ import annotations

import linecache
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import sentry_sdk
from sentry_sdk.testing import IngestServer

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLE_DSN = "https://examplePublicKey@o0.ingest.sentry.io/0"
_BLOCK = re.compile(r"<!-- example: (?P<name>[\w-]+) -->\n```python\n(?P<code>.*?)```", re.S)


def readme_examples() -> dict[str, str]:
    return {m.group("name"): m.group("code") for m in _BLOCK.finditer(README.read_text(encoding="utf-8"))}


def run_example(name: str, server: IngestServer | None = None) -> dict[str, Any]:
    code = readme_examples()[name]
    if server is not None:
        code = code.replace(EXAMPLE_DSN, server.dsn)
    namespace: dict[str, Any] = {"__name__": f"readme_{name.replace('-', '_')}"}
    filename = f"README.md[{name}]"
    # Give the example's frames their source lines, as they would have in a file of their own.
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    exec(compile(code, filename, "exec"), namespace)
    return namespace


@contextmanager
def calls_to(function_name: str) -> Iterator[list[str]]:
    """Record every call of a function with this name while the block runs."""
    calls: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code.co_name == function_name:
            calls.append(function_name)

    sys.setprofile(profile)
    try:
        yield calls
    finally:
        sys.setprofile(None)


def sent(server: IngestServer, count: int) -> list[dict[str, Any]]:
    """Flush, then return exactly the ``count`` events the server received."""
    sentry_sdk.flush(timeout=5)
    events = server.wait_for_events(count)
    assert count == len(server.events())
    return events


def test_every_example_has_a_test() -> None:
    """The examples in README.md are exactly the ones this file checks."""
    assert sorted(CHECKS) == sorted(readme_examples())


def check_init(server: IngestServer) -> None:
    run_example("init", server)
    assert server.dsn == sentry_sdk.Hub.current.client.dsn  # type: ignore[union-attr]
    sentry_sdk.capture_message("after init")
    (event,) = sent(server, 1)
    assert "after init" == event["message"]


def check_capture_exception(server: IngestServer) -> None:
    sentry_sdk.init(dsn=server.dsn)
    run_example("capture-exception")
    first, second = sent(server, 2)
    assert [("ValueError", "a value was wrong")] == [
        (e["type"], e["value"]) for e in first["exception"]["values"]
    ]
    (exc,) = second["exception"]["values"]
    assert ("ValueError", "invalid literal for int() with base 10: 'not a number'") == (
        exc["type"],
        exc["value"],
    )
    assert ("generic", True) == (exc["mechanism"]["type"], exc["mechanism"]["handled"])
    frame = exc["stacktrace"]["frames"][-1]
    assert 'int("not a number")' == frame["context_line"].strip()


def check_capture_message(server: IngestServer) -> None:
    sentry_sdk.init(dsn=server.dsn)
    run_example("capture-message")
    first, second = sent(server, 2)
    assert ("Hi Sentry!", "info") == (first["message"], first["level"])
    assert ("Disk almost full", "warning") == (second["message"], second["level"])


def check_scopes(server: IngestServer) -> None:
    sentry_sdk.init(dsn=server.dsn)
    run_example("scopes")
    inside, outside = sent(server, 2)
    assert "my_view_name" == inside["transaction"]
    assert {"key": "value"} == inside["tags"]
    assert 123 == inside["user"]["id"]
    assert {"transaction", "tags", "user"}.isdisjoint(outside)


def check_nested_scopes(server: IngestServer) -> None:
    sentry_sdk.init(dsn=server.dsn)
    run_example("nested-scopes")
    inner, outer = sent(server, 2)
    assert {"request": "outer", "step": "inner"} == inner["tags"]
    assert {"request": "outer"} == outer["tags"]


def check_configure_scope_with(server: IngestServer) -> None:
    run_example("configure-scope-with")  # no client: goes to a throw-away scope
    sentry_sdk.init(dsn=server.dsn)
    sentry_sdk.capture_message("unconfigured user data is gone")
    run_example("configure-scope-with")
    sentry_sdk.capture_message("now with a user")
    first, second = sent(server, 2)
    assert "user" not in first
    assert {"id": 7, "username": "grace"} == second["user"]


def check_configure_scope_decorator(server: IngestServer) -> None:
    with calls_to("get_user_data") as calls:
        run_example("configure-scope-decorator")
    assert [] == calls
    sentry_sdk.init(dsn=server.dsn)
    with calls_to("get_user_data") as calls:
        run_example("configure-scope-decorator")
    assert ["get_user_data"] == calls
    sentry_sdk.capture_message("with a user")
    (event,) = sent(server, 1)
    assert {"id": 7, "username": "grace"} == event["user"]


def check_init_no_dsn(server: IngestServer) -> None:
    run_example("init-no-dsn")
    client = sentry_sdk.Hub.current.client
    assert client is not None and not client.is_active()
    seen: list[str] = []
    with sentry_sdk.configure_scope() as scope:
        scope.add_event_processor(lambda event, hint: seen.append(event["message"]) or event)
    sentry_sdk.add_breadcrumb(lambda: {"message": "callback ran"})
    event_id = sentry_sdk.capture_message("processed, not sent")
    assert event_id is not None and ["processed, not sent"] == seen
    assert ["callback ran"] == [c["message"] for c in sentry_sdk.Hub.current.scope.breadcrumbs]
    sentry_sdk.flush(timeout=1)
    assert [] == server.requests


def check_breadcrumb(server: IngestServer) -> None:
    sentry_sdk.init(dsn=server.dsn)
    run_example("breadcrumb")
    sentry_sdk.capture_message("with a breadcrumb")
    (event,) = sent(server, 1)
    (crumb,) = event["breadcrumbs"]["values"]
    assert ("myapp.models", "info", "hi") == (crumb["category"], crumb["level"], crumb["message"])
    assert isinstance(crumb["timestamp"], float)


def check_breadcrumb_callback(server: IngestServer) -> None:
    with calls_to("<lambda>") as calls:
        run_example("breadcrumb-callback")
    assert [] == calls
    sentry_sdk.init(dsn=server.dsn)
    run_example("breadcrumb-callback")
    sentry_sdk.capture_message("with a breadcrumb")
    (event,) = sent(server, 1)
    (crumb,) = event["breadcrumbs"]["values"]
    assert ("myapp.models", "info", "hi") == (crumb["category"], crumb["level"], crumb["message"])


def check_logging(server: IngestServer) -> None:
    sentry_sdk.init(dsn=server.dsn)
    run_example("logging")
    declined, failed = sent(server, 2)
    assert ("error", "myapp.payments") == (declined["level"], declined["logger"])
    assert "card declined for order 1234" == declined["logentry"]["formatted"]
    assert "could not compute the total" == failed["logentry"]["formatted"]
    (exc,) = failed["exception"]["values"]
    assert ("ZeroDivisionError", "division by zero") == (exc["type"], exc["value"])
    # The first log line came before the second event: it is one of its breadcrumbs.
    assert "card declined for order 1234" in [c["message"] for c in failed["breadcrumbs"]["values"]]


def check_pii(server: IngestServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTRY_DSN", server.dsn)
    run_example("pii")
    client = sentry_sdk.Hub.current.client
    assert client is not None and client.should_send_default_pii()
    sentry_sdk.capture_message("pii on")
    (event,) = sent(server, 1)
    assert "pii on" == event["message"]


def check_wsgi(server: IngestServer) -> None:
    import io

    sentry_sdk.init(dsn=server.dsn)
    namespace = run_example("wsgi")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": "h", "SERVER_PORT": "80"}
    environ.update({"wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b"")})
    statuses: list[str] = []
    assert [b"hello"] == list(namespace["app"](environ, lambda status, headers: statuses.append(status)))
    assert ["200 OK"] == statuses

    def failing(environ: dict[str, Any], start_response: Any) -> Any:
        raise RuntimeError("view failed")

    with pytest.raises(RuntimeError):
        namespace["SentryWsgiMiddleware"](failing)(environ, lambda status, headers: None)
    (event,) = sent(server, 1)
    mechanism = event["exception"]["values"][0]["mechanism"]["type"]
    assert ("http://h/", "wsgi") == (event["request"]["url"], mechanism)


CHECKS: dict[str, Callable[..., None]] = {
    "init": check_init,
    "capture-exception": check_capture_exception,
    "capture-message": check_capture_message,
    "scopes": check_scopes,
    "nested-scopes": check_nested_scopes,
    "configure-scope-with": check_configure_scope_with,
    "configure-scope-decorator": check_configure_scope_decorator,
    "init-no-dsn": check_init_no_dsn,
    "breadcrumb": check_breadcrumb,
    "breadcrumb-callback": check_breadcrumb_callback,
    "logging": check_logging,
    "pii": check_pii,
    "wsgi": check_wsgi,
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_readme_example(name: str, ingest: IngestServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README example runs unchanged and what it promises arrives at a local ingest server."""
    check = CHECKS[name]
    if "monkeypatch" in check.__code__.co_varnames[: check.__code__.co_argcount]:
        check(ingest, monkeypatch)
    else:
        check(ingest)
