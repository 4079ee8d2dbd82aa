"""Django: one event per failed request, with the request, the route and (with PII) the user, per request.

Runs the real Django on the small project in ``djproject/`` (configured in this process), through
Django's test ``Client`` and ``AsyncClient``, its ``WSGIHandler`` and ``ASGIHandler`` called
in-process, a threaded ``wsgiref`` server on 127.0.0.1, and fresh interpreters.
"""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.util import setup_testing_defaults

import pytest
from frameworks import require

django = require("django")
_PROJECT = Path(__file__).resolve().parent
sys.path.insert(0, str(_PROJECT))  # djsetup, whatever pytest's import mode
import djsetup  # noqa: E402, F401  (configures Django with djproject/)

# isort: split

import djproject.views as views  # noqa: E402
from django.core import signals  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.test import AsyncClient, Client  # noqa: E402

import sentry_sdk  # noqa: E402
from sentry_sdk.integrations import DidNotEnable  # noqa: E402
from sentry_sdk.integrations.django import DjangoIntegration  # noqa: E402
from sentry_sdk.integrations.django._transactions import format_route  # noqa: E402
from sentry_sdk.testing import CapturingTransport, IngestServer  # noqa: E402

OVER_LIMIT = {"": {"rem": [["!config", "x"]]}}
RAW = {"": {"rem": [["!raw", "x"]]}}


def _init(transaction_style: str = "url", **options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    options.setdefault("default_integrations", False)
    sentry_sdk.init(
        transport=transport, integrations=[DjangoIntegration(transaction_style=transaction_style)], **options
    )
    return transport


def _client() -> Client:
    return Client(raise_request_exception=False)


def _exception(event: dict[str, Any]) -> tuple[str, str, str, bool]:
    (exc,) = event["exception"]["values"]
    return exc["type"], exc["value"], exc["mechanism"]["type"], exc["mechanism"]["handled"]


def _environ(
    path: str, query: str = "", method: str = "GET", body: bytes = b"", **extra: Any
) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(body),
    }
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    environ.update(extra)
    setup_testing_defaults(environ)
    return environ


def _call_wsgi(environ: dict[str, Any]) -> tuple[str, bytes]:
    """Serve one request with Django's production WSGI handler, as a WSGI server would."""
    statuses: list[str] = []
    result = WSGIHandler()(environ, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        body = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return statuses[0], body


def _tags_outside(transport: CapturingTransport) -> dict[str, str]:
    """The tags an event sent outside any request gets now."""
    sentry_sdk.capture_message("outside the requests")
    event = transport.events.pop()
    return dict(event.get("tags") or {})


# -- errors: one event each, handled false, mechanism django ---------------------------------------


def test_a_failing_view_is_one_unhandled_event_with_the_request_and_its_route() -> None:
    """A view's exception: one event (handled false, mechanism django) with url, query, headers, route."""
    transport = _init()
    response = _client().get("/message/7", {"q": "1"}, HTTP_USER_AGENT="tests")

    assert 500 == response.status_code
    (event,) = transport.events
    assert ("RuntimeError", "message 7 failed", "django", False) == _exception(event)
    assert "error" == event["level"]
    request = event["request"]
    assert ("http://testserver/message/7", "GET", "q=1") == (
        request["url"],
        request["method"],
        request["query_string"],
    )
    assert "tests" == request["headers"]["User-Agent"]
    assert {"SERVER_NAME": "testserver", "SERVER_PORT": "80"} == request["env"]
    assert ("/message/{id}", {"source": "route"}) == (event["transaction"], event["transaction_info"])
    assert "djproject.views" == event["exception"]["values"][0]["stacktrace"]["frames"][-1]["module"]


def test_the_client_gets_the_same_500_as_without_the_sdk() -> None:
    """Status, headers and body of the 500 are what Django sends without the SDK."""
    without = _client().get("/message/7")
    transport = _init()
    with_sdk = _client().get("/message/7")

    assert (without.status_code, without.content, without.headers.items()) == (
        with_sdk.status_code,
        with_sdk.content,
        with_sdk.headers.items(),
    )
    assert 1 == len(transport.events)


def test_the_test_client_still_raises_the_views_exception_into_the_test() -> None:
    """With Django's default raise_request_exception the test still sees the exception; one event."""
    transport = _init()
    with pytest.raises(RuntimeError, match="message 3 failed"):
        Client().get("/message/3")
    assert ["message 3 failed"] == [_exception(e)[1] for e in transport.events]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/middleware-fails/", "the middleware failed on purpose"),
        ("/template/", "the template failed on purpose"),
    ],
)
def test_failures_in_middleware_and_template_rendering_are_reported(path: str, message: str) -> None:
    """An exception raised in a middleware or while a TemplateResponse renders is one django event."""
    transport = _init()
    assert 500 == _client().get(path).status_code
    (event,) = transport.events
    assert ("RuntimeError", message, "django", False) == _exception(event)
    assert (path, "route") == (event["transaction"], event["transaction_info"]["source"])


