"""Flask: failed requests of every Flask app are reported once, with their request, route and user."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
import tracemalloc
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from subprocess import CompletedProcess
from typing import Any

import pytest
from frameworks import require

flask = require("flask")
flask_login = require("flask_login")

from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

import sentry_sdk  # noqa: E402
from sentry_sdk.integrations.flask import FlaskIntegration  # noqa: E402
from sentry_sdk.testing import CapturingTransport  # noqa: E402

OVER_LIMIT = {"": {"rem": [["!config", "x"]]}}
RAW = {"": {"rem": [["!raw", "x"]]}}


def _init(**options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    options.setdefault("integrations", [FlaskIntegration()])
    options.setdefault("default_integrations", False)
    sentry_sdk.init(transport=transport, **options)
    return transport


def _app() -> Any:
    """A small app: a route with a converter, one that fails, one in a blueprint."""
    app = flask.Flask("flask_test_app")

    @app.route("/hello")
    def hello() -> str:
        return "hello"

    @app.route("/message/<int:message_id>", methods=["GET", "POST"])
    def message(message_id: int) -> str:
        raise ZeroDivisionError(f"message {message_id} failed")

    blueprint = flask.Blueprint("bp", "flask_test_blueprint")

    @blueprint.route("/view")
    def view() -> str:
        raise KeyError("in a blueprint")

    app.register_blueprint(blueprint, url_prefix="/bp")
    return app


def _only(transport: CapturingTransport) -> dict[str, Any]:
    (event,) = transport.events
    return event


def _mechanism(event: dict[str, Any]) -> tuple[str, bool]:
    mechanism = event["exception"]["values"][-1]["mechanism"]
    return mechanism["type"], mechanism["handled"]


# -- reporting ---------------------------------------------------------------------------------


def test_a_failing_view_is_one_unhandled_event_with_the_request_and_the_app_still_answers_500() -> None:
    """Mechanism flask, handled false, the request's url/method/query/headers; the response is the 500."""
    transport = _init(default_integrations=True)
    client = _app().test_client()

    response = client.get("/message/7?page=2", headers={"Authorization": "Bearer secret", "X-Trace": "on"})

    assert 500 == response.status_code
    event = _only(transport)
    assert ("flask", False) == _mechanism(event)
    assert ("ZeroDivisionError", "message 7 failed") == (
        event["exception"]["values"][-1]["type"],
        event["exception"]["values"][-1]["value"],
    )
    assert "error" == event["level"]
    request = event["request"]
    assert ("http://localhost/message/7", "GET", "page=2") == (
        request["url"],
        request["method"],
        request["query_string"],
    )
    assert "[Filtered]" == request["headers"]["Authorization"]
    assert "on" == request["headers"]["X-Trace"]
    assert {"SERVER_NAME": "localhost", "SERVER_PORT": "80"} == request["env"]
    assert ("message", {"source": "component"}) == (event["transaction"], event["transaction_info"])


def test_flasks_own_exception_on_log_does_not_add_a_second_event(caplog: pytest.LogCaptureFixture) -> None:
    """With the logging integration on, Flask still logs "Exception on ...", and Sentry gets one event."""
    transport = _init(default_integrations=True)
    client = _app().test_client()

    with caplog.at_level(logging.ERROR):
        assert 500 == client.get("/message/1").status_code

    assert ["Exception on /message/1 [GET]"] == [r.getMessage() for r in caplog.records]
    assert ("flask", False) == _mechanism(_only(transport))


@pytest.mark.parametrize("default_integrations", [False, True])
def test_with_propagate_exceptions_the_exception_still_propagates_and_is_reported_once(
    default_integrations: bool,
) -> None:
    """Testing mode re-raises the view's exception to the caller as without the SDK; one event either way."""
    transport = _init(default_integrations=default_integrations)
    app = _app()
    app.testing = True

    with pytest.raises(ZeroDivisionError, match="message 3 failed"):
        app.test_client().get("/message/3")

    assert ("flask", False) == _mechanism(_only(transport))


