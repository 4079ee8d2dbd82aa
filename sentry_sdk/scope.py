"""The scope: data (tags, user, breadcrumbs, processors...) applied to every event captured under it.

Pushing a scope copies it. The copy shares its containers with the original until either side
writes, so a push costs a handful of attribute reads rather than copying every dict.

A scope may also hold a client (``set_client``). Which scopes are current, and how the 2.x names
(current, isolation and global scope) map onto the hub's stack, is described in :mod:`.hub`.
"""

from __future__ import annotations

from collections import deque

from ._log import logger
from ._tracing.scope_methods import TracingMethods

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    from ._nonrecording import ClientLike
    from ._tracing.spans import Transaction
    from .attachments import Attachment
    from .types import Breadcrumb, ErrorProcessor, Event, EventProcessor, ExcInfo, Hint


_global_event_processors: list[EventProcessor] = []
# A copy's fields are all set by __copy__; object.__new__ bound here skips the lookup on the class.
_new_object = object.__new__


def add_global_event_processor(processor: EventProcessor) -> EventProcessor:
    """Run ``processor(event, hint)`` on every event of every scope, before scope processors."""
    _global_event_processors.append(processor)
    return processor


class _HubSide:
    """What the scope's 2.x methods need from the hub and the module API above it.

    Those modules import this one, so this one cannot import them: ``sentry_sdk.api`` fills these
    in when it loads, which the package's ``__init__`` does before any scope is handed out.
    """

    capture_with: Callable[[Scope, str, tuple[Any, ...], Scope | None, dict[str, Any]], str | None]
    client: Callable[[], ClientLike]
    current_scope: Callable[[], Scope]
    isolation_scope: Callable[[], Scope]
    use_scope: Callable[[Scope], Any]
    use_isolation_scope: Callable[[Scope], Any]


_hub = _HubSide()


