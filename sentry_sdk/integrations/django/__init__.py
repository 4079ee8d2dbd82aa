"""Django: ``sentry_sdk.init(...)`` in ``settings.py`` reports every failed request, per request.

Set up by itself once the program imports Django (or listed: ``DjangoIntegration()``). Every
request (WSGI, ASGI, and Django's test ``Client`` and ``AsyncClient`` alike) runs in its own fork
of the isolation scope; an exception Django turns into a 500 (in a view, a middleware or a
template) is one unhandled event of mechanism ``django``, with the request, the route as its
transaction and, with ``send_default_pii``, the ``django.contrib.auth`` user and the cookies.
Django's 4xx exceptions are not reported. Errors in management commands need nothing of this:
they escape to ``sys.excepthook``, which the default integrations report.

Minimum Django 3.2. Importing this module imports nothing of Django: ``setup_once`` patches the
request handlers as the program imports them (``django/__init__`` alone is what triggers
auto-enabling, and importing the handlers then would pull in half of Django for a program that
may only use its utilities).
"""

from __future__ import annotations

from .. import DidNotEnable, Integration
from .._on_import import patch_when_imported
from .._web.options import DEFAULT_HTTP_METHODS_TO_CAPTURE, check_choice, check_methods

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

__all__ = ["DjangoIntegration"]

TRANSACTION_STYLES = ("url", "function_name")
MIN_VERSION = (3, 2)


def _check_bool(option: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"DjangoIntegration: {option} must be True or False, got {value!r}")
    return value


class DjangoIntegration(Integration):
    """Django requests isolated and their failures reported.

    ``transaction_style``: ``"url"`` names events after the route pattern (``/message/{id}``,
    source ``route``), ``"function_name"`` after the view (``myapp.views.message``, source
    ``component``).

    ``http_methods_to_capture``: with tracing on, the methods whose requests are ``http.server``
    transactions. Inside them (see :mod:`._spans`): ``middleware_spans``, a span for each
    middleware's call and hooks and for the view; ``signals_spans``, one for each signal receiver
    run, except for the signals in ``signals_denylist``; ``cache_spans`` (off by default), one for
    each cache read and write; ``db_transaction_spans`` (off by default), one for each commit and
    rollback. Templates rendered are spans whatever the options.
    """

    identifier = "django"

    def __init__(
        self,
        transaction_style: str = "url",
        middleware_spans: bool = False,
        signals_spans: bool = True,
        cache_spans: bool = False,
        db_transaction_spans: bool = False,
        http_methods_to_capture: tuple[str, ...] = DEFAULT_HTTP_METHODS_TO_CAPTURE,
        signals_denylist: Iterable[Any] | None = None,
    ) -> None:
        self.transaction_style = check_choice(
            "DjangoIntegration", "transaction_style", transaction_style, TRANSACTION_STYLES
        )
        self.middleware_spans = _check_bool("middleware_spans", middleware_spans)
        self.signals_spans = _check_bool("signals_spans", signals_spans)
        self.cache_spans = _check_bool("cache_spans", cache_spans)
        self.db_transaction_spans = _check_bool("db_transaction_spans", db_transaction_spans)
        self.http_methods_to_capture = check_methods("DjangoIntegration", http_methods_to_capture)
        if signals_denylist is not None and (
            isinstance(signals_denylist, (str, bytes)) or not hasattr(signals_denylist, "__iter__")
        ):
            raise TypeError("DjangoIntegration: signals_denylist must be a list of signals")
        self.signals_denylist: list[Any] = list(signals_denylist or ())

    @staticmethod
    def setup_once() -> None:
        try:
            import django  # type: ignore[import-untyped]
        except ImportError:
            raise DidNotEnable("Django is not installed") from None
        if tuple(getattr(django, "VERSION", (0,))[:2]) < MIN_VERSION:
            raise DidNotEnable(f"Django {django.get_version()} found; 3.2 or newer is required")

        from ..logging import ignore_logger
        from . import _asgi, _handlers, _spans

        # runserver's access log says "500" for a failure already reported; a wrong Host header
        # is a scanner's, not a bug (Django answers 400).
        ignore_logger("django.server")
        ignore_logger("django.security.DisallowedHost")
        patch_when_imported("django.core.handlers.base", _handlers.patch_base_handler)
        patch_when_imported("django.core.handlers.base", _asgi.patch_base_handler_async)
        patch_when_imported("django.core.handlers.wsgi", _handlers.patch_wsgi_handler)
        patch_when_imported("django.core.handlers.asgi", _asgi.patch_asgi_handler)
        patch_when_imported("django.core.signals", _handlers.connect_signals)
        patch_when_imported("django.core.handlers.base", _spans.patch_handler)
        patch_when_imported("django.template.base", _spans.patch_template)
        patch_when_imported("django.template.response", _spans.patch_template_response)
        patch_when_imported("django.dispatch.dispatcher", _spans.patch_signals)
        patch_when_imported("django.core.cache", _spans.patch_cache)
        patch_when_imported("django.db.backends.base.base", _spans.patch_database)