def test_a_500_from_a_handler_of_a_third_party_still_carries_the_request() -> None:
    """got_request_exception outside the patched handlers: the event gets the request from the signal."""
    from django.core.handlers.exception import response_for_exception
    from django.test import RequestFactory

    transport = _init()
    request = RequestFactory().get("/message/4", {"q": "x"})
    try:
        raise RuntimeError("raised outside Django's handlers")
    except RuntimeError as exc:
        assert 500 == response_for_exception(request, exc).status_code
    (event,) = transport.events
    assert ("RuntimeError", "raised outside Django's handlers", "django", False) == _exception(event)
    request_data = event["request"]
    assert ("http://testserver/message/4", "q=x") == (request_data["url"], request_data["query_string"])
    assert "/message/{id}" == event["transaction"]


def test_djangos_own_error_log_adds_no_second_event() -> None:
    """With the logging integration on, django.request's 'Internal Server Error' log is not another event."""
    transport = _init(default_integrations=True)
    _client().get("/message/1")
    Client(raise_request_exception=False).post("/form/", {"a": "1"})

    assert [("message 1 failed", "django"), ("form view failed", "django")] == [
        (_exception(e)[1], _exception(e)[2]) for e in transport.events
    ]


@pytest.mark.parametrize(("path", "status"), [("/not-found/", 404), ("/forbidden/", 403), ("/nowhere/", 404)])
def test_http404_and_permission_denied_are_not_reported(path: str, status: int) -> None:
    """4xx exceptions are Django's answers, not failures: no event, even with the logging integration."""
    transport = _init(default_integrations=True)
    assert status == _client().get(path).status_code
    assert [] == transport.events


def test_a_suspicious_operation_is_not_reported_by_the_integration() -> None:
    """SuspiciousOperation is a 400: no django event (Django's security log, an error, is the logging one)."""
    transport = _init()
    assert 400 == _client().get("/suspicious/").status_code
    assert [] == transport.events

    transport = _init(default_integrations=True)
    _client().get("/suspicious/")
    assert ["django.security.SuspiciousOperation"] == [e.get("logger") for e in transport.events]
    assert all(_exception(e)[2] != "django" for e in transport.events)


def test_a_disallowed_host_and_the_dev_servers_access_log_send_nothing() -> None:
    """A Host not in ALLOWED_HOSTS (a scanner) is a 400 and no event; runserver's '500' log line neither."""
    transport = _init(default_integrations=True)
    assert 400 == _client().get("/host/", HTTP_HOST="evil.example").status_code
    logging.getLogger("django.server").error('"GET /message/1 HTTP/1.1" 500 145')
    assert [] == transport.events


def test_without_the_integration_enabled_django_is_left_alone() -> None:
    """Once patched, Django requests of a client without the integration send nothing and fork nothing."""
    _init()
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, default_integrations=False)
    response = _client().get("/tagged/", {"n": "1"})
    assert b"1" == response.content
    _client().get("/message/1")
    assert [] == transport.events
    sentry_sdk.capture_message("after the requests")
    assert {"request": "1"} == transport.events[0]["tags"]  # no fork: the view's tag stayed here


# -- transaction names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "transaction"),
    [
        ("/message/7", "/message/{id}"),
        ("/api/v1/author/", "/api/{version}/author/"),
        ("/shop/items/blue-hat/", "/shop/items/{slug}/"),
        ("/shop/legacy/2024/", "/shop/legacy/{year}/"),
        ("/cbv/3/", "/cbv/{id}/"),
    ],
)
def test_the_url_style_names_events_after_the_route_pattern(path: str, transaction: str) -> None:
    """transaction_style='url': the matched pattern, includes joined, parameters as {name}; source route."""
    transport = _init()
    _client().get(path)
    (event,) = transport.events
    assert (transaction, {"source": "route"}) == (event["transaction"], event["transaction_info"])


