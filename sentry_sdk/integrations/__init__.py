"""The integration contract, and setting up the integrations a client asks for.

An integration has an ``identifier``, patches what it needs once per process in ``setup_once``
(raising :class:`DidNotEnable` when it cannot work here), and on every call checks whether the
current client has it enabled, so patches stay harmless when it is not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .._log import logger

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


__all__ = ["DidNotEnable", "Integration", "capture_unhandled", "setup_integrations"]


class DidNotEnable(Exception):  # noqa: N818 - the name sentry-sdk users catch
    """Raised by ``setup_once`` when the integration cannot be enabled in this process."""


class Integration:
    """Base class of integrations; subclasses set ``identifier`` and implement ``setup_once``."""

    identifier: str = ""

    @staticmethod
    def setup_once() -> None:
        """Install patches and hooks; called at most once per process."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def capture_unhandled(integration: type[Integration], exc: BaseException, mechanism: str) -> None:
    """Send ``exc`` as an unhandled error of ``mechanism``, if the current client enables ``integration``.

    For patched code that then re-raises: it never raises itself.
    """
    from .._exceptions import event_from_exception
    from .._log import report_internal_error
    from ..hub import Hub

    try:
        hub = Hub.current
        client = hub.client
        if client is None or client.get_integration(integration) is None:
            return
        event, hint = event_from_exception(
            (type(exc), exc, exc.__traceback__),
            options=client.options,
            mechanism={"type": mechanism, "handled": False},
        )
        event["level"] = "error"
        hub.capture_event(event, hint)
    except Exception:
        report_internal_error()


# Identifiers whose setup_once already ran in this process.
_installed: set[str] = set()


def _default_integrations() -> list[Integration]:
    from .argv import ArgvIntegration
    from .atexit import AtexitIntegration
    from .dedupe import DedupeIntegration
    from .excepthook import ExcepthookIntegration
    from .logging import LoggingIntegration
    from .modules import ModulesIntegration
    from .stdlib import StdlibIntegration
    from .threading import ThreadingIntegration

    return [
        LoggingIntegration(),
        ExcepthookIntegration(),
        DedupeIntegration(),
        AtexitIntegration(),
        ThreadingIntegration(),
        StdlibIntegration(),
        ArgvIntegration(),
        ModulesIntegration(),
    ]


def _identifiers(items: Iterable[Any] | None) -> set[str]:
    rv = set()
    for item in items or ():
        ident = getattr(item, "identifier", None)
        if isinstance(ident, str):
            rv.add(ident)
        elif isinstance(item, str):
            rv.add(item)
    return rv


def setup_integrations(options: Mapping[str, Any]) -> dict[str, Integration]:
    """Set up the user's integrations plus the defaults; returns them by identifier.

    An integration the user listed that cannot be enabled raises at ``init``; a default one that
    cannot is skipped (logged in debug mode).
    """
    user: list[Any] = list(options.get("integrations") or ())
    for item in user:
        if not isinstance(item, Integration):
            raise TypeError(f"sentry_sdk option 'integrations' must hold Integration instances, got {item!r}")
    wanted: dict[str, tuple[Integration, bool]] = {}
    if options.get("default_integrations", True):
        for integration in _default_integrations():
            wanted[integration.identifier] = (integration, False)
    for integration in user:
        wanted[integration.identifier] = (integration, True)
    disabled = _identifiers(options.get("disabled_integrations"))

    enabled: dict[str, Integration] = {}
    for identifier, (integration, explicit) in wanted.items():
        if identifier in disabled:
            continue
        if identifier not in _installed:
            try:
                type(integration).setup_once()
            except DidNotEnable as exc:
                if explicit:
                    raise
                logger.debug("integration %s not enabled: %s", identifier, exc)
                continue
            _installed.add(identifier)
        enabled[identifier] = integration
    return enabled
