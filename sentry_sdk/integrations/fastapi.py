"""FastAPI: FastAPI apps are Starlette apps, and Starlette's integration does the work.

Setting this integration up installs Starlette's patches (if they are not in already), so a
FastAPI app's failed requests are reported with mechanism ``starlette``, named after the route
(``"/items/{item_id}"``, source ``route``; ``transaction_style="endpoint"``: the path operation
function's ``module.qualname``, source ``component``), as sentry-sdk 2.75 does.

Options are those of :class:`~sentry_sdk.integrations.starlette.StarletteIntegration`. As in
sentry-sdk 2.75, when Starlette's integration is enabled too (it is auto-enabled: FastAPI imports
Starlette), *its* options apply to FastAPI apps: ``FastApiIntegration(failed_request_status_codes=
...)`` alone changes nothing; pass the same options to both. They apply only when this integration
is enabled and Starlette's is not (``auto_enabling_integrations=False`` and only this one listed).
"""

from __future__ import annotations

from . import DidNotEnable
from ._versions import parse_version
from .starlette import StarletteIntegration

__all__ = ["FastApiIntegration"]

MINIMUM_VERSION = (0, 79)


class FastApiIntegration(StarletteIntegration):
    """Reports failed requests of every FastAPI app, through Starlette's integration.

    Takes Starlette's options (``transaction_style``, ``failed_request_status_codes``,
    ``middleware_spans``, ``http_methods_to_capture``); see the module docstring for when they apply.
    """

    identifier = "fastapi"

    @staticmethod
    def setup_once() -> None:
        try:
            import fastapi
        except ImportError:
            raise DidNotEnable("FastAPI is not installed") from None
        version = str(getattr(fastapi, "__version__", ""))
        if version and parse_version(version) < MINIMUM_VERSION:
            raise DidNotEnable(f"FastAPI {version} found; 0.79 or newer is required")
        StarletteIntegration.setup_once()