class Scope(TracingMethods):
    """Data that is merged into events captured while this scope is active (tracing: the mixin)."""

    __slots__ = (
        "_level",
        "_fingerprint",
        "_transaction",
        "_transaction_source",
        "_user",
        "_tags",
        "_contexts",
        "_extras",
        "_breadcrumbs",
        "_event_processors",
        "_error_processors",
        "_attachments",
        "_client",
        "_last_event_id",
        "_shared",
    )

    def __init__(self, ty: str | None = None, client: ClientLike | None = None) -> None:
        # Typed Any: the hub, which knows the client's class, reads it; this module cannot name it.
        self._client: Any = client
        # ``ty`` ("current", "isolation", "global") is accepted as sentry-sdk 2.x does; which role
        # a scope plays is decided by where it sits in the hub's stack, not by this label.
        self._last_event_id: str | None = None
        self._reset_data()

    def _reset_data(self) -> None:
        self._level: str | None = None
        self._fingerprint: list[str] | None = None
        self._transaction: str | None = None
        self._transaction_source: str | None = None
        self._user: dict[str, Any] | None = None
        self._tags: dict[str, Any] = {}
        self._contexts: dict[str, dict[str, Any]] = {}
        self._extras: dict[str, Any] = {}
        self._breadcrumbs: deque[Breadcrumb] = deque()
        self._event_processors: list[EventProcessor] = []
        self._error_processors: list[tuple[ErrorProcessor, type | None]] = []
        self._attachments: list[Attachment] = []
        # True while the containers above may be shared with a copy of this scope.
        self._shared = False
        self._span = None
        self._propagation = None

    # -- copying ------------------------------------------------------------------------------

    def __copy__(self) -> Scope:
        rv = _new_object(Scope)
        rv._level = self._level
        rv._fingerprint = self._fingerprint
        rv._transaction = self._transaction
        rv._transaction_source = self._transaction_source
        rv._user = self._user
        rv._tags = self._tags
        rv._contexts = self._contexts
        rv._extras = self._extras
        rv._breadcrumbs = self._breadcrumbs
        rv._event_processors = self._event_processors
        rv._error_processors = self._error_processors
        rv._attachments = self._attachments
        rv._client = self._client
        rv._last_event_id = self._last_event_id
        rv._span = self._span
        rv._propagation = self._propagation
        rv._shared = self._shared = True
        return rv

    copy = __copy__

    def fork(self) -> Scope:
        """A copy of this scope, to change without affecting this one."""
        return self.__copy__()

    def _own(self) -> None:
        """Take private copies of the shared containers before the first write."""
        self._tags = dict(self._tags)
        self._contexts = dict(self._contexts)
        self._extras = dict(self._extras)
        self._breadcrumbs = self._breadcrumbs.copy()
        self._event_processors = list(self._event_processors)
        self._error_processors = list(self._error_processors)
        self._attachments = list(self._attachments)
        self._shared = False

    # -- simple fields ------------------------------------------------------------------------

    @property
    def level(self) -> str | None:
        """The level events captured under this scope get (overrides the event's own)."""
        return self._level

    @level.setter
    def level(self, value: str | None) -> None:
        self._level = value

    def set_level(self, value: str | None) -> None:
        """Set the level of events captured under this scope."""
        self._level = value

    @property
    def fingerprint(self) -> list[str] | None:
        """The grouping fingerprint events get when they have none of their own."""
        return self._fingerprint

    @fingerprint.setter
    def fingerprint(self, value: list[str] | None) -> None:
        self._fingerprint = list(value) if value is not None else None

    @property
    def transaction(self) -> Transaction | None:
        """The running transaction (of the scope's span), as sentry-sdk 2.x gives it.

        Setting a string names the events instead, as the early API did (``set_transaction_name``
        is the 2.x form): the running transaction, if any, is renamed too.
        """
        span = self._span
        return span.containing_transaction if span is not None else None

    @transaction.setter
    def transaction(self, value: str | None) -> None:
        self._transaction = value
        self._transaction_source = None
        running = self.transaction
        if running is not None and value:
            running.name = value

    @property
    def transaction_source(self) -> str | None:
        """How the transaction name was found (``route``, ``url``, ``component``, ``task``, ``custom``...)."""
        return self._transaction_source

    def set_transaction_name(self, name: str, source: str | None = None) -> None:
        """Name what the program is doing (a route, a task); events get it as ``transaction``.

        ``source`` goes out as ``transaction_info.source``; a name set without one is ``custom``.
        """
        self._transaction = name
        self._transaction_source = source if source is not None else "custom"
        running = self.transaction
        if running is not None:
            running.set_name(name, self._transaction_source)

    @property
    def user(self) -> dict[str, Any] | None:
        """The user events get: a dict such as ``{"id": 1, "email": ...}``."""
        return self._user

    @user.setter
    def user(self, value: dict[str, Any] | None) -> None:
        self._user = _plain_dict(value) if value is not None else None

    def set_user(self, value: dict[str, Any] | None) -> None:
        """Set the user of events captured under this scope (``None`` clears it)."""
        self.user = value

    # -- dictionaries -------------------------------------------------------------------------

    def set_tag(self, key: str, value: Any) -> None:
        """Set a tag: a short, indexed, searchable key/value pair."""
        if self._shared:
            self._own()
        self._tags[key] = value

    def set_tags(self, tags: dict[str, Any]) -> None:
        """Set several tags at once."""
        if self._shared:
            self._own()
        self._tags.update(_plain_dict(tags) or ())

    def remove_tag(self, key: str) -> None:
        """Remove a tag if it is set."""
        if self._shared:
            self._own()
        self._tags.pop(key, None)

    def set_extra(self, key: str, value: Any) -> None:
        """Attach arbitrary (non-indexed) data to events."""
        if self._shared:
            self._own()
        self._extras[key] = value

    def remove_extra(self, key: str) -> None:
        """Remove extra data if it is set."""
        if self._shared:
            self._own()
        self._extras.pop(key, None)

    def set_context(self, key: str, value: dict[str, Any]) -> None:
        """Set a structured context, e.g. ``set_context("order", {"id": 5})``."""
        if self._shared:
            self._own()
        self._contexts[key] = value

    def remove_context(self, key: str) -> None:
        """Remove a context if it is set."""
        if self._shared:
            self._own()
        self._contexts.pop(key, None)

    # -- breadcrumbs and processors -----------------------------------------------------------

    def add_breadcrumb_raw(self, crumb: Breadcrumb, max_breadcrumbs: int) -> None:
        """Append a finished breadcrumb, keeping at most ``max_breadcrumbs``."""
        if self._shared:
            self._own()
        crumbs = self._breadcrumbs
        if crumbs.maxlen != max_breadcrumbs:
            # The deque keeps the limit itself: appending to a full one drops the oldest, in C.
            crumbs = self._breadcrumbs = deque(crumbs, maxlen=max_breadcrumbs)
        crumbs.append(crumb)

    def clear_breadcrumbs(self) -> None:
        """Forget the breadcrumbs recorded so far."""
        if self._shared:
            self._own()
        self._breadcrumbs.clear()

    @property
    def breadcrumbs(self) -> list[Breadcrumb]:
        """A snapshot of the recorded breadcrumbs, oldest first."""
        return list(self._breadcrumbs)

    def add_event_processor(self, processor: EventProcessor) -> None:
        """Run ``processor(event, hint)`` on events of this scope; returning ``None`` drops the event."""
        # A new list rather than an append: the list may be shared with the scope this one was
        # forked from, and replacing it spares copying every other container (a web request adds
        # one processor to a freshly forked scope).
        self._event_processors = [*self._event_processors, processor]

    def add_error_processor(self, processor: ErrorProcessor, cls: type | None = None) -> None:
        """Run ``processor(event, exc_info)`` on error events (of exceptions of ``cls``, if given)."""
        if self._shared:
            self._own()
        self._error_processors.append((processor, cls))

    def add_attachment(
        self,
        bytes: bytes | None = None,  # noqa: A002 - sentry-sdk's keyword
        filename: str | None = None,
        path: str | None = None,
        content_type: str | None = None,
        add_to_transactions: bool = False,
    ) -> None:
        """Send a file (given as ``bytes`` or a ``path``) along with every event of this scope."""
        from .attachments import Attachment

        if self._shared:
            self._own()
        self._attachments.append(
            Attachment(
                bytes=bytes,
                filename=filename,
                path=path,
                content_type=content_type,
                add_to_transactions=add_to_transactions,
            )
        )

    def clear_attachments(self) -> None:
        """Forget the attachments added so far."""
        if self._shared:
            self._own()
        self._attachments.clear()

    @property
    def attachments(self) -> list[Attachment]:
        """A snapshot of the attachments sent with events of this scope."""
        return list(self._attachments)

    def clear(self) -> None:
        """Reset the scope's data to an empty one (its client stays)."""
        self._reset_data()

    # -- client -------------------------------------------------------------------------------

    def set_client(self, client: ClientLike | None = None) -> None:
        """Bind ``client`` to this scope (``None`` unbinds); events captured under it go there."""
        self._client = client

    @property
    def client(self) -> ClientLike:
        """This scope's own client, or a client that records nothing when none is bound."""
        bound: ClientLike | None = self._client
        if bound is not None:
            return bound
        from ._nonrecording import NonRecordingClient

        return NonRecordingClient()

    def last_event_id(self) -> str | None:
        """The id of the last event captured through this scope (as an isolation scope)."""
        return self._last_event_id

    # -- merging ------------------------------------------------------------------------------

    def update_from_scope(self, scope: Scope) -> None:
        """Take ``scope``'s data on top of this scope's: its values win, lists are extended."""
        if self._shared:
            self._own()
        if scope._level is not None:
            self._level = scope._level
        if scope._fingerprint is not None:
            self._fingerprint = scope._fingerprint
        if scope._transaction is not None:
            self._transaction = scope._transaction
            self._transaction_source = scope._transaction_source
        if scope._user is not None:
            self._user = scope._user
        self._tags.update(scope._tags)
        self._extras.update(scope._extras)
        self._contexts.update(scope._contexts)
        if scope._breadcrumbs:
            self._breadcrumbs.extend(scope._breadcrumbs)
        self._event_processors.extend(scope._event_processors)
        self._error_processors.extend(scope._error_processors)
        self._attachments.extend(scope._attachments)
        if scope._span is not None:
            self._span = scope._span
        if scope._propagation is not None:
            self._propagation = scope._propagation

    def update_from_kwargs(
        self,
        user: dict[str, Any] | None = None,
        level: str | None = None,
        extras: dict[str, Any] | None = None,
        contexts: dict[str, dict[str, Any]] | None = None,
        tags: dict[str, Any] | None = None,
        fingerprint: list[str] | None = None,
    ) -> None:
        """Set several fields at once, as ``capture_*(..., tags=..., user=...)`` do."""
        if self._shared:
            self._own()
        if level is not None:
            self._level = level
        if user is not None:
            self.user = user
        if extras is not None:
            self._extras.update(_plain_dict(extras) or ())
        if contexts is not None:
            self._contexts.update(_plain_dict(contexts) or ())
        if tags is not None:
            self._tags.update(_plain_dict(tags) or ())
        if fingerprint is not None:
            self.fingerprint = fingerprint

    # -- capturing (2.x style: ``scope.capture_exception()``) ---------------------------------

    def capture_event(
        self, event: Event, hint: Hint | None = None, scope: Scope | None = None, **scope_kwargs: Any
    ) -> str | None:
        """Capture ``event`` with this scope's data (plus ``scope``/keyword data) on top."""
        return _hub.capture_with(self, "event", (event, hint), scope, scope_kwargs)

    def capture_message(
        self, message: str, level: str | None = None, scope: Scope | None = None, **scope_kwargs: Any
    ) -> str | None:
        """Capture a message with this scope's data on top."""
        return _hub.capture_with(self, "message", (message, level), scope, scope_kwargs)

    def capture_exception(
        self,
        error: BaseException | ExcInfo | None = None,
        scope: Scope | None = None,
        **scope_kwargs: Any,
    ) -> str | None:
        """Capture an exception (or the one being handled) with this scope's data on top."""
        return _hub.capture_with(self, "exception", (error,), scope, scope_kwargs)

    # -- the scopes in effect (2.x class methods) ----------------------------------------------

    @classmethod
    def get_current_scope(cls) -> Scope:
        """The current scope of the calling thread or task."""
        return _hub.current_scope()

    @classmethod
    def get_isolation_scope(cls) -> Scope:
        """The isolation scope of the calling thread or task."""
        return _hub.isolation_scope()

    @classmethod
    def get_global_scope(cls) -> Scope:
        """The global scope, applied to every event of the process."""
        return GLOBAL_SCOPE

    @classmethod
    def get_client(cls) -> ClientLike:
        """The client in effect for the calling thread or task."""
        return _hub.client()

    # -- applying -----------------------------------------------------------------------------

    def apply_to_event(self, event: Event, hint: Hint) -> Event | None:
        """Merge this scope's data into ``event`` (its own values win) and run the processors.

        Returns the event, or ``None`` when a processor dropped it.
        """
        if self._level is not None:
            event["level"] = self._level
        if self._fingerprint is not None and "fingerprint" not in event:
            event["fingerprint"] = self._fingerprint
        if self._user is not None and "user" not in event:
            event["user"] = dict(self._user) if type(self._user) is dict else self._user
        if self._transaction is not None and "transaction" not in event:
            event["transaction"] = self._transaction
            if self._transaction_source is not None and "transaction_info" not in event:
                event["transaction_info"] = {"source": self._transaction_source}
        if self._tags:
            event["tags"] = {**self._tags, **(_mapping_or_empty(event.get("tags")))}
        if self._extras:
            event["extra"] = {**self._extras, **(_mapping_or_empty(event.get("extra")))}
        if self._contexts:
            event["contexts"] = {**self._contexts, **(_mapping_or_empty(event.get("contexts")))}
        contexts = event.get("contexts")
        if not isinstance(contexts, dict) or "trace" not in contexts:
            span = self._span
            if span is not None:
                trace = span.get_trace_context()
            elif self._propagation is not None:
                trace = self._propagation.trace_context()
            else:
                trace = None
            if trace is not None:
                event["contexts"] = {**(contexts if isinstance(contexts, dict) else {}), "trace": trace}
        if self._breadcrumbs:
            own = event.get("breadcrumbs")
            if isinstance(own, dict):
                own = own.get("values")
            event["breadcrumbs"] = {"values": [*self._breadcrumbs, *(own or ())]}

        if self._attachments:
            hint["attachments"] = [*hint.get("attachments", ()), *self._attachments]

        exc_info: ExcInfo | None = hint.get("exc_info")
        if exc_info is not None and self._error_processors:
            for error_processor, cls in self._error_processors:
                if cls is not None and not isinstance(exc_info[1], cls):
                    continue
                result = _run_processor(error_processor, event, exc_info)
                if result is None:
                    logger.debug("event dropped by error processor %r", error_processor)
                    return None
                event = result

        for processors in (_global_event_processors, self._event_processors):
            for processor in processors:
                result = _run_processor(processor, event, hint)
                if result is None:
                    logger.debug("event dropped by event processor %r", processor)
                    return None
                event = result
        return event

    def __repr__(self) -> str:
        return f"<Scope tags={self._tags!r} user={self._user!r} level={self._level!r}>"


