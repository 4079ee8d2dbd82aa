"""Celery: failing tasks are reported once, each task has its own scope, and traces cross the broker.

Most tests run a real in-process worker (``celery.contrib.testing.worker``) on the memory broker;
the prefork worker on a real Redis broker is in ``test_celery_redis.py``.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from frameworks import require

import sentry_sdk
from sentry_sdk.integrations import DidNotEnable
from sentry_sdk.integrations import celery as celery_integration
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware
from sentry_sdk.scrubber import EventScrubber
from sentry_sdk.testing import CapturingTransport

celery = require("celery")

from celery import signals  # noqa: E402
from celery.contrib.testing.worker import start_worker  # noqa: E402
from celery.exceptions import Ignore, Reject, SoftTimeLimitExceeded  # noqa: E402
from celery.worker import state as worker_state  # noqa: E402

_names = itertools.count()
_TRACEPARENT = re.compile(r"^([0-9a-f]{32})-([0-9a-f]{16})$")


class FlushCountingTransport(CapturingTransport):
    """A capturing transport that also counts the flushes asked of it."""

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.flushes = 0

    def flush(self, timeout: float, callback: Any = None) -> None:
        self.flushes += 1


def _init(integration: CeleryIntegration | None = None, **options: Any) -> FlushCountingTransport:
    transport = FlushCountingTransport()
    options.setdefault("default_integrations", False)
    options.setdefault("auto_enabling_integrations", False)
    sentry_sdk.init(transport=transport, integrations=[integration or CeleryIntegration()], **options)
    return transport


@pytest.fixture
def app() -> Any:
    """A Celery app on the memory broker, with a queue of its own (left-over messages stay out)."""
    name = f"t{next(_names)}"
    app = celery.Celery(name, broker="memory://", backend="cache+memory://", set_as_current=False)
    app.conf.task_default_queue = name
    # The memory transport sleeps this long between looks at an empty queue (1 s by default).
    app.conf.broker_transport_options = {"polling_interval": 0.005}

    @app.task(shared=False, name=f"{name}.wake")
    def wake() -> None:
        return None

    return app


@contextmanager
def _restored(root: logging.Logger, level: int, handlers: list[logging.Handler]) -> Iterator[None]:
    try:
        yield
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers


@contextmanager
def running(app: Any, pool: str = "solo", concurrency: int = 1, warm: bool = False) -> Iterator[None]:
    """A worker for ``app`` in this process, stopped in milliseconds rather than seconds.

    ``warm=True`` stops it as ``celery worker`` does on SIGTERM (sending ``worker_shutdown``)
    instead of the test worker's cold stop.
    """
    # The test worker sets up Celery's logging: the root logger's level and handlers are put back
    # afterwards, or every later test of the run would log at ERROR only.
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    with (
        start_worker(app, pool=pool, concurrency=concurrency, perform_ping_check=False),
        _restored(root, level, handlers),
    ):
        stopped = threading.Event()

        def on_shutdown(**_: Any) -> None:
            stopped.set()

        signals.worker_shutdown.connect(on_shutdown, weak=False)
        try:
            yield
        finally:
            # The worker looks at the stop flags only after a 2-second wait for a message, then
            # waits once more: two empty tasks end both waits at once.
            if warm:
                worker_state.should_stop = 0
            else:
                worker_state.should_terminate = 0
            wake = app.tasks[f"{app.main}.wake"]
            wake.delay()
            wake.delay()
            if warm:
                stopped.wait(10)
                worker_state.should_stop = None
            signals.worker_shutdown.disconnect(on_shutdown)


def _wait(result: Any) -> Any:
    result.get(timeout=10, interval=0.005, propagate=False)
    return result


def _exception(event: dict[str, Any]) -> dict[str, Any]:
    (exc,) = event["exception"]["values"]
    return dict(exc)


# -- a failing task --------------------------------------------------------------------------------


def test_a_failing_task_is_one_unhandled_event_named_after_the_task_with_its_arguments(app: Any) -> None:
    """The event: mechanism celery, handled false, the task name as transaction (source task), the
    arguments under extra["celery-job"], the task id as a tag; the task itself still fails."""
    transport = _init()

    @app.task(shared=False, name="orders.charge")
    def charge(order: int, currency: str, note: str | None = None) -> None:
        raise ValueError(f"card declined for order {order}")

    with running(app):
        result = _wait(charge.delay(42, "EUR", note="rush"))

    assert "FAILURE" == result.state
    (event,) = transport.events
    exc = _exception(event)
    assert ("ValueError", "card declined for order 42") == (exc["type"], exc["value"])
    assert {"type": "celery", "handled": False} == {k: exc["mechanism"][k] for k in ("type", "handled")}
    assert "charge" == exc["stacktrace"]["frames"][-1]["function"]
    assert ("error", "orders.charge", {"source": "task"}) == (
        event["level"],
        event["transaction"],
        event["transaction_info"],
    )
    expected_job = {"task_name": "orders.charge", "args": [42, "EUR"], "kwargs": {"note": "rush"}}
    assert expected_job == event["extra"]["celery-job"]
    assert result.id == event["tags"]["celery_task_id"]


def test_a_failing_task_ends_the_same_with_and_without_the_integration(app: Any) -> None:
    """State, stored exception and traceback are the same whether the integration is enabled or not;
    when it is not enabled (its patches stay installed), nothing is sent and no headers are added."""

    @app.task(shared=False, name="jobs.explode", bind=True)
    def explode(self: Any, n: int) -> Any:
        if n < 0:
            return getattr(self.request, "sentry-trace", None)
        raise LookupError("nothing at", n)

    def run() -> tuple[Any, ...]:
        with running(app):
            failed = _wait(explode.delay(3))
            headers = explode.delay(-1).get(timeout=10, interval=0.005)
        exc = failed.result
        return failed.state, type(exc), exc.args, "raise LookupError" in failed.traceback, headers

    with_sdk_transport = _init()
    with_sdk = run()
    without_transport = CapturingTransport()
    sentry_sdk.init(transport=without_transport, default_integrations=False, auto_enabling_integrations=False)
    without_sdk = run()

    assert ("FAILURE", LookupError, ("nothing at", 3), True) == with_sdk[:4]
    assert with_sdk[:4] == without_sdk[:4]
    assert (1, 0) == (len(with_sdk_transport.events), len(without_transport.events))
    assert _TRACEPARENT.match(with_sdk[4])
    assert None is without_sdk[4]


def test_celerys_own_failure_log_adds_no_second_event(app: Any) -> None:
    """With the logging integration on, Celery's "Task ... raised unexpected" error log (which it
    does write, with the traceback) does not become a second event, also for an exception that
    Celery has to replace by a picklable copy before logging it."""
    transport = _init(default_integrations=True)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("celery.app.trace").addHandler(handler)

    class UnpicklableError(Exception):
        def __reduce__(self) -> Any:
            raise TypeError("cannot be pickled")

    @app.task(shared=False, name="logs.plain")
    def plain() -> None:
        raise RuntimeError("plain failure")

    @app.task(shared=False, name="logs.unpicklable")
    def unpicklable() -> None:
        raise UnpicklableError("odd failure")

    try:
        with running(app):
            first = _wait(plain.delay())
            second = _wait(unpicklable.delay())
    finally:
        logging.getLogger("celery.app.trace").removeHandler(handler)

    assert ("FAILURE", "FAILURE") == (first.state, second.state)
    logged = [r for r in records if r.levelno == logging.ERROR and r.exc_info]
    assert 2 == len(logged)
    assert [("RuntimeError", "celery"), ("UnpicklableError", "celery")] == [
        (_exception(e)["type"], _exception(e)["mechanism"]["type"]) for e in transport.events
    ]


def test_a_retrying_task_is_reported_once_when_it_finally_fails_with_its_own_exception(app: Any) -> None:
    """Two retries send nothing; the final failure sends one event with the original exception,
    still in the trace of the context that first sent the task."""
    transport = _init()
    attempts: list[int] = []

    @app.task(shared=False, name="net.fetch", bind=True, max_retries=2)
    def fetch(self: Any) -> None:
        attempts.append(self.request.retries)
        try:
            raise ConnectionError("upstream down")
        except ConnectionError as exc:
            raise self.retry(exc=exc, countdown=0) from exc

    with running(app):
        result = _wait(fetch.delay())
    sentry_sdk.capture_message("sent it")

    assert [0, 1, 2] == attempts
    assert "FAILURE" == result.state
    failed, sender = transport.events
    assert ("ConnectionError", "upstream down") == (_exception(failed)["type"], _exception(failed)["value"])
    assert sender["contexts"]["trace"]["trace_id"] == failed["contexts"]["trace"]["trace_id"]


def test_ignore_reject_and_a_tasks_declared_throws_are_not_reported(app: Any) -> None:
    """Ignore, Reject and an exception listed in the task's ``throws`` send nothing; a real failure
    after them still does."""
    transport = _init()

    @app.task(shared=False, name="q.ignored")
    def ignored() -> None:
        raise Ignore()

    @app.task(shared=False, name="q.rejected")
    def rejected() -> None:
        raise Reject("not for us", requeue=False)

    @app.task(shared=False, name="q.expected", throws=(KeyError,))
    def expected() -> None:
        raise KeyError("an expected outcome")

    @app.task(shared=False, name="q.broken")
    def broken() -> None:
        raise ZeroDivisionError("a real failure")

    with running(app):
        ignored.delay()
        rejected.delay()
        declared = _wait(expected.delay())
        _wait(broken.delay())  # the solo worker runs tasks in order: the others are done by now

    assert "FAILURE" == declared.state
    assert [("q.broken", "ZeroDivisionError")] == [
        (e["transaction"], _exception(e)["type"]) for e in transport.events
    ]


def test_an_eager_task_is_reported_once_and_still_raises_or_fails_as_asked(app: Any) -> None:
    """``apply()`` returns a failed result and ``apply(throw=True)`` raises to the caller: one event
    each, named after the task."""
    transport = _init()

    @app.task(shared=False, name="eager.divide")
    def divide(a: int, b: int) -> float:
        return a / b

    failed = divide.apply((1, 0))
    with pytest.raises(ZeroDivisionError):
        divide.apply((2, 0), throw=True)

    assert "FAILURE" == failed.state
    assert [("eager.divide", [1, 0]), ("eager.divide", [2, 0])] == [
        (e["transaction"], list(e["extra"]["celery-job"]["args"])) for e in transport.events
    ]
    assert ["celery", "celery"] == [_exception(e)["mechanism"]["type"] for e in transport.events]


def test_a_soft_time_limit_is_grouped_per_task() -> None:
    """SoftTimeLimitExceeded events get the fingerprint celery / SoftTimeLimitExceeded / task name,
    wherever in the task the limit struck."""
    transport = _init()
    app = celery.Celery("limits", set_as_current=False)

    @app.task(shared=False, name="limits.crunch")
    def crunch() -> None:
        raise SoftTimeLimitExceeded()

    crunch.apply()

    (event,) = transport.events
    assert ["celery", "SoftTimeLimitExceeded", "limits.crunch"] == event["fingerprint"]


def test_an_sdk_failure_never_changes_what_the_task_does(
    monkeypatch: pytest.MonkeyPatch, sdk_errors_fail_tests: list[BaseException]
) -> None:
    """When the integration's own setup of a task breaks, the task still runs and returns (or
    fails) exactly as it would; the breakage goes to the SDK's internal error log."""
    _init()
    app = celery.Celery("broken", set_as_current=False)

    @app.task(shared=False, name="broken.add")
    def add(a: int, b: int) -> int:
        return a + b

    def broken(*args: Any) -> None:
        raise RuntimeError("an SDK bug")

    monkeypatch.setattr(celery_integration.Job, "__init__", broken)
    assert 5 == add.apply((2, 3)).get()
    assert ["an SDK bug"] == [str(e) for e in sdk_errors_fail_tests]
    sdk_errors_fail_tests.clear()