def test_http_exceptions_below_500_are_not_reported_but_trapped_5xx_ones_are() -> None:
    """abort(404)/abort(403) answer as usual and send nothing, even trapped; a trapped 503 is reported."""
    transport = _init()
    app = _app()
    app.config["TRAP_HTTP_EXCEPTIONS"] = True  # lets HTTP exceptions reach got_request_exception

    @app.route("/abort/<int:code>")
    def aborting(code: int) -> str:
        flask.abort(code)

    client = app.test_client()
    assert [500, 500, 500] == [client.get(f"/abort/{code}").status_code for code in (404, 403, 503)]
    assert ["ServiceUnavailable"] == [e["exception"]["values"][-1]["type"] for e in transport.events]

    app.config["TRAP_HTTP_EXCEPTIONS"] = False
    assert [404, 403] == [client.get(f"/abort/{code}").status_code for code in (404, 403)]
    assert 1 == len(transport.events)


def test_errors_in_request_hooks_and_streamed_responses_are_reported_as_flask() -> None:
    """A before_request hook that raises and a streamed response that fails mid-way: one event each."""
    transport = _init()
    app = _app()

    @app.before_request
    def check() -> None:
        if flask.request.path == "/hello" and flask.request.args.get("hook"):
            raise PermissionError("hook refused")

    @app.route("/stream")
    def stream() -> Any:
        def chunks() -> Iterator[str]:
            yield "first"
            raise ConnectionAbortedError("stream broke")

        return flask.Response(chunks())

    client = app.test_client()
    assert 500 == client.get("/hello?hook=1").status_code
    with pytest.raises(ConnectionAbortedError):
        client.get("/stream", buffered=True)

    assert [("PermissionError", "hello"), ("ConnectionAbortedError", "stream")] == [
        (e["exception"]["values"][-1]["type"], e["transaction"]) for e in transport.events
    ]
    assert [("flask", False)] * 2 == [_mechanism(e) for e in transport.events]


# -- naming ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "path", "expected"),
    [
        ("endpoint", "/message/5", ("message", "component")),
        ("url", "/message/5", ("/message/<int:message_id>", "route")),
        ("endpoint", "/bp/view", ("bp.view", "component")),
        ("url", "/bp/view", ("/bp/view", "route")),
    ],
)
def test_events_are_named_after_the_route_per_transaction_style(
    style: str, path: str, expected: tuple[str, str]
) -> None:
    """endpoint: the view's endpoint ("bp.view" in a blueprint); url: the URL rule with its converters."""
    transport = _init(integrations=[FlaskIntegration(transaction_style=style)])

    _app().test_client().get(path)

    event = _only(transport)
    assert expected == (event["transaction"], event["transaction_info"]["source"])


def test_a_request_that_matches_no_route_is_named_after_its_path() -> None:
    """No URL rule (a 404 whose handler fails): the event is named after the path, source url."""
    transport = _init()
    app = _app()

    @app.errorhandler(404)
    def broken_handler(error: Exception) -> str:
        raise RuntimeError("the 404 page is broken")

    app.test_client().get("/nowhere")

    event = _only(transport)
    assert ("/nowhere", {"source": "url"}) == (event["transaction"], event["transaction_info"])


def test_inside_a_sentry_wsgi_middleware_the_event_is_still_named_after_the_route() -> None:
    """``SentryWsgiMiddleware(app)`` runs the request; Flask's readers still name and fill it."""
    from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware

    transport = _init()
    app = _app()
    app.wsgi_app = SentryWsgiMiddleware(app.wsgi_app)  # inside Flask's own runner: nested
    outer = SentryWsgiMiddleware(app)  # around the app: the middleware's request, Flask's readers

    with app.test_client() as client:
        assert 500 == client.get("/message/3").status_code
    status: list[str] = []
    body = outer(
        {**_plain_environ("/bp/view"), "wsgi.input": io.BytesIO(b"")},
        lambda s, h, e=None: status.append(s),
    )
    b"".join(body)
    body.close()  # type: ignore[attr-defined]

    assert ["500 INTERNAL SERVER ERROR"] == status
    assert [("message", "component"), ("bp.view", "component")] == [
        (e["transaction"], e["transaction_info"]["source"]) for e in transport.events
    ]


def _plain_environ(path: str) -> dict[str, Any]:
    from werkzeug.test import EnvironBuilder

    return dict(EnvironBuilder(path=path).get_environ())


# -- the response as the server gets it ----------------------------------------------------------


