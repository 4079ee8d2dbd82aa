"""Celery: every task runs in its own scope, named after the task, and a task that fails is reported.

``init(...)`` where the worker imports its configuration is enough (auto-enabled once the program
imports ``celery``); ``CeleryIntegration()`` may also be listed. What users get:

* Each task execution (worker or ``apply()``) runs in a fork of the isolation scope: its events are
  named after the task (``transaction`` = the task name, source ``task``) and carry the task's
  arguments as ``extra["celery-job"]`` (``task_name``, ``args``, ``kwargs``; scrubbed like any other
  data) and its id as the tag ``celery_task_id``. What a task sets stays on its own events;
  what the process set at startup is inherited.
* An exception that fails a task is sent once, unhandled (mechanism ``celery``), before Celery
  stores and logs the failure, which then happen exactly as without the SDK; Celery's own
  "Task ... raised unexpected" log line adds no second event. ``Retry``, ``Ignore``, ``Reject`` and
  the exceptions in a task's ``throws`` are not reported: a task that retries is reported once,
  when it finally fails, with its own exception. ``SoftTimeLimitExceeded`` is grouped per task
  (fingerprint ``["celery", "SoftTimeLimitExceeded", <task name>]``), not per line it hit.
* Publishing a task (``delay``, ``apply_async``, ``send_task``) from any context puts that
  context's trace in the message headers ``sentry-trace`` and ``baggage`` (:mod:`._propagation`),
  and the worker continues it: the task's errors carry the publisher's ``trace_id``.
* With tracing on, each task is a ``queue.process`` transaction named after the task (source
  ``task``) in the trace it continued (``traces_sampler`` gets ``celery_job``), and publishing a
  task inside a span is a ``queue.submit.celery`` span whose id the message carries, so the
  task's transaction is its child.
* Queued events are flushed before a prefork child or the worker exits (``worker_process_shutdown``,
  ``worker_shutdown``): a child recycled by ``max_tasks_per_child`` runs no ``atexit`` hooks.

Celery 4.4.7 or newer.
"""

from __future__ import annotations

import sys
from contextvars import ContextVar

from ..._log import report_internal_error
from ..._tracing.api import start_transaction, transaction_continuing
from ..._tracing.sampling import tracing_enabled
from ...api import get_client, get_current_scope, get_current_span, isolation_scope
from .. import DidNotEnable, Integration
from .._capture import capture_unhandled
from .._versions import parse_version
from . import _job, _propagation
from ._job import Job, current_job

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

__all__ = ["CeleryIntegration"]

MECHANISM = "celery"
ORIGIN = "auto.queue.celery"  # of the task's transaction and the publishing's span
OP_PROCESS = "queue.process"
OP_SUBMIT = "queue.submit.celery"
# The span of the task being published in this context, until the broker has the message.
_submitting: ContextVar[tuple[Any, Any] | None] = ContextVar("sentry_celery_submitting", default=None)
_MIN_VERSION = (4, 4, 7)
# Exceptions that end a task without it failing (Retry, Ignore, Reject), set by setup_once.
_NOT_FAILURES: tuple[type[BaseException], ...] = ()
_patched = False


class CeleryIntegration(Integration):
    """Reports failing Celery tasks; see the module documentation.

    ``propagate_traces`` (default ``True``): put the publishing context's trace in the headers of
    the tasks it sends. ``monitor_beat_tasks`` and ``exclude_beat_tasks`` (a list of task-name
    patterns) are sentry-sdk's Celery Beat options for cron monitoring: accepted, checked and kept,
    they take effect with the crons work (no check-ins are sent yet).
    """

    identifier = "celery"

    def __init__(
        self,
        propagate_traces: bool = True,
        monitor_beat_tasks: bool = False,
        exclude_beat_tasks: Iterable[str] | None = None,
    ) -> None:
        flags = {"propagate_traces": propagate_traces, "monitor_beat_tasks": monitor_beat_tasks}
        for name, value in flags.items():
            if not isinstance(value, bool):
                raise TypeError(f"CeleryIntegration: {name} must be True or False, got {value!r}")
        self.propagate_traces = propagate_traces
        self.monitor_beat_tasks = monitor_beat_tasks
        self.exclude_beat_tasks = _check_patterns(exclude_beat_tasks)

    @staticmethod
    def setup_once() -> None:
        try:
            import celery  # type: ignore[import-untyped]
        except ImportError as exc:
            raise DidNotEnable("Celery is not installed") from exc
        found = str(getattr(celery, "__version__", "0"))
        if parse_version(found) < _MIN_VERSION:
            raise DidNotEnable(f"Celery {found} found; 4.4.7 or newer is required")
        _patch()


def _check_patterns(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"CeleryIntegration: exclude_beat_tasks must be a list of strings, got {value!r}")
    patterns = tuple(value)
    for item in patterns:
        if not isinstance(item, str):
            raise TypeError(f"CeleryIntegration: exclude_beat_tasks must hold strings, got {item!r}")
    return patterns


