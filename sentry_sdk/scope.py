"""The scope: data (tags, user, breadcrumbs, processors...) applied to every event captured under it.

Pushing a scope copies it. The copy shares its containers with the original until either side
writes, so a push costs a handful of attribute reads rather than copying every dict.
"""

from __future__ import annotations

from collections import deque

from ._log import logger

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .types import Breadcrumb, ErrorProcessor, Event, EventProcessor, ExcInfo, Hint


_global_event_processors: list[EventProcessor] = []


def add_global_event_processor(processor: EventProcessor) -> EventProcessor:
    """Run ``processor(event, hint)`` on every event of every scope, before scope processors."""
    _global_event_processors.append(processor)
    return processor


class Scope:
    """Data that is merged into events captured while this scope is active."""

    __slots__ = (
        "_level",
        "_fingerprint",
        "_transaction",
        "_user",
        "_tags",
        "_contexts",
        "_extras",
        "_breadcrumbs",
        "_event_processors",
        "_error_processors",
        "_shared",
    )

    def __init__(self) -> None:
        self._level: str | None = None
        self._fingerprint: list[str] | None = None
        self._transaction: str | None = None
        self._user: dict[str, Any] | None = None
        self._tags: dict[str, Any] = {}
        self._contexts: dict[str, dict[str, Any]] = {}
        self._extras: dict[str, Any] = {}
        self._breadcrumbs: deque[Breadcrumb] = deque()
        self._event_processors: list[EventProcessor] = []
        self._error_processors: list[tuple[ErrorProcessor, type | None]] = []
        # True while the containers above may be shared with a copy of this scope.
        self._shared = False

    # -- copying ------------------------------------------------------------------------------

    def __copy__(self) -> Scope:
        rv = Scope.__new__(Scope)
        rv._level = self._level
        rv._fingerprint = self._fingerprint
        rv._transaction = self._transaction
        rv._user = self._user
        rv._tags = self._tags
        rv._contexts = self._contexts
        rv._extras = self._extras
        rv._breadcrumbs = self._breadcrumbs
        rv._event_processors = self._event_processors
        rv._error_processors = self._error_processors
        rv._shared = self._shared = True
        return rv

    copy = __copy__

    def _own(self) -> None:
        """Take private copies of the shared containers before the first write."""
        self._tags = dict(self._tags)
        self._contexts = dict(self._contexts)
        self._extras = dict(self._extras)
        self._breadcrumbs = self._breadcrumbs.copy()
        self._event_processors = list(self._event_processors)
        self._error_processors = list(self._error_processors)
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
    def transaction(self) -> str | None:
        """The transaction (for errors: the culprit, e.g. the view name) events get."""
        return self._transaction

    @transaction.setter
    def transaction(self, value: str | None) -> None:
        self._transaction = value

    @property
    def user(self) -> dict[str, Any] | None:
        """The user events get: a dict such as ``{"id": 1, "email": ...}``."""
        return self._user

    @user.setter
    def user(self, value: dict[str, Any] | None) -> None:
        self._user = dict(value) if value is not None else None

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
        self._tags.update(tags)

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
        if len(crumbs) >= max_breadcrumbs:
            while len(crumbs) >= max_breadcrumbs:
                crumbs.popleft()
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
        if self._shared:
            self._own()
        self._event_processors.append(processor)

    def add_error_processor(self, processor: ErrorProcessor, cls: type | None = None) -> None:
        """Run ``processor(event, exc_info)`` on error events (of exceptions of ``cls``, if given)."""
        if self._shared:
            self._own()
        self._error_processors.append((processor, cls))

    def clear(self) -> None:
        """Reset the scope to an empty one."""
        Scope.__init__(self)

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
            event["user"] = dict(self._user)
        if self._transaction is not None and "transaction" not in event:
            event["transaction"] = self._transaction
        if self._tags:
            event["tags"] = {**self._tags, **(event.get("tags") or {})}
        if self._extras:
            event["extra"] = {**self._extras, **(event.get("extra") or {})}
        if self._contexts:
            event["contexts"] = {**self._contexts, **(event.get("contexts") or {})}
        if self._breadcrumbs:
            own = event.get("breadcrumbs")
            if isinstance(own, dict):
                own = own.get("values")
            event["breadcrumbs"] = {"values": [*self._breadcrumbs, *(own or ())]}

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


def _run_processor(processor: Any, event: Event, arg: Any) -> Event | None:
    """Call a user processor; one that raises is logged and skipped, keeping the event."""
    try:
        result: Event | None = processor(event, arg)
    except Exception:
        logger.error("event processor %r raised; the event is kept as it was", processor, exc_info=True)
        return event
    return result


__all__ = ["Scope", "add_global_event_processor"]