def test_a_list_bodied_response_goes_to_the_server_as_werkzeug_made_it() -> None:
    """No program code runs while it is iterated: the server gets werkzeug's own iterable."""
    from werkzeug.wsgi import ClosingIterator

    _init()
    app = _app()
    response = app(_plain_environ("/hello"), lambda s, h, e=None: None)

    assert (ClosingIterator, b"hello") == (type(response), b"".join(response))
    response.close()  # type: ignore[attr-defined]


def test_call_on_close_callbacks_and_streamed_bodies_run_in_the_requests_scope() -> None:
    """What the program runs while the server iterates or closes sees the request's own scope."""
    _init()
    app = _app()
    seen: list[tuple[str, Any]] = []

    @app.route("/closing")
    def closing() -> Any:
        sentry_sdk.set_tag("request", "closing")
        response = flask.make_response("bye")
        response.call_on_close(lambda: seen.append(("closed", sentry_sdk.get_isolation_scope()._tags)))
        return response

    @app.route("/streamed")
    def streamed() -> Any:
        sentry_sdk.set_tag("request", "streamed")

        def chunks() -> Iterator[str]:
            seen.append(("chunk", sentry_sdk.get_isolation_scope()._tags))
            yield "data"

        return flask.Response(chunks())

    for path in ("/closing", "/streamed"):
        response = app(_plain_environ(path), lambda s, h, e=None: None)
        b"".join(response)
        response.close()  # type: ignore[attr-defined]

    assert [("closed", {"request": "closing"}), ("chunk", {"request": "streamed"})] == [
        (what, dict(tags)) for what, tags in seen
    ]
    assert {} == dict(sentry_sdk.get_isolation_scope()._tags)


def test_options_are_checked_at_construction() -> None:
    """A wrong transaction_style names the valid ones; failed_request_status_codes is not a Flask option."""
    with pytest.raises(ValueError, match="'endpoint', 'url'"):
        FlaskIntegration(transaction_style="nope")
    with pytest.raises(TypeError):
        FlaskIntegration(failed_request_status_codes={500})  # type: ignore[call-arg]
    methods = FlaskIntegration(http_methods_to_capture=("get", "post")).http_methods_to_capture
    assert ("GET", "POST") == methods
    assert "endpoint" == FlaskIntegration().transaction_style


# -- isolation ---------------------------------------------------------------------------------


def test_what_one_request_sets_is_not_on_the_next_requests_event() -> None:
    """The reported bug: set_user/set_tag in a request that succeeds must not reach the next one's error."""
    transport = _init()
    app = _app()

    @app.route("/login")
    def login() -> str:
        sentry_sdk.set_user({"id": "alice"})
        sentry_sdk.set_tag("step", "login")
        sentry_sdk.set_context("cart", {"items": 3})
        return "ok"

    client = app.test_client()
    client.get("/login")
    client.get("/message/2")

    event = _only(transport)
    assert (None, None, None) == (
        event.get("user"),
        event.get("tags"),
        (event.get("contexts") or {}).get("cart"),
    )


def test_startup_breadcrumbs_are_inherited_and_a_requests_own_do_not_pile_up() -> None:
    """A breadcrumb from before the first request is on every request's event; a request's own only on its."""
    transport = _init()
    sentry_sdk.add_breadcrumb(message="app started")
    app = _app()

    @app.route("/crumb/<int:n>")
    def crumb(n: int) -> str:
        sentry_sdk.add_breadcrumb(message=f"request {n}")
        if n == 2:
            raise ValueError("second request fails")
        return "ok"

    client = app.test_client()
    client.get("/crumb/1")
    client.get("/crumb/2")
    client.get("/message/3")

    assert [["app started", "request 2"], ["app started"]] == [
        [c["message"] for c in e["breadcrumbs"]["values"]] for e in transport.events
    ]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