# -- isolation --------------------------------------------------------------------------------------


@pytest.mark.parametrize("defaults", [False, True], ids=["alone", "with-default-integrations"])
def test_concurrent_tasks_each_carry_only_their_own_tags_and_breadcrumbs(app: Any, defaults: bool) -> None:
    """Four tasks running at once on a threads pool each tag themselves and fail: every event has
    its own tag and breadcrumb plus the startup breadcrumb, and nothing reaches the process's scope
    (also with the threading and logging integrations on)."""
    transport = _init(default_integrations=defaults)
    sentry_sdk.add_breadcrumb(message="worker starting", category="startup")
    count = 4
    barrier = threading.Barrier(count, timeout=10)

    @app.task(shared=False, name="pool.work")
    def work(i: int) -> None:
        sentry_sdk.set_tag("job", str(i))
        sentry_sdk.add_breadcrumb(message=f"job {i} started", category="job")
        barrier.wait()  # all four are running at the same time
        raise RuntimeError(f"job {i} failed")

    with running(app, pool="threads", concurrency=count):
        results = [work.delay(i) for i in range(count)]
        for result in results:
            _wait(result)
    sentry_sdk.capture_message("after the tasks")

    *task_events, after = transport.events
    seen = {}
    for event in task_events:
        i = _exception(event)["value"].split()[1]
        crumbs = [c["message"] for c in event["breadcrumbs"]["values"]]
        seen[i] = (
            event["tags"]["job"],
            "worker starting" in crumbs,
            [c for c in crumbs if c.startswith("job")],
        )
    assert {str(i): (str(i), True, [f"job {i} started"]) for i in range(count)} == seen
    assert "job" not in after.get("tags", {})
    assert ["worker starting"] == [c["message"] for c in after["breadcrumbs"]["values"]]


