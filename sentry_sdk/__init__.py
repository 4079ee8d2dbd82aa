"""A drop-in Sentry SDK: ``sentry_sdk.init(dsn=...)``, then errors, logs and breadcrumbs reach Sentry."""

from __future__ import annotations

from . import integrations
from .api import (
    add_breadcrumb,
    capture_event,
    capture_exception,
    capture_message,
    configure_scope,
    flush,
    get_current_hub,
    init,
    last_event_id,
    push_scope,
    set_context,
    set_extra,
    set_level,
    set_tag,
    set_tags,
    set_user,
)
from .client import Client
from .consts import VERSION
from .hub import Hub
from .scope import Scope
from .transport import HttpTransport, Transport

__all__ = [
    "Client",
    "HttpTransport",
    "Hub",
    "Scope",
    "Transport",
    "VERSION",
    "add_breadcrumb",
    "capture_event",
    "capture_exception",
    "capture_message",
    "configure_scope",
    "flush",
    "get_current_hub",
    "init",
    "integrations",
    "last_event_id",
    "push_scope",
    "set_context",
    "set_extra",
    "set_level",
    "set_tag",
    "set_tags",
    "set_user",
]