def test_concurrent_requests_through_a_threaded_werkzeug_server_each_report_only_their_own_data() -> None:
    """8 requests in flight at once on a real threaded server: each event has its own tag, user, crumb."""
    transport = _init(default_integrations=True)
    count = 8
    barrier = threading.Barrier(count)
    app = _app()

    @app.route("/work/<int:n>")
    def work(n: int) -> str:
        sentry_sdk.set_tag("request", str(n))
        sentry_sdk.set_user({"id": str(n)})
        sentry_sdk.add_breadcrumb(category="work", message=f"working on {n}")
        barrier.wait(timeout=10)  # all 8 are inside a view at the same time
        raise LookupError(f"request {n} failed")

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    serving = threading.Thread(target=server.serve_forever)
    serving.start()
    url = f"http://127.0.0.1:{server.server_port}/work/"

    def get(n: int) -> int:
        try:
            urllib.request.urlopen(urllib.request.Request(url + str(n), headers={"X-Client": str(n)}))
        except urllib.error.HTTPError as error:
            return error.code
        return 200

    try:
        with ThreadPoolExecutor(max_workers=count) as pool:
            statuses = list(pool.map(get, range(count)))
    finally:
        server.shutdown()
        serving.join()
        server.server_close()

    assert [500] * count == statuses
    seen = {}
    for event in transport.events:
        n = event["tags"]["request"]
        crumbs = [c["message"] for c in event["breadcrumbs"]["values"] if c.get("category") == "work"]
        request = event["request"]
        seen[n] = (
            event["exception"]["values"][-1]["value"],
            event["user"],
            crumbs,
            request["url"],
            request["method"],
            request["headers"]["X-Client"],
            event["transaction"],
            _mechanism(event),
        )
    expected = {
        str(n): (
            f"request {n} failed",
            {"id": str(n)},
            [f"working on {n}"],
            f"http://127.0.0.1:{server.server_port}/work/{n}",
            "GET",
            str(n),
            "work",
            ("flask", False),
        )
        for n in range(count)
    }
    assert expected == seen


# -- request data ------------------------------------------------------------------------------


def _failing_app() -> Any:
    app = flask.Flask("flask_body_app")

    @app.route("/fail", methods=["GET", "POST", "PUT"])
    def fail() -> str:
        raise RuntimeError("body test")

    @app.route("/read-json-then-fail", methods=["POST"])
    def read_json_then_fail() -> str:
        flask.request.get_json()
        raise RuntimeError("read, then failed")

    @app.route("/read-stream-then-fail", methods=["POST"])
    def read_stream_then_fail() -> str:
        flask.request.stream.read()
        raise RuntimeError("read the stream, then failed")

    @app.route("/form-then-fail", methods=["POST"])
    def form_then_fail() -> str:
        assert "x" == flask.request.form["name"]
        raise RuntimeError("read the form, then failed")

    return app


@pytest.mark.parametrize("path", ["/fail", "/read-json-then-fail", "/read-stream-then-fail"])
def test_a_json_body_is_parsed_whether_or_not_the_view_read_it(path: str) -> None:
    """request.data is the parsed JSON, read through the request layer or as the view read it."""
    transport = _init()

    _failing_app().test_client().post(path, json={"order": 7, "items": ["a", "b"]})

    assert {"order": 7, "items": ["a", "b"]} == _only(transport)["request"]["data"]


@pytest.mark.parametrize("path", ["/fail", "/form-then-fail"])
def test_a_form_body_is_a_dict(path: str) -> None:
    """A urlencoded form is Flask's parsed request.form, whether or not the view read it first."""
    transport = _init()

    _failing_app().test_client().post(path, data={"name": "x", "size": "L"})

    assert {"name": "x", "size": "L"} == _only(transport)["request"]["data"]


def test_uploaded_files_are_listed_by_name_and_never_read_into_the_event() -> None:
    """multipart/form-data: fields as a dict, a file by its field name only, its contents nowhere."""
    transport = _init()

    _failing_app().test_client().post(
        "/fail", data={"name": "x", "upload": (io.BytesIO(b"TOP SECRET FILE CONTENT"), "notes.txt")}
    )

    event = _only(transport)
    assert {"name": "x", "upload": ""} == event["request"]["data"]
    assert RAW == event["_meta"]["request"]["data"]["upload"]
    assert "TOP SECRET FILE CONTENT" not in json.dumps(event)


def test_a_body_over_max_request_body_size_is_left_out_with_the_config_note() -> None:
    """max_request_body_size="small" (1,000 bytes): a 2,000-byte JSON body is left out, _meta says why."""
    transport = _init(max_request_body_size="small")

    _failing_app().test_client().post("/fail", json={"blob": "x" * 2_000})

    event = _only(transport)
    assert "" == event["request"]["data"]
    assert {"request": {"data": OVER_LIMIT}} == {"request": {"data": event["_meta"]["request"]["data"]}}