# -- traces across the broker -----------------------------------------------------------------------


def test_a_task_sent_from_a_web_request_continues_the_requests_trace(app: Any) -> None:
    """A task published while a request is handled carries the request's trace in its
    ``sentry-trace`` and ``baggage`` headers; the task's error continues that trace."""
    transport = _init(dsn="http://publickey@127.0.0.1:9/1", environment="staging", release="shop@1.2")
    seen: dict[str, Any] = {}

    @app.task(shared=False, name="mail.send", bind=True)
    def send_mail(self: Any, to: str) -> None:
        seen["sentry-trace"] = getattr(self.request, "sentry-trace", None)
        seen["baggage"] = getattr(self.request, "baggage", None)
        raise OSError(f"smtp refused {to}")

    def view(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen["result"] = send_mail.delay("a@example.com")
        raise RuntimeError("the view failed after publishing")

    environ: dict[str, Any] = {"PATH_INFO": "/checkout"}
    setup_testing_defaults(environ)
    with running(app):
        with pytest.raises(RuntimeError):
            SentryWsgiMiddleware(view)(environ, lambda *a: None)
        _wait(seen["result"])

    by_kind = {e["transaction"]: e for e in transport.events}
    request_trace = by_kind["/checkout"]["contexts"]["trace"]
    task_trace = by_kind["mail.send"]["contexts"]["trace"]
    match = _TRACEPARENT.match(seen["sentry-trace"])
    assert match is not None
    assert (request_trace["trace_id"], request_trace["span_id"]) == match.groups()
    assert (request_trace["trace_id"], request_trace["span_id"]) == (
        task_trace["trace_id"],
        task_trace["parent_span_id"],
    )
    assert task_trace["span_id"] != request_trace["span_id"]
    baggage = dict(item.split("=", 1) for item in seen["baggage"].split(","))
    assert {
        "sentry-trace_id": request_trace["trace_id"],
        "sentry-public_key": "publickey",
        "sentry-environment": "staging",
        "sentry-release": "shop%401.2",
    } == {k: v for k, v in baggage.items() if k != "sentry-sample_rand"}
    assert re.match(r"^0\.\d{6}$", baggage["sentry-sample_rand"])


def test_a_task_published_by_a_task_passes_the_incoming_baggage_on_unchanged(app: Any) -> None:
    """The baggage a task received (with third-party entries) is what the tasks it sends get, under
    the same trace id; a caller's own sentry-trace header is left as it is."""
    _init()
    seen: list[tuple[str | None, str | None]] = []

    @app.task(shared=False, name="chain.child", bind=True)
    def child(self: Any) -> None:
        seen.append((getattr(self.request, "sentry-trace", None), getattr(self.request, "baggage", None)))

    @app.task(shared=False, name="chain.parent", bind=True)
    def parent(self: Any) -> Any:
        seen.append((getattr(self.request, "sentry-trace", None), getattr(self.request, "baggage", None)))
        return child.delay().id

    incoming = {
        "sentry-trace": f"{'a' * 32}-{'b' * 16}-1",
        "baggage": "sentry-trace_id=" + "a" * 32 + ",vendor=x",
    }
    with running(app):
        child_id = parent.apply_async(headers=incoming).get(timeout=10, interval=0.005)
        _wait(app.AsyncResult(child_id))

    (parent_trace, parent_baggage), (child_trace, child_baggage) = seen
    assert (incoming["sentry-trace"], incoming["baggage"]) == (parent_trace, parent_baggage)
    assert incoming["baggage"] == child_baggage
    assert child_trace is not None
    trace_id, span_id, sampled = child_trace.split("-")
    assert ("a" * 32, "1") == (trace_id, sampled)
    assert "b" * 16 != span_id


def test_no_trace_headers_with_propagate_traces_off(app: Any) -> None:
    """``CeleryIntegration(propagate_traces=False)`` publishes tasks without sentry-trace or baggage."""
    _init(CeleryIntegration(propagate_traces=False))

    @app.task(shared=False, name="quiet.task", bind=True)
    def quiet(self: Any) -> Any:
        return [getattr(self.request, name, None) for name in ("sentry-trace", "baggage")]

    with running(app):
        assert [None, None] == quiet.delay().get(timeout=10, interval=0.005)


def test_an_eager_task_in_a_traced_context_is_a_child_of_it(app: Any) -> None:
    """Once the caller has a trace (it published a task), an eager task's error is in that trace."""
    transport = _init()

    @app.task(shared=False, name="eager.noop")
    def noop() -> None:
        return None

    @app.task(shared=False, name="eager.fail2")
    def fail() -> None:
        raise ValueError("eager")

    with sentry_sdk.isolation_scope():
        noop.delay()  # gives this scope its trace; never run (no worker)
        sentry_sdk.capture_message("caller")
        fail.apply()

    caller, failed = transport.events
    assert caller["contexts"]["trace"]["trace_id"] == failed["contexts"]["trace"]["trace_id"]
    assert caller["contexts"]["trace"]["span_id"] == failed["contexts"]["trace"]["parent_span_id"]


def test_with_tracing_a_published_task_is_a_submit_span_and_the_task_a_process_transaction(app: Any) -> None:
    """Publishing inside a transaction is a ``queue.submit.celery`` span; the worker runs the task as
    a ``queue.process`` transaction named after it, the child of that span, in the same trace;
    a failing task's transaction ends as internal_error."""
    transport = _init(traces_sample_rate=1.0)

    @app.task(shared=False, name="report.build")
    def build(n: int) -> int:
        with sentry_sdk.start_span(op="render", name="pdf"):
            pass
        return n * 2

    @app.task(shared=False, name="report.fail")
    def fail() -> None:
        raise ValueError("no report")

    with running(app):
        with sentry_sdk.start_transaction(name="publisher", op="task") as publisher:
            result = build.delay(21)
            failing = fail.delay()
        assert 42 == result.get(timeout=10, interval=0.005)
        _wait(failing)
    sentry_sdk.flush()

    transactions = {e["transaction"]: e for e in transport.events if e.get("type") == "transaction"}
    submit = {s["description"]: s for s in transactions["publisher"]["spans"]}
    assert {"report.build", "report.fail"} == set(submit)
    span = submit["report.build"]
    assert ("queue.submit.celery", "auto.queue.celery", result.id) == (
        span["op"],
        span["origin"],
        span["data"]["messaging.message.id"],
    )
    task = transactions["report.build"]
    trace = task["contexts"]["trace"]
    assert ("queue.process", "ok", "task") == (
        trace["op"],
        trace["status"],
        task["transaction_info"]["source"],
    )
    assert (publisher.trace_id, span["span_id"]) == (trace["trace_id"], trace["parent_span_id"])
    assert ["render"] == [s["op"] for s in task["spans"]]
    assert "internal_error" == transactions["report.fail"]["contexts"]["trace"]["status"]
    (error,) = [e for e in transport.events if e.get("type") != "transaction"]
    assert (
        transactions["report.fail"]["contexts"]["trace"]["span_id"] == error["contexts"]["trace"]["span_id"]
    )


def test_the_sampler_sees_the_celery_job(app: Any) -> None:
    seen: list[Any] = []

    def sampler(context: dict[str, Any]) -> float:
        if "celery_job" in context:
            seen.append((context["celery_job"]["task"], list(context["celery_job"]["args"])))
        return 0.0

    transport = _init(traces_sampler=sampler)

    @app.task(shared=False, name="sampled.task")
    def task(x: int) -> int:
        return x

    with running(app):
        assert 3 == task.delay(3).get(timeout=10, interval=0.005)
    assert [("sampled.task", [3])] == [job for job in seen if job[0] == "sampled.task"]  # not the wake-ups
    assert [] == [e for e in transport.events if e.get("type") == "transaction"]


# -- data scrubbing, shutdown -----------------------------------------------------------------------


def test_task_arguments_are_scrubbed_like_any_other_data(app: Any) -> None:
    """A password in a URL argument is filtered by value; a ``password`` keyword argument by key when
    the scrubber is recursive."""
    transport = _init(event_scrubber=EventScrubber(recursive=True))

    @app.task(shared=False, name="db.migrate")
    def migrate(url: str, password: str) -> None:
        raise RuntimeError("migration failed")

    migrate.apply(("postgres://admin:hunter2@db.internal/shop",), {"password": "hunter2"})

    (event,) = transport.events
    job = event["extra"]["celery-job"]
    assert "hunter2" not in repr(job)
    assert "[Filtered]" == job["kwargs"]["password"]


def test_the_worker_flushes_events_when_it_shuts_down(app: Any) -> None:
    """Stopping the worker flushes the client's queue (worker_shutdown)."""
    transport = _init()
    with running(app, warm=True):
        assert 0 == transport.flushes
    assert transport.flushes >= 1


# -- options and enabling ---------------------------------------------------------------------------


def test_options_are_checked_at_construction_and_kept() -> None:
    """Bad option types raise TypeError naming the option; good values are kept."""
    integration = CeleryIntegration(
        propagate_traces=False, monitor_beat_tasks=True, exclude_beat_tasks=["nightly-.*"]
    )
    assert (False, True, ("nightly-.*",)) == (
        integration.propagate_traces,
        integration.monitor_beat_tasks,
        integration.exclude_beat_tasks,
    )
    assert (True, False, None) == (
        CeleryIntegration().propagate_traces,
        CeleryIntegration().monitor_beat_tasks,
        CeleryIntegration().exclude_beat_tasks,
    )
    with pytest.raises(TypeError, match="monitor_beat_tasks"):
        CeleryIntegration(monitor_beat_tasks="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="propagate_traces"):
        CeleryIntegration(propagate_traces=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="exclude_beat_tasks"):
        CeleryIntegration(exclude_beat_tasks="nightly")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="exclude_beat_tasks"):
        CeleryIntegration(exclude_beat_tasks=[3])  # type: ignore[list-item]


def test_a_too_old_or_missing_celery_does_not_enable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Listed, the integration raises DidNotEnable at init naming the Celery version found."""
    monkeypatch.setattr(celery, "__version__", "4.4.6")
    with pytest.raises(DidNotEnable, match=r"^Celery 4\.4\.6 found; 4\.4\.7 or newer is required$"):
        CeleryIntegration.setup_once()
    monkeypatch.setitem(sys.modules, "celery", None)
    with pytest.raises(DidNotEnable, match="^Celery is not installed$"):
        CeleryIntegration.setup_once()


def test_init_does_not_import_celery_and_importing_it_enables_the_integration(
    run_script: Callable[[str], Any],
) -> None:
    """In a fresh interpreter: ``init()`` leaves celery unimported; ``import celery`` afterwards
    enables the integration, and a failing task is then reported."""
    result = run_script(
        """
import json, sys
import sentry_sdk
from sentry_sdk.testing import CapturingTransport
transport = CapturingTransport()
sentry_sdk.init(transport=transport)
before = "celery" in sys.modules
import celery
app = celery.Celery("fresh")
@app.task(shared=False, name="fresh.fail")
def fail():
    raise KeyError("fresh")
fail.apply()
event, = transport.events
print(json.dumps([before, "celery" in sentry_sdk.get_client().integrations, event["transaction"],
                  event["exception"]["values"][0]["mechanism"]["type"]]))
"""
    )
    assert 0 == result.returncode, result.stderr
    assert '[false, true, "fresh.fail", "celery"]' == result.stdout.strip().splitlines()[-1]


def test_tracers_built_before_init_still_run_each_task_in_its_own_scope(
    run_script: Callable[[str], Any],
) -> None:
    """``init`` in ``worker_process_init`` comes after the pool built its tracers: those tracers
    are wrapped too, so tasks are named, isolated and reported."""
    result = run_script(
        """
import json
import celery
from celery.app.trace import build_tracer, trace_task
app = celery.Celery("early")
@app.task(shared=False, name="early.fail")
def fail(n):
    import sentry_sdk
    sentry_sdk.set_tag("n", str(n))
    raise KeyError(n)
app.finalize()
fail.__trace__ = build_tracer(fail.name, fail, app=app)
import sentry_sdk
from sentry_sdk.integrations import celery as celery_integration
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.testing import CapturingTransport
transport = CapturingTransport()
sentry_sdk.init(transport=transport, integrations=[CeleryIntegration()], default_integrations=False)
for n in (1, 2):
    trace_task(fail, f"id-{n}", (n,), {})
print(json.dumps([(e["transaction"], e["tags"]) for e in transport.events]))
"""
    )
    assert 0 == result.returncode, result.stderr
    expected = [
        ["early.fail", {"n": "1", "celery_task_id": "id-1"}],
        ["early.fail", {"n": "2", "celery_task_id": "id-2"}],
    ]
    assert expected == json.loads(result.stdout.strip().splitlines()[-1])