@pytest.mark.parametrize(
    ("path", "transaction"),
    [
        ("/message/7", "djproject.views.message"),
        ("/shop/items/blue-hat/", "djproject.views.item"),
        ("/cbv/3/", "djproject.views.MessageView"),
    ],
)
def test_the_function_name_style_names_events_after_the_view(path: str, transaction: str) -> None:
    """transaction_style='function_name': module and qualname of the view (its class for a CBV)."""
    transport = _init(transaction_style="function_name")
    _client().get(path)
    (event,) = transport.events
    assert (transaction, {"source": "component"}) == (event["transaction"], event["transaction_info"])


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ("message/<int:id>", "/message/{id}"),
        ("<pk>/", "/{pk}/"),
        (r"^api/(?P<version>(v1|v2))/author/$", "/api/{version}/author/"),
        (r"^blog/(?P<year>[0-9]{4})/(?P<slug>[\w-]+)/?$", "/blog/{year}/{slug}/"),
        ("shop/" + r"legacy/(?P<year>[0-9]{4})/$", "/shop/legacy/{year}/"),
        (r"^files/(.*)$", "/files/{var}"),
        (r"^p/(?P<n>[)(]+)\.json$", "/p/{n}.json"),
        (r"^a(?!b)c/$", "/ac/"),
        ("", "/"),
    ],
)
def test_route_patterns_are_formatted_as_sentry_sdk_does(route: str, expected: str) -> None:
    """Converters and named groups become {name}, other groups {var}; anchors and lookarounds go."""
    assert expected == format_route(route)


# -- options ----------------------------------------------------------------------------------------


def test_a_wrong_transaction_style_raises_naming_the_valid_values() -> None:
    """An unknown transaction_style raises ValueError at construction, naming 'url' and 'function_name'."""
    with pytest.raises(ValueError, match="'url', 'function_name'"):
        DjangoIntegration(transaction_style="endpoint")


@pytest.mark.parametrize(
    "option", ["middleware_spans", "signals_spans", "cache_spans", "db_transaction_spans"]
)
def test_the_span_options_must_be_bools(option: str) -> None:
    """The tracing-only span options take True or False; anything else raises TypeError."""
    with pytest.raises(TypeError, match=option):
        DjangoIntegration(**{option: "yes"})


def test_the_options_are_stored_as_sentry_sdk_names_them() -> None:
    """Defaults as in sentry-sdk 2.75 (middleware spans off); given values are kept (methods uppercased)."""
    default = DjangoIntegration()
    assert ("url", False, True, False, False, []) == (
        default.transaction_style,
        default.middleware_spans,
        default.signals_spans,
        default.cache_spans,
        default.db_transaction_spans,
        default.signals_denylist,
    )
    assert "HEAD" not in default.http_methods_to_capture
    given = DjangoIntegration(
        "function_name", False, False, True, True, ("get", "post"), signals_denylist=[signals.request_started]
    )
    assert ("function_name", ("GET", "POST"), [signals.request_started]) == (
        given.transaction_style,
        given.http_methods_to_capture,
        given.signals_denylist,
    )
    with pytest.raises(TypeError, match="signals_denylist"):
        DjangoIntegration(signals_denylist="request_started")


def test_an_old_or_missing_django_does_not_enable(monkeypatch: pytest.MonkeyPatch) -> None:
    """DidNotEnable names the version found and the one required; or that Django is not installed."""
    monkeypatch.setattr(django, "VERSION", (3, 1, 4, "final", 0))
    with pytest.raises(DidNotEnable, match=r"^Django 3\.1\.4 found; 3\.2 or newer is required$"):
        DjangoIntegration.setup_once()
    monkeypatch.setitem(sys.modules, "django", None)
    with pytest.raises(DidNotEnable, match="^Django is not installed$"):
        DjangoIntegration.setup_once()


def test_plain_init_enables_it_when_django_is_imported() -> None:
    """Auto-enabling: init() with no integrations listed enables 'django' in a program that imports it."""
    sentry_sdk.init(transport=CapturingTransport())
    assert "django" in sentry_sdk.get_client().integrations