def test_the_view_still_reads_the_whole_body_after_an_event_was_sent_during_the_request() -> None:
    """An event sent before the view reads its body (which the SDK then reads) leaves the body whole."""
    transport = _init()
    app = flask.Flask("flask_reread_app")

    @app.route("/echo/<kind>", methods=["POST"])
    def echo(kind: str) -> Any:
        sentry_sdk.capture_message("before reading")
        if kind == "stream":
            return flask.request.stream.read()
        if kind == "json":
            return flask.jsonify(flask.request.get_json())
        return flask.jsonify(flask.request.form.to_dict())

    client = app.test_client()
    payload = {"a": 1, "b": [1, 2]}
    assert b'{"a": 1, "b": [1, 2]}' == client.post("/echo/stream", data=json.dumps(payload)).data
    assert payload == client.post("/echo/json", json=payload).get_json()
    assert {"f": "1"} == client.post("/echo/form", data={"f": "1"}).get_json()

    assert ['{"a": 1, "b": [1, 2]}', payload, {"f": "1"}] == [e["request"]["data"] for e in transport.events]


def _login_app() -> Any:
    app = _app()
    app.secret_key = "test"
    manager = flask_login.LoginManager(app)

    class User(flask_login.UserMixin):  # type: ignore[misc]
        def __init__(self, user_id: str) -> None:
            self.id = user_id

    @manager.request_loader
    def load(request: Any) -> User | None:
        user_id = request.headers.get("X-User")
        return User(user_id) if user_id else None

    return app


def test_without_send_default_pii_no_cookies_no_ip_and_no_flask_login_user() -> None:
    """By default the Cookie header value is filtered, no cookies, no user.ip_address, no Flask-Login id."""
    transport = _init()
    client = _login_app().test_client()
    client.set_cookie("session_id", "abc")

    client.get("/message/1", headers={"X-User": "42"})

    event = _only(transport)
    assert "[Filtered]" == event["request"]["headers"]["Cookie"]
    assert "cookies" not in event["request"]
    assert "REMOTE_ADDR" not in event["request"]["env"]
    assert "user" not in event


def test_with_send_default_pii_cookies_ip_and_the_flask_login_user_are_sent() -> None:
    """send_default_pii=True: parsed cookies, the client's address, and the logged-in user's id."""
    transport = _init(send_default_pii=True)
    client = _login_app().test_client()
    client.set_cookie("session_id", "abc")

    client.get("/message/1", headers={"X-User": "42"})
    client.get("/message/2")  # anonymous

    logged_in, anonymous = transport.events
    assert {"session_id": "abc"} == logged_in["request"]["cookies"]
    assert "[Filtered]" == logged_in["request"]["headers"]["Cookie"]
    assert "127.0.0.1" == logged_in["request"]["env"]["REMOTE_ADDR"]
    assert {"id": "42", "ip_address": "127.0.0.1"} == logged_in["user"]
    assert {"ip_address": "127.0.0.1"} == anonymous["user"]


def test_the_flask_login_user_comes_only_from_a_flask_login_the_program_imported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With flask_login not in sys.modules the SDK does not look for a user (and never imports it)."""
    transport = _init(send_default_pii=True)
    client = _login_app().test_client()
    monkeypatch.delitem(sys.modules, "flask_login")

    client.get("/message/1", headers={"X-User": "42"})

    assert {"ip_address": "127.0.0.1"} == _only(transport)["user"]
    assert "flask_login" not in sys.modules


def test_a_request_that_sends_no_event_reads_no_body_and_loads_no_user() -> None:
    """The per-request work is attribute writes: the body stays unread and the user loader uncalled."""
    _init(send_default_pii=True)
    app = _login_app()
    loads: list[str] = []
    app.login_manager.request_loader(lambda request: loads.append("loaded"))
    reads: list[int] = []

    class Recording(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            reads.append(-1 if size is None else size)
            return super().read(size)

    @app.route("/accept", methods=["POST"])
    def accept() -> str:
        return "accepted"

    response = app.test_client().post(
        "/accept", input_stream=Recording(b'{"a": 1}'), content_length=8, content_type="application/json"
    )

    assert (b"accepted", [], []) == (response.data, reads, loads)


# -- bad input ---------------------------------------------------------------------------------


def test_malformed_json_is_marked_raw_and_a_view_reading_it_gets_flasks_own_400() -> None:
    """The failing view's event is well-formed with data marked !raw; the reading view answers 400 as ever."""
    body = b'{"unterminated": '
    app = _failing_app()

    @app.route("/parse", methods=["POST"])
    def parse() -> Any:
        return flask.jsonify(flask.request.get_json())

    client = app.test_client()
    without_sdk = client.post("/parse", data=body, content_type="application/json")  # before init
    transport = _init()
    with_sdk = client.post("/parse", data=body, content_type="application/json")
    assert (400, without_sdk.data) == (with_sdk.status_code, with_sdk.data)
    assert [] == transport.events

    client.post("/fail", data=body, content_type="application/json")
    event = _only(transport)
    assert "" == event["request"]["data"]
    assert RAW == event["_meta"]["request"]["data"]