def _enabled() -> CeleryIntegration | None:
    integration = get_client().get_integration(CeleryIntegration)
    return integration if isinstance(integration, CeleryIntegration) else None


# -- patching -------------------------------------------------------------------------------------


def _patch() -> None:
    global _patched, _NOT_FAILURES
    if _patched:
        return
    # Celery's top-level package is lazy: these submodules are what the worker and apply() use.
    from celery import signals
    from celery.app import trace  # type: ignore[import-untyped]
    from celery.exceptions import Ignore, Reject, Retry, SoftTimeLimitExceeded  # type: ignore[import-untyped]

    _NOT_FAILURES = (Retry, Ignore, Reject)
    _job.soft_time_limit = (SoftTimeLimitExceeded,)
    original_build = trace.build_tracer

    def sentry_build_tracer(name: Any, task: Any, *args: Any, **kwargs: Any) -> Any:
        tracer = original_build(name, task, *args, **kwargs)
        try:
            eager = kwargs["eager"] if "eager" in kwargs else len(args) > 4 and args[4]
            return _wrap_tracer(tracer, task, bool(eager))
        except Exception:
            report_internal_error()
            return tracer

    trace.build_tracer = sentry_build_tracer
    # The consumer binds build_tracer at import; a worker already imported keeps the original.
    consumer = sys.modules.get("celery.worker.consumer.consumer")
    if consumer is not None and getattr(consumer, "build_tracer", None) is original_build:
        setattr(consumer, "build_tracer", sentry_build_tracer)

    original_failure = trace.TraceInfo.handle_failure

    def sentry_handle_failure(self: Any, task: Any, req: Any, *args: Any, **kwargs: Any) -> Any:
        # Before Celery stores and logs the failure: its log then adds no second event.
        try:
            job = current_job.get()
            if job is not None and job.task is task:
                job.failed = True
            _report_failure(self.retval, task, req)
        except Exception:
            report_internal_error()
        return original_failure(self, task, req, *args, **kwargs)

    trace.TraceInfo.handle_failure = sentry_handle_failure
    signals.before_task_publish.connect(_add_trace_headers, weak=False, dispatch_uid="sentry_sdk")
    signals.after_task_publish.connect(_finish_submit_span, weak=False, dispatch_uid="sentry_sdk")
    signals.worker_process_shutdown.connect(_flush, weak=False, dispatch_uid="sentry_sdk")
    signals.worker_shutdown.connect(_flush, weak=False, dispatch_uid="sentry_sdk")
    _patched = True
    try:
        _wrap_built_tracers()
    except Exception:
        report_internal_error()


def _wrap_built_tracers() -> None:
    """Wrap the tracers apps built before this setup (``init`` in ``worker_process_init`` does that)."""
    state = sys.modules.get("celery._state")
    active = getattr(state, "_get_active_apps", None)
    if active is None:
        return
    for app in list(active()):
        if not getattr(app, "finalized", False):
            continue  # no tracer built yet: the patched build_tracer builds them
        for task in list(app.tasks.values()):
            tracer = vars(task).get("__trace__")
            if tracer is not None:
                task.__trace__ = _wrap_tracer(tracer, task, False)


# -- running a task -------------------------------------------------------------------------------


def _wrap_tracer(tracer: Callable[..., Any], task: Any, eager: bool) -> Callable[..., Any]:
    """``tracer`` (what ``build_tracer`` returned), run as one task under the SDK."""
    if getattr(tracer, "_sentry_wrapped", False):
        return tracer
    name = str(getattr(task, "name", None) or "unknown")

    def sentry_trace_task(uuid: Any, args: Any, kwargs: Any, request: Any = None) -> Any:
        layer = None
        running = None
        try:
            if _enabled() is not None:
                caller = dict(get_current_scope().iter_trace_propagation_headers()) if eager else None
                layer = isolation_scope()
                scope = layer.__enter__()
                job = Job(task, name, uuid, args, kwargs, request, eager)
                _continue_trace(scope, request, caller)
                scope.set_transaction_name(name, "task")
                scope.add_event_processor(job)
                token = current_job.set(job)
                running = _start_task_transaction(scope, name, uuid, args, kwargs)
        except Exception:
            report_internal_error()
            if layer is not None:
                layer.__exit__(None, None, None)
                layer = None
        if layer is None:
            return tracer(uuid, args, kwargs, request)
        try:
            return tracer(uuid, args, kwargs, request)
        except Exception as exc:
            # Only with propagate (apply(throw=True), task_eager_propagates): Celery re-raises.
            if not job.reported and _reportable(task, exc):
                job.reported = True
                capture_unhandled(CeleryIntegration, exc, MECHANISM)
            raise
        finally:
            if running is not None:
                _finish_task_transaction(running, job)
            current_job.reset(token)
            layer.__exit__(None, None, None)

    sentry_trace_task._sentry_wrapped = True  # type: ignore[attr-defined]
    return sentry_trace_task


