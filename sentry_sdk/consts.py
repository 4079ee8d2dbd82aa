"""Constants shared across the SDK: its version, identity and default limits."""

from __future__ import annotations

# We mirror the public API of sentry-sdk 2.68; reporting the same version lets
# version-gated user code and server-side features take the path they expect.
VERSION = "2.68.0"

SDK_NAME = "sentry.python"
SDK_PACKAGE = "pypi:sentry-sdk"
USER_AGENT = f"{SDK_NAME}/{VERSION}"

DEFAULT_MAX_BREADCRUMBS = 100
DEFAULT_QUEUE_SIZE = 100  # sentry-sdk's count bound; ours applies it only when set explicitly
# What the transport queue may hold, in encoded envelope bytes: thousands of typical events, so
# a burst is not cut at a small count, while memory stays bounded whatever the events' size.
DEFAULT_QUEUE_BYTES = 8 * 1024 * 1024
DEFAULT_SHUTDOWN_TIMEOUT = 2.0
DEFAULT_MAX_STACK_FRAMES = 100

# Server-side ingestion caps events at 1 MiB; keep our own budget below it.
MAX_EVENT_BYTES = 1_000_000

__all__ = [
    "DEFAULT_MAX_BREADCRUMBS",
    "DEFAULT_MAX_STACK_FRAMES",
    "DEFAULT_QUEUE_BYTES",
    "DEFAULT_QUEUE_SIZE",
    "DEFAULT_SHUTDOWN_TIMEOUT",
    "MAX_EVENT_BYTES",
    "SDK_NAME",
    "SDK_PACKAGE",
    "USER_AGENT",
    "VERSION",
]
