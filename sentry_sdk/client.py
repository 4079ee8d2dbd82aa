"""The client: turns captured data into finished events and hands them to the transport.

The event pipeline, in sentry-sdk's order: ``ignore_errors`` → event id and timestamp → scope data,
error processors, event processors → attached stack trace → release/environment/sdk defaults →
serialization with limits → ``before_send`` → sampling → envelope → transport. Every event that
does not reach the transport is dropped for a reason that is counted and logged.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from types import TracebackType

from ._dsn import Dsn
from ._log import logger, report_internal_error, set_debug
from ._nonrecording import NonRecordingClient
from ._options import resolve_options
from ._prebuilt import serialized
from ._serializer import serialize_event
from ._stacktrace import frames_from_stack, set_in_app
from ._tracing.ids import event_id as _new_event_id
from .consts import SDK_NAME, SDK_PACKAGE, VERSION
from .envelope import Envelope, Item, PayloadRef
from .scope import Scope
from .transport import Transport, _now_iso, make_transport

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False


if TYPE_CHECKING:
    from typing import Any

    from ._secrets import SecretFinder
    from .integrations import Integration
    from .scrubber import EventScrubber
    from .types import Breadcrumb, BreadcrumbHint, Event, Hint

__all__ = ["Client", "NonRecordingClient"]

# True while this context is inside the pipeline: an event captured from within it (a log line
# in before_send, say) would recurse, so it is dropped instead.
_in_pipeline: ContextVar[bool] = ContextVar("sentry_in_pipeline", default=False)
_in_breadcrumb: ContextVar[bool] = ContextVar("sentry_in_breadcrumb", default=False)


def _runtime_contexts() -> dict[str, dict[str, Any]]:
    impl = sys.implementation
    version = ".".join(str(part) for part in sys.version_info[:3])
    contexts: dict[str, dict[str, Any]] = {
        "runtime": {
            "name": {"cpython": "CPython"}.get(impl.name, impl.name),
            "version": version,
            "build": sys.version,
        }
    }
    if hasattr(os, "uname"):
        uname = os.uname()
        contexts["os"] = {"name": uname.sysname, "version": uname.release, "build": uname.version}
    else:
        contexts["os"] = {"name": {"win32": "Windows"}.get(sys.platform, sys.platform)}
    # Built by the SDK and the same for every event: copied into each without being walked.
    return {name: serialized(context) for name, context in contexts.items()}


class Client:
    """Holds the options, the transport and the integrations; runs the event pipeline."""

    def __init__(self, dsn: str | None = None, **options: Any) -> None:
        self.options: dict[str, Any] = resolve_options(dsn, options)
        if self.options["debug"]:
            set_debug(True)
        self.parsed_dsn: Dsn | None = Dsn(self.options["dsn"]) if self.options["dsn"] else None
        self.transport: Transport | None = make_transport(self.options)
        self.lost_events: Counter[str] = Counter()
        self._closed = False
        self._ignore_types = tuple(e for e in self.options["ignore_errors"] if isinstance(e, type))
        self._ignore_names = frozenset(e for e in self.options["ignore_errors"] if isinstance(e, str))
        self._contexts = _runtime_contexts()
        scrubber = self.options["event_scrubber"]
        if scrubber is None:
            from .scrubber import EventScrubber

            scrubber = EventScrubber(send_default_pii=self.options["send_default_pii"])
        self._scrubber: EventScrubber = scrubber
        secrets = self.options["scrub_secrets"]
        self._secrets: SecretFinder | None = None
        if secrets:
            from ._secrets import SecretFinder

            try:
                self._secrets = SecretFinder(() if secrets is True else secrets)
            except Exception as exc:  # re.error: a pattern of the user's
                raise ValueError(f"sentry_sdk option 'scrub_secrets' has a bad pattern: {exc}") from exc

        from .integrations import setup_integrations

        self.integrations: dict[str, Integration] = setup_integrations(self.options)
        if self.options.get("functions_to_trace"):
            from ._tracing.functions import instrument

            instrument(self.options["functions_to_trace"])
        self._sdk_info: dict[str, Any] = serialized(
            {
                "name": SDK_NAME,
                "version": VERSION,
                "packages": [{"name": SDK_PACKAGE, "version": VERSION}],
                "integrations": sorted(self.integrations),
            }
        )
        logger.debug("client created; DSN %s; integrations %s", self.dsn, sorted(self.integrations))

    @property
    def dsn(self) -> str | None:
        """The DSN events are sent to (``None`` when nothing is sent)."""
        dsn: str | None = self.options["dsn"]
        return dsn

    def is_active(self) -> bool:
        """Whether events captured now can be sent anywhere."""
        return self.transport is not None and not self._closed

    def get_integration(self, name_or_class: str | type[Integration]) -> Integration | None:
        """The enabled integration with this identifier (or of this class), if any."""
        key = name_or_class if isinstance(name_or_class, str) else name_or_class.identifier
        return self.integrations.get(key)

    def should_send_default_pii(self) -> bool:
        """Whether ``send_default_pii`` is on."""
        return bool(self.options["send_default_pii"])

    # -- breadcrumbs --------------------------------------------------------------------------

    def add_breadcrumb(
        self,
        scope: Scope,
        crumb: Breadcrumb | Callable[[], Breadcrumb] | None,
        hint: BreadcrumbHint | None,
        kwargs: dict[str, Any],
    ) -> None:
        """Finish a breadcrumb (call it if callable, defaults, ``before_breadcrumb``) and record it."""
        before = self.options["before_breadcrumb"]
        if callable(crumb) or before is not None:
            # User code runs here; a breadcrumb it records (say, by logging) is dropped rather
            # than sent through that same code again, which would recurse without end.
            if _in_breadcrumb.get():
                return
            token = _in_breadcrumb.set(True)
            try:
                finished = self._finish_breadcrumb(crumb, hint, kwargs, before)
            finally:
                _in_breadcrumb.reset(token)
        else:
            finished = self._finish_breadcrumb(crumb, hint, kwargs, None)
        max_breadcrumbs = self.options["max_breadcrumbs"]
        if finished is not None and max_breadcrumbs:
            scope.add_breadcrumb_raw(finished, max_breadcrumbs)

    def _finish_breadcrumb(
        self,
        crumb: Breadcrumb | Callable[[], Breadcrumb] | None,
        hint: BreadcrumbHint | None,
        kwargs: dict[str, Any],
        before: Callable[[Breadcrumb, BreadcrumbHint], Breadcrumb | None] | None,
    ) -> Breadcrumb | None:
        if callable(crumb):
            try:
                crumb = crumb()
            except Exception:
                logger.error("breadcrumb callback raised; no breadcrumb recorded", exc_info=True)
                return None
        if crumb is not None and not isinstance(crumb, Mapping):
            logger.warning("a breadcrumb must be a dict, got %r; ignored", type(crumb).__name__)
            return None
        crumb = {**crumb, **kwargs} if crumb else kwargs
        if not crumb:
            logger.debug("ignoring an empty breadcrumb")
            return None
        if "timestamp" not in crumb:
            crumb["timestamp"] = time.time()
        if "type" not in crumb:
            crumb["type"] = "default"
        if before is None:
            return crumb
        try:
            result = before(crumb, hint or {})
        except Exception:
            logger.error("before_breadcrumb raised; the breadcrumb is dropped", exc_info=True)
            return None
        if result is None:
            logger.debug("breadcrumb dropped by before_breadcrumb")
            return None
        if not isinstance(result, dict):
            logger.warning(
                "before_breadcrumb returned %r, not a dict; breadcrumb dropped", type(result).__name__
            )
            return None
        return result

    # -- events -------------------------------------------------------------------------------

    def capture_event(self, event: Event, hint: Hint | None = None, scope: Scope | None = None) -> str | None:
        """Run ``event`` through the pipeline and queue it for sending; returns its id or ``None``."""
        if self._closed:
            logger.debug("event captured after the client was closed; not sent")
            self.lost_events["client_closed"] += 1
            return None
        if _in_pipeline.get():
            logger.debug("event captured from inside the event pipeline; dropped to avoid recursion")
            self._lose("internal_sdk_error")
            return None
        token = _in_pipeline.set(True)
        try:
            return self._capture(event, hint if hint is not None else {}, scope)
        except Exception:
            report_internal_error()
            self._lose("internal_sdk_error")
            return None
        finally:
            _in_pipeline.reset(token)

    def _lose(self, reason: str, event: Event | None = None) -> None:
        self.lost_events[reason] += 1
        if self.transport is None:
            return
        if event is not None and event.get("type") == "transaction":
            self.transport.record_lost_event(reason, "transaction")
            spans = event.get("spans")
            self.transport.record_lost_event(
                reason, "span", 1 + (len(spans) if isinstance(spans, list) else 0)
            )
        else:
            self.transport.record_lost_event(reason, "error")

    def _is_ignored(self, exc_info: Any) -> bool:
        exc = exc_info[1] if isinstance(exc_info, tuple) else None
        if exc is None:
            return False
        if self._ignore_types and isinstance(exc, self._ignore_types):
            return True
        if self._ignore_names:
            cls = type(exc)
            return (
                cls.__name__ in self._ignore_names or f"{cls.__module__}.{cls.__name__}" in self._ignore_names
            )
        return False

    def _capture(self, event: Event, hint: Hint, scope: Scope | None) -> str | None:
        options = self.options
        is_transaction = event.get("type") == "transaction"
        if self._is_ignored(hint.get("exc_info")):
            logger.debug("event dropped: its exception matches ignore_errors")
            self._lose("event_processor")  # the reason sentry-sdk reports for ignore_errors
            return None
        event_id = event.get("event_id")
        if not event_id:
            event_id = event["event_id"] = _new_event_id()
        if "timestamp" not in event:
            event["timestamp"] = time.time()

        prepared = (scope if scope is not None else Scope()).apply_to_event(event, hint)
        if prepared is None:
            logger.debug("event %s dropped by an event processor", event_id)
            self._lose("event_processor", event)
            return None
        event = prepared

        if (
            options["attach_stacktrace"]
            and not is_transaction
            and "exception" not in event
            and "threads" not in event
        ):
            self.attach_current_stack(event)
        for key in ("release", "environment", "server_name", "dist"):
            if key not in event and options[key] is not None:
                event[key] = options[key]
        event.setdefault("platform", "python")
        if len(self._sdk_info["integrations"]) != len(self.integrations):
            # An auto-enabling integration was set up since (its framework was imported later).
            self._sdk_info = serialized({**self._sdk_info, "integrations": sorted(self.integrations)})
        event.setdefault("sdk", self._sdk_info)
        contexts = event.get("contexts")
        if contexts is None:
            event["contexts"] = dict(self._contexts)
        elif isinstance(contexts, dict):
            for key, value in self._contexts.items():
                contexts.setdefault(key, value)

        self._scrubber.scrub_event(event)
        event = serialize_event(
            event,
            max_value_length=options["max_value_length"],
            custom_repr=options["custom_repr"],
            secrets=self._secrets,
        )

        hook = "before_send_transaction" if is_transaction else "before_send"
        before_send = options.get(hook)
        if before_send is not None:
            try:
                result = before_send(event, hint)
            except Exception:
                logger.error("%s raised; event %s is dropped", hook, event_id, exc_info=True)
                self._lose("before_send", event)
                return None
            if result is None:
                logger.debug("event %s dropped by %s", event_id, hook)
                self._lose("before_send", event)
                return None
            if not isinstance(result, dict):
                logger.warning(
                    "%s returned %r, not an event dict or None; event %s is dropped",
                    hook,
                    type(result).__name__,
                    event_id,
                )
                self._lose("before_send", event)
                return None
            # before_send may have put in anything: serialized again, the event stays within the
            # limits and in the shape Sentry accepts.
            sent = serialize_event(
                result,
                max_value_length=options["max_value_length"],
                custom_repr=options["custom_repr"],
                secrets=self._secrets,
            )
            # A new dict from before_send still gets the id and time the capture returned and used.
            for key in ("event_id", "timestamp", "platform"):
                if sent.get(key) is None and key in event:
                    sent[key] = event[key]
            event = sent

        if not is_transaction and not self._sampled(event, hint):
            logger.debug("event %s dropped by sampling", event_id)
            self._lose("sample_rate")
            return None

        if self.transport is None:
            logger.debug("event %s not sent: no DSN configured", event_id)
            return event_id
        headers: dict[str, Any] = {"event_id": event_id, "sent_at": _now_iso()}
        if scope is not None:
            dsc = _dynamic_sampling_context(scope, options)
            if dsc:
                headers["trace"] = dsc
        envelope = Envelope(headers=headers)
        if is_transaction:
            envelope.add_item(Item(PayloadRef(json=event), type="transaction"))
        else:
            envelope.add_event(event)
        for attachment in hint.get("attachments") or ():
            item = _attachment_item(attachment)
            if item is not None:
                envelope.add_item(item)
        self.transport.capture_envelope(envelope)
        return event_id

    def _sampled(self, event: Event, hint: Hint) -> bool:
        sampler = self.options["error_sampler"]
        if sampler is not None:
            try:
                rate = sampler(event, hint)
            except Exception:
                logger.error("error_sampler raised; the event is kept", exc_info=True)
                return True
            if isinstance(rate, bool):
                rate = float(rate)
            if not isinstance(rate, (int, float)) or not 0.0 <= rate <= 1.0:
                logger.warning("error_sampler returned %r, not a rate between 0 and 1; event kept", rate)
                return True
        else:
            rate = self.options["sample_rate"]
        if rate >= 1.0:
            return True
        from random import random  # only needed when sampling is on

        return bool(random() < rate)

    def attach_current_stack(self, event: Event) -> None:
        """Give ``event`` the stack of the code that captured it, as ``threads`` (options apply)."""
        frame = sys._getframe(0)
        # Start at the first frame outside the SDK and the logging module: that is where the
        # user captured (or logged).
        while frame is not None and _is_capture_machinery(str(frame.f_globals.get("__name__", ""))):
            frame = frame.f_back  # type: ignore[assignment]
        options = self.options
        stacktrace = frames_from_stack(
            frame,
            include_locals=options["include_local_variables"],
            include_source=options["include_source_context"],
            max_frames=options["max_stack_frames"],
        )
        set_in_app(
            stacktrace["frames"],
            in_app_include=options["in_app_include"],
            in_app_exclude=options["in_app_exclude"],
            project_root=options["project_root"],
        )
        event["threads"] = {"values": [{"stacktrace": stacktrace, "crashed": False, "current": True}]}

    # -- lifecycle ----------------------------------------------------------------------------

    def flush(
        self, timeout: float | None = None, callback: Callable[[int, float], None] | None = None
    ) -> None:
        """Wait up to ``timeout`` seconds (default ``shutdown_timeout``) for queued events to be sent."""
        if self.transport is not None:
            if timeout is None:
                timeout = self.options["shutdown_timeout"]
            try:
                self.transport.flush(timeout, callback)
            except Exception:
                report_internal_error()

    def close(
        self, timeout: float | None = None, callback: Callable[[int, float], None] | None = None
    ) -> None:
        """Flush, then stop the transport; the client sends nothing afterwards."""
        self._closed = True
        transport = self.transport
        if transport is None:
            return
        self.flush(timeout, callback)
        self.transport = None
        try:
            transport.kill()
        except Exception:
            report_internal_error()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _dynamic_sampling_context(scope: Scope, options: dict[str, Any]) -> dict[str, str] | None:
    """The envelope's ``trace`` header: the DSC of the event's transaction, else of its trace."""
    try:
        span = scope._span
        transaction = span.containing_transaction if span is not None else None
        if transaction is not None:
            return transaction.get_baggage_entries(options)
        if scope._propagation is not None:
            return scope._propagation.dynamic_sampling_context(options)
    except Exception:
        report_internal_error()
    return None


def _is_capture_machinery(module: str) -> bool:
    return module == "logging" or module.startswith(("sentry_sdk.", "logging."))


def _attachment_item(attachment: Any) -> Item | None:
    """The envelope item of an attachment, its file read now; ``None`` (logged) if it cannot be."""
    try:
        item: Item = attachment.to_envelope_item()
        item.get_bytes()
    except Exception as exc:
        logger.warning("attachment %r left out: %s", attachment, exc)
        return None
    return item
