"""Logging: log records become breadcrumbs (INFO and above) and events (ERROR and above).

Records are seen by patching ``logging.Logger.callHandlers`` once, so no handler has to be added
to any logger and the user's logging configuration stays untouched. The SDK's own loggers and the
ones passed to :func:`ignore_logger` are never recorded.
"""

from __future__ import annotations

import logging

from .._exceptions import event_from_exception
from .._log import report_internal_error
from . import Integration
from .dedupe import sent_last

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


__all__ = ["LoggingIntegration", "ignore_logger"]

DEFAULT_LEVEL = logging.INFO
DEFAULT_EVENT_LEVEL = logging.ERROR

_ignored_loggers: set[str] = {"sentry_sdk.errors", "urllib3.connectionpool", "urllib3.connection"}

# Attributes every LogRecord has; anything else was passed through ``extra=`` and is kept as data.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def ignore_logger(name: str) -> None:
    """Never turn records of the logger ``name`` (or its children) into breadcrumbs or events."""
    _ignored_loggers.add(name)


def _is_ignored(name: str) -> bool:
    if name in _ignored_loggers or name.startswith("sentry_sdk"):
        return True
    while "." in name:
        name = name.rpartition(".")[0]
        if name in _ignored_loggers:
            return True
    return False


def _level_name(levelno: int) -> str:
    if levelno >= logging.CRITICAL:
        return "fatal"
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warning"
    if levelno >= logging.INFO:
        return "info"
    return "debug"


class LoggingIntegration(Integration):
    """``level``: lowest level recorded as a breadcrumb; ``event_level``: lowest sent as an event.

    Each is a level number (``logging.INFO``) or name (``"INFO"``); ``None`` turns it off.
    """

    identifier = "logging"

    def __init__(
        self, level: int | str | None = DEFAULT_LEVEL, event_level: int | str | None = DEFAULT_EVENT_LEVEL
    ) -> None:
        self.level = _level_number("level", level)
        self.event_level = _level_number("event_level", event_level)

    @staticmethod
    def setup_once() -> None:
        original = logging.Logger.callHandlers

        def sentry_patched_callhandlers(self: logging.Logger, record: logging.LogRecord) -> None:
            try:
                _record(record)
            except Exception:
                report_internal_error()
            original(self, record)

        logging.Logger.callHandlers = sentry_patched_callhandlers  # type: ignore[method-assign]


def _level_number(name: str, value: int | str | None) -> int | None:
    """Validate a level at construction, so that a typo fails at ``init`` and not at each log call."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str):
        number = logging.getLevelName(value.upper())  # the number, for a registered name
        if not isinstance(number, int):
            raise ValueError(f"LoggingIntegration {name}={value!r} is not a logging level name")
        return number
    raise TypeError(f"LoggingIntegration {name} must be a logging level or None, got {value!r}")


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # bad %-args: the logging module itself reports these; keep the template
        return str(record.msg)


def _extra(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS and not k.startswith("_")}


def _record(record: logging.LogRecord) -> None:
    from ..hub import Hub

    hub = Hub.current
    client = hub.client
    if client is None:
        return
    integration = client.integrations.get("logging")
    if not isinstance(integration, LoggingIntegration) or _is_ignored(record.name):
        return
    levelno = record.levelno
    event_level = integration.event_level
    if event_level is not None and levelno >= event_level:
        _capture(hub, client, record)
    level = integration.level
    if level is not None and levelno >= level:
        crumb: dict[str, Any] = {
            "type": "log",
            "level": _level_name(levelno),
            "category": record.name,
            "message": _message(record),
            "timestamp": record.created,
        }
        extra = _extra(record)
        if extra:
            crumb["data"] = extra
        hub.add_breadcrumb(crumb, {"log_record": record})


def _capture(hub: Any, client: Any, record: logging.LogRecord) -> None:
    exc_info = record.exc_info
    hint: dict[str, Any]
    if exc_info and exc_info[1] is not None:
        if sent_last(client.integrations, exc_info[1]):
            # A framework logging the error its integration has just captured (Django's
            # django.request, Flask's app logger): the log would be a duplicate.
            return
        event, hint = event_from_exception(
            exc_info, options=client.options, mechanism={"type": "logging", "handled": True}
        )
    else:
        event, hint = {}, {}
        if exc_info:
            # logging.exception() (or exc_info=True) with nothing being handled: the stack of
            # the logging call is the best account of where it happened.
            client.attach_current_stack(event)
    hint["log_record"] = record
    event["level"] = _level_name(record.levelno)
    event["logger"] = record.name
    params = record.args if isinstance(record.args, tuple) else ()
    event["logentry"] = {"message": str(record.msg), "params": list(params), "formatted": _message(record)}
    extra = _extra(record)
    if extra:
        event["extra"] = extra
    hub.capture_event(event, hint)
