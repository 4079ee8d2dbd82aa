"""The spans of a traced Django request: middleware, the view, templates, signals, the cache, commits."""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from frameworks import require

require("django")
sys.path.insert(0, str(Path(__file__).resolve().parent))  # djsetup, whatever pytest's import mode
import djsetup  # noqa: E402, F401  (configures Django with djproject/)

# isort: split

from django.conf import settings  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.dispatch import Signal  # noqa: E402
from django.test import AsyncClient, Client, override_settings  # noqa: E402
from djproject import span_views  # noqa: E402

import sentry_sdk  # noqa: E402
from sentry_sdk.integrations.django import DjangoIntegration  # noqa: E402
from sentry_sdk.testing import CapturingTransport  # noqa: E402

TRANSACTION = "<transaction>"
SESSION = "django.contrib.sessions.middleware.SessionMiddleware.__call__"
AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware.__call__"
FAILING = "djproject.middleware.failing_middleware.__call__"
HOOK = "djproject.span_middleware.HookMiddleware"
# The project's middleware, and the one with every hook innermost.
HOOKED = override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, HOOK])
MIDDLEWARE_SPANS = [
    ("middleware.django", SESSION, TRANSACTION),
    ("middleware.django", AUTH, SESSION),
    ("middleware.django", FAILING, AUTH),
]


def _init(integration: DjangoIntegration | None = None, **options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    options.setdefault("default_integrations", False)
    options.setdefault("traces_sample_rate", 1.0)
    integration = integration or DjangoIntegration(middleware_spans=True)
    sentry_sdk.init(transport=transport, integrations=[integration], **options)
    return transport


def _transaction(transport: CapturingTransport) -> dict[str, Any]:
    (transaction,) = [event for event in transport.events if event.get("type") == "transaction"]
    return transaction


def _tree(transaction: dict[str, Any], *ops: str) -> list[tuple[str, str, str]]:
    """``(op, description, the parent's description)`` of the spans (of ``ops``, if given), sorted."""
    names = {transaction["contexts"]["trace"]["span_id"]: TRANSACTION}
    names.update({span["span_id"]: span["description"] for span in transaction["spans"]})
    return sorted(
        (span["op"], span["description"], names[span["parent_span_id"]])
        for span in transaction["spans"]
        if not ops or span["op"] in ops
    )


def _span(transaction: dict[str, Any], description: str) -> dict[str, Any]:
    (span,) = [span for span in transaction["spans"] if span["description"] == description]
    return span


def _span_data(transport: CapturingTransport, description: str) -> dict[str, Any]:
    spans = [s for s in _transaction(transport)["spans"] if s["description"] == description]
    data: dict[str, Any] = spans[0]["data"]
    return data


# -- middleware and the view --------------------------------------------------------------------------


def test_each_middleware_is_a_span_around_the_next_one_and_the_view_is_inside_the_innermost() -> None:
    transport = _init()
    response = Client().get("/spans/current/")
    assert (200, b"view.render") == (response.status_code, response.content)  # the view runs in its span
    transaction = _transaction(transport)
    assert sorted([*MIDDLEWARE_SPANS, ("view.render", "djproject.span_views.current", FAILING)]) == _tree(
        transaction
    )
    assert {"auto.http.django"} == {span["origin"] for span in transaction["spans"]}
    assert {
        "django.middleware_name": "django.contrib.sessions.middleware.SessionMiddleware",
        "django.function_name": "django.utils.deprecation.MiddlewareMixin.__call__",
    } == _span(transaction, SESSION)["tags"]
    assert (
        "djproject.middleware.failing_middleware"
        == _span(transaction, FAILING)["tags"]["django.middleware_name"]
    )


def test_the_wsgi_handler_has_the_same_spans_and_the_request_started_receivers_too() -> None:
    transport = _init()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/spans/current/",
        "wsgi.input": io.BytesIO(),
    }
    setup_testing_defaults(environ)
    statuses: list[str] = []
    result = WSGIHandler()(environ, lambda status, headers, exc_info=None: statuses.append(status))
    body = b"".join(result)
    result.close()
    assert (["200 OK"], b"view.render") == (statuses, body)
    transaction = _transaction(transport)
    assert set(MIDDLEWARE_SPANS) <= set(_tree(transaction))
    # Django sends request_started inside the WSGI handler, so inside the request's transaction.
    assert {
        ("event.django", "django.db.reset_queries", TRANSACTION),
        ("event.django", "django.db.close_old_connections", TRANSACTION),
    } <= set(_tree(transaction, "event.django"))