def test_init_does_not_import_django(run_script: Callable[[str], Any]) -> None:
    """A program that never imports Django does not get it imported by init()."""
    result = run_script("import sys, sentry_sdk\nsentry_sdk.init()\nprint('django' in sys.modules)\n")
    assert (0, "False") == (result.returncode, result.stdout.strip()), result.stderr


# -- per-request isolation --------------------------------------------------------------------------


def test_each_test_client_request_runs_in_its_own_scope() -> None:
    """Tags, user and breadcrumbs of one request are on its events only; startup breadcrumbs are inherited."""
    transport = _init()
    sentry_sdk.add_breadcrumb(message="at startup")
    _client().get("/tagged/", {"n": "1"})
    _client().get("/tagged/", {"n": "2", "fail": "1"})

    (event,) = transport.events
    assert ("2", {"id": "2"}) == (event["tags"]["request"], event["user"])
    assert ["at startup", "in request 2"] == [c["message"] for c in event["breadcrumbs"]["values"]]
    assert "request" not in _tags_outside(transport)


def test_the_production_wsgi_handler_runs_each_request_in_one_scope() -> None:
    """WSGIHandler: the request's scope spans its signals and its response (one fork, not two)."""
    transport = _init()
    captured: list[str] = []

    def finished(**kwargs: Any) -> None:
        captured.append(sentry_sdk.capture_message("request finished") or "")

    signals.request_finished.connect(finished)
    try:
        assert ("200 OK", b"5") == _call_wsgi(_environ("/tagged/", "n=5"))
        assert ("200 OK", b"6") == _call_wsgi(_environ("/tagged/", "n=6"))
    finally:
        signals.request_finished.disconnect(finished)

    # Sent from request_finished (after get_response returned): still the view's scope and request.
    assert [("5", "/tagged/"), ("6", "/tagged/")] == [
        (e["tags"]["request"], e["transaction"]) for e in transport.events
    ]
    assert ["http://testserver/tagged/"] * 2 == [e["request"]["url"] for e in transport.events]
    assert "request" not in _tags_outside(transport)


def test_the_production_wsgi_handler_reports_a_failure_with_the_request() -> None:
    """A failing view through WSGIHandler: one django event with the request, the route and the body."""
    transport = _init()
    body = json.dumps({"order": 7}).encode()
    status, _ = _call_wsgi(_environ("/json/", method="POST", body=body, CONTENT_TYPE="application/json"))
    assert "500 Internal Server Error" == status
    (event,) = transport.events
    assert ("RuntimeError", "json view failed", "django", False) == _exception(event)
    assert ({"order": 7}, "/json/") == (event["request"]["data"], event["transaction"])


# -- the body ---------------------------------------------------------------------------------------


def test_form_data_is_the_parsed_form_and_files_are_named_only() -> None:
    """request.POST becomes the data; an uploaded file is listed by name with a !raw note, never read."""
    transport = _init()
    _client().post("/form/", {"name": "Ada", "tags": ["a", "b"]})
    upload = io.BytesIO(b"file content that must not be sent")
    upload.name = "report.txt"
    _client().post("/upload/", {"title": "T", "attachment": upload})

    form_event, upload_event = transport.events
    assert {"name": "Ada", "tags": ["a", "b"]} == form_event["request"]["data"]
    assert {"title": "T", "attachment": ""} == upload_event["request"]["data"]
    assert RAW == upload_event["_meta"]["request"]["data"]["attachment"]
    assert "file content" not in json.dumps(upload_event)


def test_a_malformed_json_body_is_marked_raw_and_the_view_fails_as_it_would() -> None:
    """Invalid JSON: the view's own JSONDecodeError is the event; the body is left out with a !raw note."""
    transport = _init()
    response = _client().post("/json/", b"{not json", content_type="application/json")
    assert 500 == response.status_code
    (event,) = transport.events
    assert ("JSONDecodeError", "django") == (_exception(event)[0], _exception(event)[2])
    assert ("", RAW) == (event["request"]["data"], event["_meta"]["request"]["data"])


