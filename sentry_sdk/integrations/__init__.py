"""The integration contract, and setting up the integrations a client asks for.

An integration has an ``identifier``, patches what it needs once per process in ``setup_once``
(raising :class:`DidNotEnable` when it cannot work here), and on every call checks whether the
current client has it enabled, so patches stay harmless when it is not.

This registry is imported by the client, and integrations import the public API: integrations
are therefore loaded here by name, never imported by this module, so imports run one way.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable, Mapping

from .._log import logger, report_internal_error
from ._on_import import patch_when_imported

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any


__all__ = ["DidNotEnable", "Integration", "setup_integrations"]


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


_DEFAULT = (
    "logging.LoggingIntegration",
    "excepthook.ExcepthookIntegration",
    "dedupe.DedupeIntegration",
    "atexit.AtexitIntegration",
    "threading.ThreadingIntegration",
    "stdlib.StdlibIntegration",
    "argv.ArgvIntegration",
    "modules.ModulesIntegration",
)

# Frameworks whose integration is set up without being listed: (the module whose import means the
# program uses the framework, the integration). The framework is never imported from here: if the
# program has not imported it at ``init``, the integration is set up when it does.
_AUTO_ENABLING = (
    ("flask", "flask.FlaskIntegration"),
    ("django", "django.DjangoIntegration"),
    ("celery", "celery.CeleryIntegration"),
    ("starlette", "starlette.StarletteIntegration"),
    ("fastapi", "fastapi.FastApiIntegration"),
    ("httpx", "httpx.HttpxIntegration"),
    ("sqlalchemy", "sqlalchemy.SqlalchemyIntegration"),
)

# Identifiers whose setup_once already ran in this process.
_installed: set[str] = set()
# Auto-enabling integrations waiting for their framework's import: identifier -> (the integration,
# the enabled-integrations dict of the latest client that wants it).
_waiting: dict[str, tuple[Integration, dict[str, Integration]]] = {}


def _load(path: str) -> Integration:
    module_name, _, class_name = path.rpartition(".")
    module = importlib.import_module(f"{__name__}.{module_name}")
    integration: Integration = getattr(module, class_name)()
    return integration


def _identifiers(items: Iterable[Any] | None) -> set[str]:
    rv = set()
    for item in items or ():
        ident = getattr(item, "identifier", None)
        if isinstance(ident, str):
            rv.add(ident)
        elif isinstance(item, str):
            rv.add(item)
    return rv


def _setup(integration: Integration, explicit: bool) -> bool:
    """Run ``setup_once`` unless done; whether the integration is usable. Raises if ``explicit``."""
    identifier = integration.identifier
    if identifier in _installed:
        return True
    try:
        type(integration).setup_once()
    except DidNotEnable as exc:
        if explicit:
            raise
        logger.debug("integration %s not enabled: %s", identifier, exc)
        return False
    _installed.add(identifier)
    return True


def setup_integrations(options: Mapping[str, Any]) -> dict[str, Integration]:
    """Set up the user's integrations plus the defaults; returns them by identifier.

    An integration the user listed that cannot be enabled raises at ``init``; a default or
    auto-enabling one that cannot is skipped (logged in debug mode). An auto-enabling integration
    whose framework is not imported yet is added to the returned dict when it is.
    """
    user: list[Any] = list(options.get("integrations") or ())
    for item in user:
        if not isinstance(item, Integration):
            raise TypeError(f"sentry_sdk option 'integrations' must hold Integration instances, got {item!r}")
    listed = {integration.identifier for integration in user}
    disabled = _identifiers(options.get("disabled_integrations"))
    wanted: dict[str, tuple[Integration, bool]] = {}
    if options.get("default_integrations", True):
        for path in _DEFAULT:
            integration = _load(path)
            wanted[integration.identifier] = (integration, False)
    for integration in user:
        wanted[integration.identifier] = (integration, True)

    enabled: dict[str, Integration] = {}
    for identifier, (integration, explicit) in wanted.items():
        if identifier not in disabled and _setup(integration, explicit):
            enabled[identifier] = integration

    if options.get("default_integrations", True) and options.get("auto_enabling_integrations", True):
        for trigger, path in _AUTO_ENABLING:
            identifier = path.partition(".")[0]
            if identifier in listed or identifier in disabled:
                continue
            try:
                integration = _load(path)
            except ImportError as exc:
                logger.debug("integration %s not loaded: %s", identifier, exc)
                continue
            except Exception:  # a bug of ours: reported, and init goes on without it
                report_internal_error()
                continue
            if trigger in sys.modules:
                if _setup(integration, False):
                    enabled[identifier] = integration
                continue
            first = identifier not in _waiting
            _waiting[identifier] = (integration, enabled)
            if first:
                patch_when_imported(trigger, _setup_waiting(identifier))
    return enabled


def _setup_waiting(identifier: str) -> Any:
    def on_import(module: ModuleType) -> None:
        integration, enabled = _waiting.pop(identifier)
        if _setup(integration, False):
            enabled[identifier] = integration

    return on_import