def _get(client: str, path: str) -> Any:
    if client == "AsyncClient":
        return asyncio.run(AsyncClient().get(path))
    return Client().get(path)


@pytest.mark.parametrize("client", ["Client", "AsyncClient"])
def test_the_hooks_django_calls_on_a_middleware_are_spans_of_their_own(client: str) -> None:
    """Under ASGI too, where Django calls the sync hooks and view in a thread."""
    transport = _init()
    with HOOKED:
        response = _get(client, "/spans/template/")
    assert ("yes", b"<ul><li>1</li>\n<li>2</li>\n<li>3</li>\n</ul>\n") == (
        response["X-Hooked"],
        response.content,
    )
    hook = f"{HOOK}.__call__"
    assert sorted(
        [
            *MIDDLEWARE_SPANS,
            ("middleware.django", hook, FAILING),
            ("middleware.django", f"{HOOK}.process_view", hook),
            ("view.render", "djproject.span_views.template", hook),
            ("middleware.django", f"{HOOK}.process_template_response", hook),
            ("view.response.render", "serialize response", hook),
            ("template.render", "djproject/spans.html", "serialize response"),
        ]
    ) == _tree(_transaction(transport))


def test_process_exception_is_a_span_after_the_failed_view_span() -> None:
    transport = _init()
    with HOOKED:
        assert 500 == Client(raise_request_exception=False).get("/fail/").status_code
    transaction = _transaction(transport)
    assert ("middleware.django", f"{HOOK}.process_exception", f"{HOOK}.__call__") in _tree(transaction)
    assert "internal_error" == _span(transaction, "djproject.views.fail")["status"]


def test_the_view_span_is_named_after_the_url_name_else_the_views_dotted_path() -> None:
    transport = _init()
    Client().get("/spans/named/")
    assert 500 == Client(raise_request_exception=False).get("/cbv/1/").status_code
    named, class_based = (t for t in transport.events if t.get("type") == "transaction")
    assert [("view.render", "spans-named", FAILING)] == _tree(named, "view.render")
    assert [("view.render", "djproject.views.MessageView", FAILING)] == _tree(class_based, "view.render")


def test_middleware_spans_false_leaves_middleware_and_view_out_but_not_templates() -> None:
    transport = _init(DjangoIntegration(middleware_spans=False))
    with HOOKED:
        Client().get("/spans/template/")
    assert [
        ("template.render", "djproject/spans.html", "serialize response"),
        ("view.response.render", "serialize response", TRANSACTION),
    ] == _tree(_transaction(transport))


# -- templates ----------------------------------------------------------------------------------------


def test_a_template_is_one_span_with_its_includes_inside_it() -> None:
    """An ``{% include %}`` in a loop is rendered once per item: its time is in the outer span."""
    transport = _init()
    Client().get("/spans/template/")
    transaction = _transaction(transport)
    (span,) = [span for span in transaction["spans"] if span["op"] == "template.render"]
    assert ("djproject/spans.html", {"template.name": "djproject/spans.html"}) == (
        span["description"],
        span["data"],
    )


def test_render_to_string_in_a_view_is_a_template_span_inside_the_view_span() -> None:
    transport = _init()
    assert b"<li>alone</li>\n" == Client().get("/spans/string/").content
    assert [("template.render", "djproject/spans_item.html", "djproject.span_views.string")] == _tree(
        _transaction(transport), "template.render"
    )


# -- signals ------------------------------------------------------------------------------------------


def on_span_signal(sender: Any, **kwargs: Any) -> str:
    return "function"


class Receivers:
    def on_signal(self, sender: Any, **kwargs: Any) -> str:
        return "method"


RECEIVERS = Receivers()


def failing_receiver(sender: Any, **kwargs: Any) -> None:
    raise RuntimeError("the receiver failed on purpose")


