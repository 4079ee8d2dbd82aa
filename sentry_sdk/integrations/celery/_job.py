"""One task execution: what its events get, and its part of the trace.

A :class:`Job` is registered as an event processor on the task's isolation scope and is the
current job (:data:`current_job`) while the task runs. Everything it adds is built when an event
is sent, or a task is published, never up front: a task that sends nothing pays for none of it.
"""

from __future__ import annotations

from contextvars import ContextVar

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ...types import Event, Hint

__all__ = ["Job", "current_job"]

# The logger Celery reports task failures on ("Task %(name)s[%(id)s] raised unexpected: ...").
_TRACE_LOGGER = "celery.app.trace"
# SoftTimeLimitExceeded, once the integration is set up: grouped per task, not per raising line.
soft_time_limit: tuple[type[BaseException], ...] = ()


class Job:
    """A task execution; as an event processor, adds the task's data to the events of its scope."""

    __slots__ = (
        "args",
        "eager",
        "failed",
        "kwargs",
        "name",
        "reported",
        "request",
        "task",
        "task_id",
    )

    def __init__(
        self, task: Any, name: str, task_id: Any, args: Any, kwargs: Any, request: Any, eager: bool
    ) -> None:
        self.task = task
        self.name = name
        self.task_id = task_id
        self.args = args
        self.kwargs = kwargs
        self.request = request
        self.eager = eager
        self.reported = False  # its failure was sent: Celery's log line of it is dropped
        self.failed = False  # it failed (reported or not: an exception in its ``throws`` too)

    def __call__(self, event: Event, hint: Hint) -> Event | None:
        record = hint.get("log_record")
        if self.reported and record is not None and getattr(record, "name", None) == _TRACE_LOGGER:
            exc_info = getattr(record, "exc_info", None)
            if exc_info and exc_info[1] is not None:
                return None  # Celery's log line of the failure this task already reported
        extra = _dict_at(event, "extra")
        extra.setdefault("celery-job", {"task_name": self.name, "args": self.args, "kwargs": self.kwargs})
        if self.task_id is not None:
            _dict_at(event, "tags").setdefault("celery_task_id", self.task_id)
        exc_info = hint.get("exc_info")
        if exc_info and soft_time_limit and isinstance(exc_info[1], soft_time_limit):
            event.setdefault("fingerprint", ["celery", "SoftTimeLimitExceeded", self.name])
        return event


def _dict_at(event: Event, key: str) -> dict[str, Any]:
    """``event[key]`` as a dict of the event's own (it may still be one the program passed in)."""
    value = event.get(key)
    value = event[key] = dict(value) if isinstance(value, dict) else {}
    return value


current_job: ContextVar[Job | None] = ContextVar("sentry_celery_job", default=None)