def _plain_dict(value: Any) -> Any:
    """A plain ``dict`` copy of a mapping the program handed over, made without running the
    program's code where that can be avoided (a dict subclass's overrides are bypassed), and within
    a time bound where it cannot; ``None`` for ``None`` or a mapping that cannot be read.

    A value that is not a mapping at all is given back as it is, for the serializer to describe.
    """
    if type(value) is dict:
        return value.copy()
    if value is None:
        return None
    if isinstance(value, dict):
        return dict(dict.items(value))
    from collections.abc import Mapping

    from ._usercode import TimeBudget

    try:
        if isinstance(value, Mapping):
            return TimeBudget().call(dict, value)
    except Exception:
        logger.warning("a %s could not be read as a mapping; it is left out", type(value).__name__)
        return None
    return value


def _mapping_or_empty(value: Any) -> dict[str, Any]:
    plain = _plain_dict(value)
    return plain if type(plain) is dict else {}


def _run_processor(processor: Any, event: Event, arg: Any) -> Event | None:
    """Call a user processor; one that raises is logged and skipped, keeping the event."""
    try:
        result: Event | None = processor(event, arg)
    except Exception:
        logger.error("event processor %r raised; the event is kept as it was", processor, exc_info=True)
        return event
    return result


def _merged(scopes: Iterator[Scope]) -> Scope:
    """One scope holding the data of ``scopes``, later ones winning; breadcrumbs in time order."""
    rv = Scope()
    sources = 0
    for scope in scopes:
        if scope._breadcrumbs:
            sources += 1
        rv.update_from_scope(scope)
    if sources > 1:
        ordered = sorted(rv._breadcrumbs, key=_crumb_time)
        rv._breadcrumbs = deque(ordered)
    return rv


def _crumb_time(crumb: Breadcrumb) -> float:
    value = crumb.get("timestamp")
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(getattr(value, "timestamp")())  # noqa: B009 - a datetime passed by the user
    except Exception:
        return 0.0


# Applied to every event of the process, below the isolation and current scopes. ``init`` binds
# its client here, so every thread and task finds it.
GLOBAL_SCOPE = Scope("global")


def use_scope(scope: Scope) -> Any:
    """``with use_scope(scope):`` makes ``scope`` the current scope for the block."""
    return _hub.use_scope(scope)


def use_isolation_scope(isolation_scope: Scope) -> Any:
    """``with use_isolation_scope(scope):`` makes ``scope`` the isolation scope for the block."""
    return _hub.use_isolation_scope(isolation_scope)


__all__ = ["GLOBAL_SCOPE", "Scope", "add_global_event_processor", "use_isolation_scope", "use_scope"]