@pytest.fixture
def receivers() -> Any:
    """``on_span_signal`` and ``RECEIVERS.on_signal`` connected to ``span_views.span_signal``."""
    signal = span_views.span_signal
    signal.connect(on_span_signal, weak=False)
    signal.connect(RECEIVERS.on_signal, weak=False)
    yield signal
    signal.disconnect(on_span_signal)
    signal.disconnect(RECEIVERS.on_signal)
    signal.disconnect(failing_receiver)


def test_each_receiver_a_signal_runs_is_a_span_and_send_returns_the_receivers_connected(
    receivers: Signal,
) -> None:
    """Functions and methods alike, named ``module.qualname``, under the span that sent the signal."""
    transport = _init()
    Client().get("/spans/signal/")
    function = f"{__name__}.on_span_signal"
    method = f"{__name__}.Receivers.on_signal"
    view = "djproject.span_views.signal"
    # send() and send_robust(): each receiver twice.
    assert sorted([("event.django", function, view), ("event.django", method, view)] * 2) == _tree(
        _transaction(transport), "event.django"
    )
    assert [(on_span_signal, "function"), (RECEIVERS.on_signal, "method")] == span_views.SIGNAL_RESPONSES
    assert {"signal": function} == _span_data(transport, function)


def test_a_failing_receiver_is_a_failed_span_and_send_robust_logs_it_under_its_own_name(
    receivers: Signal, caplog: pytest.LogCaptureFixture
) -> None:
    """Inside any running span, not only a request's; what send_robust returns and logs is unchanged."""
    receivers.connect(failing_receiver, weak=False)
    transport = _init()
    with caplog.at_level(logging.ERROR, logger="django.dispatch"):
        with sentry_sdk.start_transaction(name="signals"):
            responses = receivers.send_robust(sender=None)
    failing = f"{__name__}.failing_receiver"
    assert "internal_error" == _span(_transaction(transport), failing)["status"]
    assert [on_span_signal, RECEIVERS.on_signal, failing_receiver] == [receiver for receiver, _ in responses]
    assert ["Error calling failing_receiver in Signal.send_robust() (the receiver failed on purpose)"] == [
        record.getMessage() for record in caplog.records
    ]


def test_signals_spans_false_and_the_denylist_leave_receivers_out(receivers: Signal) -> None:
    transport = _init(DjangoIntegration(middleware_spans=True, signals_spans=False))
    Client().get("/spans/signal/")
    assert [] == _tree(_transaction(transport), "event.django")
    transport = _init(DjangoIntegration(middleware_spans=True, signals_denylist=[span_views.span_signal]))
    Client().get("/spans/signal/")
    assert [] == _tree(_transaction(transport), "event.django")
    assert [(on_span_signal, "function"), (RECEIVERS.on_signal, "method")] == span_views.SIGNAL_RESPONSES


def test_the_sdks_own_receiver_of_got_request_exception_is_never_a_span() -> None:
    """It reports the failure; timing it would put the SDK's work in the program's trace."""
    transport = _init()
    assert 500 == Client(raise_request_exception=False).get("/fail/").status_code
    transaction = _transaction(transport)
    assert [] == [s for s in transaction["spans"] if s["description"].startswith("sentry_sdk")]


@pytest.mark.skipif(not hasattr(Signal, "asend"), reason="Signal.asend: Django 5.0+")
def test_asend_under_the_async_client_makes_spans_of_sync_and_async_receivers(receivers: Signal) -> None:
    async def on_signal_async(sender: Any, **kwargs: Any) -> str:
        return "coroutine"

    receivers.connect(on_signal_async, weak=False)
    transport = _init()
    try:
        assert b"sent" == asyncio.run(AsyncClient().get("/spans/async-signal/")).content
    finally:
        receivers.disconnect(on_signal_async)
    view = "djproject.span_views.async_signal"
    assert sorted(
        ("event.django", name, view)
        for name in (
            f"{__name__}.on_span_signal",
            f"{__name__}.Receivers.on_signal",
            f"{__name__}.test_asend_under_the_async_client_makes_spans_of_sync_and_async_receivers"
            ".<locals>.on_signal_async",
        )
    ) == _tree(_transaction(transport), "event.django")
    assert [on_span_signal, RECEIVERS.on_signal, on_signal_async] == [
        r for r, _ in span_views.SIGNAL_RESPONSES
    ]


# -- ASGI -----------------------------------------------------------------------------------------------