def test_a_body_over_the_limit_is_left_out_unread() -> None:
    """A body longer than max_request_body_size is not read for the event; a !config note says why."""
    transport = _init(max_request_body_size="small")
    _client().post("/fail/", b"x" * 5_000, content_type="text/plain")
    (event,) = transport.events
    assert ("", OVER_LIMIT) == (event["request"]["data"], event["_meta"]["request"]["data"])


class _Generated(io.RawIOBase):
    """A request body of ``size`` bytes made as it is read, never held whole."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.left)
        buffer[:count] = b"a" * count
        self.left -= count
        return count


def test_a_large_streamed_body_is_read_by_the_view_and_left_out_of_the_event() -> None:
    """50 MB streamed through WSGIHandler: the view reads every byte; the event holds none of it."""
    transport = _init()
    size = 50 * 1024 * 1024
    environ = _environ("/stream/", method="POST", CONTENT_TYPE="application/octet-stream")
    environ.update({"wsgi.input": io.BufferedReader(_Generated(size)), "CONTENT_LENGTH": str(size)})
    assert "500 Internal Server Error" == _call_wsgi(environ)[0]
    (event,) = transport.events
    assert f"read {size} bytes" == _exception(event)[1]
    assert ("", OVER_LIMIT) == (event["request"]["data"], event["_meta"]["request"]["data"])


def test_a_body_the_view_streamed_comes_from_what_it_read() -> None:
    """request.read() by the view leaves request.body unusable; the event takes the bytes the view read."""
    transport = _init()
    environ = _environ("/stream/", method="POST", body=b"streamed text", CONTENT_TYPE="text/plain")
    _call_wsgi(environ)
    (event,) = transport.events
    assert ("read 13 bytes", "streamed text") == (_exception(event)[1], event["request"]["data"])


@pytest.mark.parametrize(
    ("kind", "body", "expected"),
    [
        ("application/json", b'{"a": 1}', b'{"a": 1}'),
        ("application/x-www-form-urlencoded", b"a=1&b=2", b"a=1,b=2"),
    ],
)
def test_an_event_sent_before_the_view_reads_its_body_does_not_take_it_away(
    kind: str, body: bytes, expected: bytes
) -> None:
    """capture_message before the view reads: the event has the body, and the view still reads all of it."""
    transport = _init()
    response = _client().post("/capture-then-read/", body, content_type=kind)
    assert (200, expected) == (response.status_code, response.content)
    (event,) = transport.events
    assert (json.loads(body) if "json" in kind else {"a": "1", "b": "2"}) == event["request"]["data"]


def test_a_multipart_body_is_not_parsed_before_the_view_does() -> None:
    """An event mid-view leaves an unparsed upload alone: the view may still set its upload handlers."""
    transport = _init()
    upload = io.BytesIO(b"abc")
    upload.name = "a.txt"
    response = _client().post("/capture-then-read/", {"x": "1", "file": upload})
    assert (200, b"x=1;file") == (response.status_code, response.content)
    (event,) = transport.events
    assert ("", RAW) == (event["request"]["data"], event["_meta"]["request"]["data"])


def test_a_query_string_that_is_not_utf8_is_shown_with_replacement_characters() -> None:
    """Raw 0xFF bytes in the query: Django answers as without the SDK; the event shows U+FFFD."""
    environ = _environ("/fail/", "a=\xff\xfe")
    without = _call_wsgi(dict(environ, **{"wsgi.input": io.BytesIO()}))
    transport = _init()
    assert without == _call_wsgi(environ)
    (event,) = transport.events
    assert "a=\ufffd\ufffd" == event["request"]["query_string"]


# -- PII: cookies, user, ip -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def auth_user() -> Iterator[Any]:
    """A saved django.contrib.auth user (the database is sqlite in memory, migrated once)."""
    from django.contrib.auth.models import User
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    user = User.objects.create_user(username="lovelace", email="lovelace@example.com", password="pw")
    yield user
    user.delete()


def test_with_pii_the_logged_in_user_cookies_and_ip_are_sent(auth_user: Any) -> None:
    """send_default_pii: auth user (id, username, email), ip, cookies; session and CSRF values filtered."""
    transport = _init(send_default_pii=True)
    client = _client()
    client.force_login(auth_user)
    client.cookies["theme"] = "dark"
    client.cookies["csrftoken"] = "csrf-secret"
    client.get("/fail/")

    (event,) = transport.events
    assert {
        "id": str(auth_user.pk),
        "username": "lovelace",
        "email": "lovelace@example.com",
        "ip_address": "127.0.0.1",
    } == (event["user"])
    cookies = event["request"]["cookies"]
    assert ("dark", "[Filtered]", "[Filtered]") == (
        cookies["theme"],
        cookies["sessionid"],
        cookies["csrftoken"],
    )
    assert "127.0.0.1" == event["request"]["env"]["REMOTE_ADDR"]


def test_without_pii_no_user_cookies_or_ip_are_sent(auth_user: Any) -> None:
    """Without send_default_pii: no user, no cookies, no client address; the Cookie header is filtered."""
    transport = _init()
    client = _client()
    client.force_login(auth_user)
    client.get("/fail/")

    (event,) = transport.events
    assert "user" not in event
    assert "cookies" not in event["request"]
    assert "REMOTE_ADDR" not in event["request"]["env"]
    assert "[Filtered]" == event["request"]["headers"]["Cookie"]
    # Not a hex string: event, trace and span ids are random hex and may hold any short hex word.
    assert "lovelace" not in json.dumps(event)


def test_an_anonymous_user_is_not_sent() -> None:
    """An anonymous visitor has no user fields, only the ip (with PII)."""
    transport = _init(send_default_pii=True)
    _client().get("/fail/")
    (event,) = transport.events
    assert {"ip_address": "127.0.0.1"} == event["user"]


def test_the_user_is_loaded_only_when_an_event_is_sent_with_pii(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lazy request.user is not loaded for requests that send nothing, nor without PII; once with it."""
    from django.contrib.auth.models import User

    loads: list[int] = []

    def load() -> Any:
        loads.append(1)
        return User(id=42, username="grace", email="grace@example.com")

    monkeypatch.setattr(views, "USER_LOADER", load)
    _init()
    _client().get("/lazy-user/")
    _client().get("/lazy-user/", {"fail": "1"})
    assert [] == loads

    transport = _init(send_default_pii=True)
    _client().get("/lazy-user/")
    assert [] == loads
    _client().get("/lazy-user/", {"fail": "1"})
    assert [1] == loads
    assert {"id": "42", "username": "grace", "email": "grace@example.com"} == {
        k: v for k, v in transport.events[0]["user"].items() if k != "ip_address"
    }