def test_a_body_flask_refuses_to_parse_is_marked_raw_and_the_event_still_sent() -> None:
    """A form over the app's MAX_CONTENT_LENGTH, which werkzeug refuses: data marked !raw, event sent."""
    transport = _init()
    app = _failing_app()
    app.config["MAX_CONTENT_LENGTH"] = 10

    assert 500 == app.test_client().post("/fail", data={"field": "x" * 100}).status_code

    event = _only(transport)
    assert ("", RAW) == (event["request"]["data"], event["_meta"]["request"]["data"])


def test_non_utf8_query_string_and_header_bytes_give_a_well_formed_event() -> None:
    """Bytes that are not UTF-8 in the query and a header are shown with replacement characters."""
    transport = _init()

    _app().test_client().get(
        "/message/1",
        environ_overrides={"QUERY_STRING": b"q=\xff\xfe&ok=1".decode("latin-1")},
        headers={"X-Odd": b"caf\xe9 \xff".decode("latin-1")},
    )

    request = _only(transport)["request"]
    assert "q=\ufffd\ufffd&ok=1" == request["query_string"]
    assert "caf\ufffd \ufffd" == request["headers"]["X-Odd"]


class _Zeros(io.RawIOBase):
    """``size`` zero bytes, generated as they are read (seekable, as werkzeug's test client asks)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, min(self.size, base + offset))
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.size - self.position)
        buffer[:count] = bytes(count)
        self.position += count
        return count


_UPLOAD = 50 * 1024 * 1024


def test_a_50_mb_upload_streamed_in_chunks_is_read_whole_by_the_view_and_never_held_by_the_sdk() -> None:
    """The view counts every byte of a 50 MB upload, then fails: the event leaves the body out (!config)."""
    transport = _init()
    app = flask.Flask("flask_upload_app")
    counted: list[int] = []

    @app.route("/upload/<outcome>", methods=["PUT"])
    def upload(outcome: str) -> str:
        total = 0
        while chunk := flask.request.stream.read(1024 * 1024):
            total += len(chunk)
        counted.append(total)
        if outcome == "fail":
            raise OverflowError("too much")
        return str(total)

    client = app.test_client()

    def put(outcome: str) -> Any:
        return client.put(
            f"/upload/{outcome}",
            input_stream=_Zeros(_UPLOAD),
            content_length=_UPLOAD,
            content_type="application/octet-stream",
        )

    tracemalloc.start()
    try:
        ok = put("ok")
        failed = put("fail")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (str(_UPLOAD).encode(), 500, [_UPLOAD, _UPLOAD]) == (ok.data, failed.status_code, counted)
    assert peak < 8 * 1024 * 1024  # chunks of 1 MB went through; the body itself was never held
    event = _only(transport)
    assert "" == event["request"]["data"]
    assert OVER_LIMIT == event["_meta"]["request"]["data"]
    assert len(json.dumps(event)) < 100_000


# -- enabling ----------------------------------------------------------------------------------


@pytest.mark.parametrize("app_first", [True, False])
def test_listing_the_integration_works_set_up_before_or_after_the_app_exists(app_first: bool) -> None:
    """An app created before init and one created after are both covered (the class is patched)."""
    app = _app() if app_first else None
    transport = _init()
    app = app or _app()

    app.test_client().get("/message/9")

    assert ("flask", False) == _mechanism(_only(transport))


def test_without_auto_enabling_or_listing_the_failure_comes_only_through_flasks_log() -> None:
    """auto_enabling_integrations=False: no Flask event, no request; the logging integration's one remains."""
    _init()  # the integration is set up in this process, as after an earlier init
    transport = _init(integrations=[], default_integrations=True, auto_enabling_integrations=False)

    assert 500 == _app().test_client().get("/message/4").status_code

    event = _only(transport)
    assert "flask" not in sentry_sdk.get_client().integrations
    assert (("logging", True), False) == (_mechanism(event), "request" in event)


