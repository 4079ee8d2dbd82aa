"""A drop-in Sentry SDK: ``sentry_sdk.init(dsn=...)``, then errors, logs and breadcrumbs reach Sentry."""

from __future__ import annotations

from .api import (
    add_attachment,
    add_breadcrumb,
    capture_event,
    capture_exception,
    capture_message,
    configure_scope,
    continue_trace,
    flush,
    flush_async,
    get_baggage,
    get_client,
    get_current_hub,
    get_current_scope,
    get_current_span,
    get_global_scope,
    get_isolation_scope,
    get_traceparent,
    init,
    is_initialized,
    isolation_scope,
    last_event_id,
    new_scope,
    push_scope,
    set_context,
    set_extra,
    set_level,
    set_measurement,
    set_tag,
    set_tags,
    set_transaction_name,
    set_user,
    start_span,
    start_transaction,
    update_current_span,
)
from .consts import VERSION
from .hub import Hub
from .scope import Scope

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from . import integrations
    from .client import Client
    from .tracing import trace
    from .transport import HttpTransport, Transport

# Loaded on first access (``sentry_sdk.Client``, ``from sentry_sdk import Transport``): the
# pipeline and the transport are needed from ``init`` on, not by ``import sentry_sdk``.
_LAZY = {
    "Client": ("client", "Client"),
    "HttpTransport": ("transport", "HttpTransport"),
    "Transport": ("transport", "Transport"),
    "integrations": ("integrations", None),
    "trace": ("tracing", "trace"),
    "tracing": ("tracing", None),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'sentry_sdk' has no attribute {name!r}")
    import importlib

    module_name, attr = _LAZY[name]
    module = importlib.import_module(f".{module_name}", __name__)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


__all__ = [
    "Client",
    "HttpTransport",
    "Hub",
    "Scope",
    "Transport",
    "VERSION",
    "add_attachment",
    "add_breadcrumb",
    "capture_event",
    "capture_exception",
    "capture_message",
    "configure_scope",
    "continue_trace",
    "flush",
    "flush_async",
    "get_baggage",
    "get_client",
    "get_current_hub",
    "get_current_scope",
    "get_current_span",
    "get_global_scope",
    "get_isolation_scope",
    "get_traceparent",
    "init",
    "integrations",
    "is_initialized",
    "isolation_scope",
    "last_event_id",
    "new_scope",
    "push_scope",
    "set_context",
    "set_extra",
    "set_level",
    "set_measurement",
    "set_tag",
    "set_tags",
    "set_transaction_name",
    "set_user",
    "start_span",
    "start_transaction",
    "trace",
    "update_current_span",
]
