"""Modules: every event lists the installed distributions and their versions in ``modules``.

The list is read with :mod:`importlib.metadata` once, when the first event is sent (not at import
or ``init``: importing that module and reading every distribution's metadata takes tens of
milliseconds), and kept for the life of the process.
"""

from __future__ import annotations

import re

from .._log import report_internal_error
from .._prebuilt import serialized
from ..hub import Hub
from ..scope import add_global_event_processor
from . import Integration

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..types import Event, Hint


__all__ = ["ModulesIntegration"]

_installed: dict[str, str] | None = None
_SEPARATORS = re.compile(r"[-_.]+")


class ModulesIntegration(Integration):
    """Adds ``{distribution name: version}`` to each event, unless the event already has ``modules``."""

    identifier = "modules"

    @staticmethod
    def setup_once() -> None:
        add_global_event_processor(_add_modules)


def _installed_distributions() -> dict[str, str]:
    """Installed distributions by normalized name (``typing-extensions``), read on the first call.

    Where a name is installed twice on ``sys.path``, the version listed is the one imported.
    """
    global _installed
    if _installed is None:
        from importlib import metadata

        found: dict[str, str] = {}
        for dist in metadata.distributions():
            meta = dist.metadata
            if "Name" in meta and "Version" in meta:
                found.setdefault(_SEPARATORS.sub("-", meta["Name"]).lower(), meta["Version"])
        # Two threads sending their first events at once may both read the list; that is harmless.
        _installed = serialized(found)
    return _installed


def _add_modules(event: Event, hint: Hint) -> Event:
    try:
        # Transactions go without, as with sentry-sdk: the list is on the errors of the same release.
        if (
            "modules" not in event
            and event.get("type") != "transaction"
            and Hub.current.get_integration(ModulesIntegration) is not None
        ):
            installed = _installed_distributions()
            # A copy (events get changed later), of the same kind: a Serialized one stays one.
            event["modules"] = type(installed)(installed)
    except Exception:
        report_internal_error()
    return event
