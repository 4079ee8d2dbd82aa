"""Views of the span tests (test_django_spans.py): templates, signals, the cache, transactions."""

from __future__ import annotations

from typing import Any

from django.core.cache import caches
from django.db import connection, transaction
from django.dispatch import Signal
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse

import sentry_sdk

span_signal = Signal()
# What the last span_signal.send() (or asend()) of a view returned.
SIGNAL_RESPONSES: list[tuple[Any, Any]] = []


def template(request: Any) -> TemplateResponse:
    return TemplateResponse(request, "djproject/spans.html", {"items": [1, 2, 3]})


def string(request: Any) -> HttpResponse:
    return HttpResponse(render_to_string("djproject/spans_item.html", {"item": "alone"}))


def current(request: Any) -> HttpResponse:
    span = sentry_sdk.get_current_span()
    return HttpResponse(str(span.op if span is not None else None))


async def async_current(request: Any) -> HttpResponse:
    span = sentry_sdk.get_current_span()
    return HttpResponse(str(span.op if span is not None else None))


def signal(request: Any) -> HttpResponse:
    SIGNAL_RESPONSES[:] = span_signal.send(sender=None)
    span_signal.send_robust(sender=None)
    return HttpResponse("sent")


async def async_signal(request: Any) -> HttpResponse:
    SIGNAL_RESPONSES[:] = await span_signal.asend(sender=None)
    return HttpResponse("sent")


def cache(request: Any) -> HttpResponse:
    cache = caches["spans"]
    cache.set("greeting", "hello")
    found = [cache.get("greeting"), cache.get("missing"), cache.get("missing", "fallback")]
    cache.set_many({"a": 1, "b": 2})
    many = cache.get_many(["a", "b"])
    return HttpResponse(f"{found} {sorted(many.items())}")


def atomic(request: Any) -> HttpResponse:
    with transaction.atomic():
        connection.cursor().execute("SELECT 1")
    try:
        with transaction.atomic():
            connection.cursor().execute("SELECT 2")
            raise ValueError("rolled back on purpose")
    except ValueError:
        pass
    return HttpResponse("done")