# -- ASGI -------------------------------------------------------------------------------------------


async def _asgi(
    app: Any,
    path: str,
    query: bytes = b"",
    method: str = "GET",
    body: bytes = b"",
    headers: tuple[Any, ...] = (),
) -> tuple[int, bytes]:
    """One request to an ASGI app, in-process; returns the status and the body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 51000),
        "server": ("testserver", 80),
    }
    incoming = [{"type": "http.request", "body": body, "more_body": False}]
    done = asyncio.Event()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    done.set()
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_concurrent_async_requests_each_carry_only_their_own_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    """asyncio.gather of requests to an async view (sync_to_async inside): each event has only its data."""
    transport = _init(send_default_pii=True)
    count = 5

    async def main() -> list[tuple[int, bytes]]:
        monkeypatch.setattr(views, "BARRIER", asyncio.Barrier(count))
        app = ASGIHandler()
        return await asyncio.gather(*(_asgi(app, "/async/fail/", f"n={n}".encode()) for n in range(count)))

    responses = asyncio.run(main())
    assert [500] * count == [status for status, _ in responses]
    seen = sorted(
        (_exception(e)[1], e["tags"]["request"], e["user"]["id"], e["contexts"]["thread"]["n"])
        for e in transport.events
    )
    assert [(f"async request {n} failed", str(n), str(n), str(n)) for n in range(count)] == seen
    event = transport.events[0]
    assert ("django", "/async/fail/", "route") == (
        _exception(event)[2],
        event["transaction"],
        event["transaction_info"]["source"],
    )
    assert "http://testserver/async/fail/" == event["request"]["url"]
    assert "request" not in _tags_outside(transport)


def test_a_sync_view_under_asgi_is_reported_once_with_the_request() -> None:
    """A sync view run by ASGIHandler in its thread: one event (logging on), the request's tag and body."""
    transport = _init(default_integrations=True)

    async def main() -> list[tuple[int, bytes]]:
        app = ASGIHandler()
        return [
            await _asgi(app, "/sync/fail/", b"n=1"),
            await _asgi(
                app,
                "/form/",
                method="POST",
                body=b"a=1",
                headers=((b"content-type", b"application/x-www-form-urlencoded"),),
            ),
        ]

    assert [500, 500] == [status for status, _ in asyncio.run(main())]
    sync_event, form_event = transport.events
    assert ("sync view under ASGI failed", "django", "1") == (
        _exception(sync_event)[1],
        _exception(sync_event)[2],
        sync_event["tags"]["request"],
    )
    assert ({"a": "1"}, "/form/") == (form_event["request"]["data"], form_event["transaction"])