def test_the_async_client_and_the_asgi_handler_nest_async_middleware_the_same_way() -> None:
    transport = _init()
    sent: list[dict[str, Any]] = []
    incoming = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)  # the client stays connected (cancelled once the response is out)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/spans/async-current/",
        "raw_path": b"/spans/async-current/",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }

    async def main() -> bytes:
        response = await AsyncClient().get("/spans/async-current/")
        await ASGIHandler()(scope, receive, send)
        return bytes(response.content)

    assert b"view.render" == asyncio.run(main())
    assert b"view.render" == b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    expected = sorted([*MIDDLEWARE_SPANS, ("view.render", "djproject.span_views.async_current", FAILING)])
    for transaction in (t for t in transport.events if t.get("type") == "transaction"):
        assert expected == _tree(transaction, "middleware.django", "view.render")


# -- the cache and database transactions (both opt-in) --------------------------------------------------

CACHES = override_settings(
    CACHES={
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "spans": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "spans"},
    }
)


def test_cache_spans_are_reads_and_writes_with_their_keys_and_hits() -> None:
    """A ``get`` that returns its default is a miss; the size is that of text and bytes values."""
    transport = _init(DjangoIntegration(cache_spans=True))
    with CACHES:
        response = Client().get("/spans/cache/")
    assert b"['hello', None, 'fallback'] [('a', 1), ('b', 2)]" == response.content
    spans = [s for s in _transaction(transport)["spans"] if s["op"].startswith("cache.")]
    # A backend's get_many() calling its own get() is one span: the one the program made.
    assert [
        ("cache.put", "greeting", {"cache.key": ["greeting"], "cache.item_size": 5}),
        ("cache.get", "greeting", {"cache.key": ["greeting"], "cache.hit": True, "cache.item_size": 5}),
        ("cache.get", "missing", {"cache.key": ["missing"], "cache.hit": False}),
        ("cache.get", "missing", {"cache.key": ["missing"], "cache.hit": False}),
        ("cache.put", "a, b", {"cache.key": ["a", "b"]}),
        ("cache.get", "a, b", {"cache.key": ["a", "b"], "cache.hit": True}),
    ] == [(s["op"], s["description"], s["data"]) for s in spans]
    assert {"auto.cache.django"} == {s["origin"] for s in spans}


def test_cache_spans_are_off_by_default() -> None:
    transport = _init()
    with CACHES:
        Client().get("/spans/cache/")
    assert [] == [s for s in _transaction(transport)["spans"] if s["op"].startswith("cache.")]


def test_db_transaction_spans_are_the_commits_and_rollbacks_of_atomic_blocks() -> None:
    transport = _init(DjangoIntegration(db_transaction_spans=True))
    assert b"done" == Client().get("/spans/atomic/").content
    spans = [s for s in _transaction(transport)["spans"] if s["origin"] == "auto.db.django"]
    assert [("COMMIT", "db"), ("ROLLBACK", "db")] == [(s["description"], s["op"]) for s in spans]
    assert {"db.operation": "COMMIT", "db.system": "sqlite", "db.name": ":memory:"} == spans[0]["data"]
    transport = _init()
    Client().get("/spans/atomic/")
    assert [] == [s for s in _transaction(transport)["spans"] if s["origin"] == "auto.db.django"]


# -- when nothing is made -----------------------------------------------------------------------------


def test_with_tracing_off_nothing_is_made_and_responses_are_the_same() -> None:
    with HOOKED:
        transport = _init(traces_sample_rate=None)
        off = Client().get("/spans/template/")
        current = Client().get("/spans/current/")
        assert [] == transport.events
        transport = _init()
        on = Client().get("/spans/template/")
    assert b"None" == current.content  # no span around the view
    assert (off.status_code, off.content, off["X-Hooked"]) == (on.status_code, on.content, on["X-Hooked"])
    assert sorted(off.headers.keys()) == sorted(on.headers.keys())


def test_an_unsampled_request_runs_its_view_under_its_transaction_with_no_span_in_between() -> None:
    """Spans of a transaction that is not sent would be made for nothing."""
    transport = _init(traces_sample_rate=0.0)
    assert b"http.server" == Client().get("/spans/current/").content
    assert [] == [event for event in transport.events if event.get("type") == "transaction"]