def test_plain_init_enables_the_integration_when_the_program_imported_flask() -> None:
    """init() with no integrations listed sets the Flask integration up, and it reports."""
    transport = _init(integrations=[], default_integrations=True)

    assert "flask" in sentry_sdk.get_client().integrations
    _app().test_client().get("/message/1")
    assert ("flask", False) == _mechanism(_only(transport))


_FRESH = """
import json, sys
import sentry_sdk
from sentry_sdk.testing import CapturingTransport

transport = CapturingTransport()
sentry_sdk.init(transport=transport)
imported_by_init = "flask" in sys.modules
import flask
enabled = "flask" in sentry_sdk.get_client().integrations
app = flask.Flask("fresh")

@app.route("/")
def boom():
    raise ValueError("fresh")

status = app.test_client().get("/").status_code
print(json.dumps({
    "imported_by_init": imported_by_init,
    "enabled": enabled,
    "status": status,
    "mechanisms": [e["exception"]["values"][-1]["mechanism"]["type"] for e in transport.events],
    "flask_login_imported": "flask_login" in sys.modules,
}))
"""


def test_init_imports_no_flask_and_importing_flask_afterwards_enables_the_integration(
    run_script: Callable[[str], CompletedProcess[str]],
) -> None:
    """A fresh interpreter: init leaves flask unimported; the program's import enables it; one flask event."""
    result = run_script(_FRESH)

    assert 0 == result.returncode, result.stderr
    expected = {
        "imported_by_init": False,
        "enabled": True,
        "status": 500,
        "mechanisms": ["flask"],
        "flask_login_imported": False,
    }
    assert expected == json.loads(result.stdout)


_TOO_OLD = """
import importlib.metadata, json
real = importlib.metadata.version
importlib.metadata.version = lambda name: "1.0.4" if name == "flask" else real(name)
import flask
import sentry_sdk
from sentry_sdk.integrations import DidNotEnable
from sentry_sdk.integrations.flask import FlaskIntegration

sentry_sdk.init()
auto = "flask" in sentry_sdk.get_client().integrations
try:
    sentry_sdk.init(integrations=[FlaskIntegration()])
    listed = None
except DidNotEnable as exc:
    listed = str(exc)
print(json.dumps({"auto": auto, "listed": listed}))
"""

_MISSING = """
import json, sys
sys.modules["flask"] = None  # not installed
from sentry_sdk.integrations import DidNotEnable
from sentry_sdk.integrations.flask import FlaskIntegration
import sentry_sdk

try:
    sentry_sdk.init(integrations=[FlaskIntegration()])
    listed = None
except DidNotEnable as exc:
    listed = str(exc)
print(json.dumps({"listed": listed}))
"""


def test_a_flask_older_than_1_1_is_skipped_when_auto_enabled_and_refused_when_listed(
    run_script: Callable[[str], CompletedProcess[str]],
) -> None:
    """Flask 1.0.4: auto-enabling skips it silently; listing it raises DidNotEnable naming the version."""
    result = run_script(_TOO_OLD)

    assert 0 == result.returncode, result.stderr
    expected = {"auto": False, "listed": "Flask 1.0.4 found; 1.1 or newer is required"}
    assert expected == json.loads(result.stdout)


def test_a_missing_flask_is_refused_when_listed(run_script: Callable[[str], CompletedProcess[str]]) -> None:
    """Listing the integration without Flask installed raises DidNotEnable at init; importing ours is fine."""
    result = run_script(_MISSING)

    assert 0 == result.returncode, result.stderr
    assert {"listed": "Flask is not installed"} == json.loads(result.stdout)