def test_an_event_sent_inside_an_async_view_has_its_request_under_asgi_and_the_async_client() -> None:
    """capture_message in an async view: the event has the request and route (ASGIHandler, AsyncClient)."""
    transport = _init()

    async def main() -> list[int]:
        app = ASGIHandler()
        first = await asyncio.gather(_asgi(app, "/async/ok/", b"n=1"), _asgi(app, "/async/ok/", b"n=2"))
        response = await AsyncClient().get("/async/ok/", {"n": "3"})
        return [status for status, _ in first] + [response.status_code]

    assert [200, 200, 200] == asyncio.run(main())
    seen = sorted(
        (e["tags"]["request"], e["request"]["query_string"], e["request"]["url"], e["transaction"])
        for e in transport.events
    )
    expected = [(n, f"n={n}", "http://testserver/async/ok/", "/async/ok/") for n in ("1", "2", "3")]
    assert expected == seen


def test_the_async_test_client_gets_request_data_and_isolation() -> None:
    """AsyncClient goes through get_response_async: the same request data and scope as production."""
    transport = _init()

    async def main() -> int:
        response = await AsyncClient(raise_request_exception=False).get("/async/fail/", {"n": "9"})
        return response.status_code

    assert 500 == asyncio.run(main())
    (event,) = transport.events
    assert ("async request 9 failed", "9") == (_exception(event)[1], event["tags"]["request"])
    assert ("/async/fail/", "n=9") == (event["transaction"], event["request"]["query_string"])
    assert "request" not in _tags_outside(transport)


# -- a real server, management commands -------------------------------------------------------------


class _ThreadedServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_failing_view_behind_a_threaded_wsgiref_server_on_loopback() -> None:
    """Django's WSGI app under a real threaded server: the client gets its 500, the event its request."""
    transport = _init()
    server = make_server(
        "127.0.0.1", 0, WSGIHandler(), server_class=_ThreadedServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request(
            "POST",
            "/api/v2/author/?page=2",
            body=b"a=1",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = connection.getresponse()
        assert 500 == response.status
        response.read()
        connection.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

    (event,) = transport.events
    assert ("RuntimeError", "author of v2 failed", "django", False) == _exception(event)
    request = event["request"]
    assert (f"http://127.0.0.1:{port}/api/v2/author/", "POST", "page=2", {"a": "1"}) == (
        request["url"],
        request["method"],
        request["query_string"],
        request["data"],
    )
    assert ("/api/{version}/author/", "route") == (event["transaction"], event["transaction_info"]["source"])


def test_a_failing_management_command_is_reported_through_the_excepthook(
    ingest: IngestServer, run_script: Callable[[str], Any]
) -> None:
    """manage.py explode: the exception escapes Django to sys.excepthook, which sends it (auto-enabled)."""
    result = run_script(
        "import sys\n"
        f"sys.path.insert(0, {str(_PROJECT)!r})\n"
        "import sentry_sdk\n"
        f"sentry_sdk.init(dsn={ingest.dsn!r})\n"
        "import django\n"
        "from django.conf import settings\n"
        "import djproject.settings as s\n"
        "settings.configure(**{k: getattr(s, k) for k in dir(s) if k.isupper()})\n"
        "from django.core.management import execute_from_command_line\n"
        "print('django' in sentry_sdk.get_client().integrations, flush=True)\n"
        "execute_from_command_line(['manage.py', 'explode'])\n"
    )
    assert (1, "True") == (result.returncode, result.stdout.strip()), result.stderr
    assert "RuntimeError: the explode command failed on purpose" in result.stderr
    (event,) = ingest.wait_for_events(1)
    assert ("RuntimeError", "the explode command failed on purpose", "excepthook", False) == _exception(event)