def _start_task_transaction(scope: Any, name: str, task_id: Any, args: Any, kwargs: Any) -> Any:
    """With tracing on, the task as a ``queue.process`` transaction in the trace it continued,
    running on the task's current scope; ``None`` with tracing off."""
    client = get_client()
    if not tracing_enabled(client.options):
        return None
    transaction = transaction_continuing(
        scope.get_propagation_context(), op=OP_PROCESS, name=name, source="task", origin=ORIGIN
    )
    current = get_current_scope()  # the task's own (its layer was just entered)
    sampling = {"celery_job": {"task": name, "args": args, "kwargs": kwargs}}
    start_transaction(current, transaction, sampling, {})
    transaction.set_data("messaging.system", "celery")
    if task_id is not None:
        transaction.set_data("messaging.message.id", str(task_id))
    transaction._scope = current
    current._span = transaction
    return transaction


def _finish_task_transaction(transaction: Any, job: Job) -> None:
    try:
        if transaction.status is None:
            transaction.set_status("internal_error" if job.failed else "ok")
        transaction.finish(transaction._scope)
    except Exception:
        report_internal_error()


def _reportable(task: Any, exc: BaseException) -> bool:
    """Whether ``exc`` is a failure to report: not Retry/Ignore/Reject, not in the task's ``throws``."""
    if isinstance(exc, _NOT_FAILURES):
        return False
    try:
        throws = getattr(task, "throws", None)
        return not (throws and isinstance(exc, throws))
    except Exception:  # a throws that is not a tuple of exception classes: Celery's problem
        return True


def _report_failure(exc: Any, task: Any, req: Any) -> None:
    """The failure of ``task`` (Celery handles it next), sent unless expected or already sent."""
    if not isinstance(exc, Exception) or not _reportable(task, exc) or _enabled() is None:
        return
    job = current_job.get()
    if job is not None and job.task is task:
        if not job.reported:
            job.reported = True
            capture_unhandled(CeleryIntegration, exc, MECHANISM)
        return
    # A tracer this integration never wrapped: the report still gets the task's name and data.
    name = str(getattr(task, "name", None) or "unknown")
    args, kwargs = getattr(req, "args", None), getattr(req, "kwargs", None)
    job = Job(task, name, getattr(req, "id", None), args, kwargs, req, False)
    job.reported = True
    with isolation_scope() as scope:
        scope.set_transaction_name(name, "task")
        scope.add_event_processor(job)
        capture_unhandled(CeleryIntegration, exc, MECHANISM)


def _flush(**_: Any) -> None:
    """Send what is queued before the process exits (a prefork child exits with ``os._exit``)."""
    try:
        if _enabled() is not None:
            get_client().flush()
    except Exception:
        report_internal_error()


# -- publishing -----------------------------------------------------------------------------------


def _add_trace_headers(sender: Any = None, headers: Any = None, routing_key: Any = None, **_: Any) -> None:
    """``before_task_publish``: inside a span, the publishing is a ``queue.submit.celery`` span;
    the publishing context's trace (that span's, if any) goes into the message headers."""
    try:
        integration = _enabled()
        if integration is None or not isinstance(headers, dict):
            return
        span = None
        parent = get_current_span()
        if parent is not None:
            span = parent.start_child(op=OP_SUBMIT, name=str(sender), origin=ORIGIN)
            span.set_data("messaging.system", "celery")
            task_id = headers.get("id")
            if task_id is not None:
                span.set_data("messaging.message.id", str(task_id))
            if routing_key:
                span.set_data("messaging.destination.name", str(routing_key))
            _submitting.set((task_id, span))
        if "sentry-trace" in headers or not integration.propagate_traces:
            return  # a trace the caller chose is left alone
        if span is not None:
            if get_client().options.get("propagate_traces") is not False:
                headers.update(span.iter_headers())
        else:
            headers.update(_outgoing_headers())
    except Exception:
        report_internal_error()


def _finish_submit_span(sender: Any = None, headers: Any = None, **_: Any) -> None:
    """``after_task_publish``: the message is with the broker; its span ends."""
    try:
        pending = _submitting.get()
        if pending is None:
            return
        task_id, span = pending
        if isinstance(headers, dict) and headers.get("id") != task_id:
            return
        _submitting.set(None)
        span.set_status("ok")
        span.finish()
    except Exception:
        report_internal_error()


def _outgoing_headers() -> dict[str, str]:
    """``sentry-trace`` and ``baggage`` of the publishing context: its span's, else its trace's
    (a task's is the one it continued, its baggage passed on unchanged)."""
    return dict(get_current_scope().iter_trace_propagation_headers())


def _continue_trace(scope: Any, request: Any, caller: dict[str, str] | None) -> None:
    """The task's trace: the publisher's (from the message headers), the caller's for ``apply()``,
    else a new one."""
    sentry_trace = _propagation.header(request, "sentry-trace")
    if sentry_trace is not None:
        scope.generate_propagation_context(
            {"sentry-trace": sentry_trace, "baggage": _propagation.header(request, "baggage")}
        )
    elif caller:
        scope.generate_propagation_context(caller)
    else:
        scope.set_new_propagation_context()
