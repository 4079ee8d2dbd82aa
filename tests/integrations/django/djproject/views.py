"""Views of the test project: ones that work, ones that fail, and ones that read the body their way."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.utils.functional import SimpleLazyObject
from django.views import View

import sentry_sdk

# Set by a test: what the lazily loaded user of lazy_user() is made from, and the barrier that
# concurrent async requests meet at (so they are provably inside their views at the same time).
USER_LOADER: Callable[[], Any] | None = None
BARRIER: asyncio.Barrier | None = None


def ok(request: Any) -> HttpResponse:
    return HttpResponse("ok")


def message(request: Any, id: int) -> HttpResponse:
    raise RuntimeError(f"message {id} failed")


def author(request: Any, version: str) -> HttpResponse:
    raise RuntimeError(f"author of {version} failed")


def item(request: Any, **kwargs: Any) -> HttpResponse:
    raise RuntimeError("item failed")


class MessageView(View):
    def get(self, request: Any, id: int) -> HttpResponse:
        raise RuntimeError("class-based view failed")


def not_found(request: Any) -> HttpResponse:
    raise Http404("no such thing")


def forbidden(request: Any) -> HttpResponse:
    raise PermissionDenied("not yours")


def suspicious(request: Any) -> HttpResponse:
    raise SuspiciousOperation("that looks wrong")


def host(request: Any) -> HttpResponse:
    return HttpResponse(request.get_host())  # DisallowedHost for a Host not in ALLOWED_HOSTS


class _Exploding:
    def boom(self) -> str:
        raise RuntimeError("the template failed on purpose")


def template_error(request: Any) -> TemplateResponse:
    return TemplateResponse(request, "djproject/broken.html", {"thing": _Exploding()})


def tagged(request: Any) -> HttpResponse:
    n = request.GET["n"]
    sentry_sdk.set_tag("request", n)
    sentry_sdk.set_user({"id": n})
    sentry_sdk.add_breadcrumb(message=f"in request {n}")
    if request.GET.get("fail"):
        raise RuntimeError(f"request {n} failed")
    return HttpResponse(n)


def form(request: Any) -> HttpResponse:
    request.POST  # noqa: B018 - the view parses its form
    raise RuntimeError("form view failed")


def upload(request: Any) -> HttpResponse:
    request.FILES  # noqa: B018 - the view parses its upload
    raise RuntimeError("upload view failed")


def json_body(request: Any) -> HttpResponse:
    json.loads(request.body)
    raise RuntimeError("json view failed")


def stream(request: Any) -> HttpResponse:
    total = 0
    while chunk := request.read(65536):
        total += len(chunk)
    raise RuntimeError(f"read {total} bytes")


def fail(request: Any) -> HttpResponse:
    raise RuntimeError("failed without reading anything")


def capture_then_read(request: Any) -> HttpResponse:
    sentry_sdk.capture_message("before the view read its body")
    if request.content_type == "multipart/form-data":
        request.upload_handlers = request.upload_handlers[:]  # still allowed: not parsed yet
        names = sorted(request.FILES)
        return HttpResponse(
            ",".join(f"{k}={v}" for k, v in sorted(request.POST.items())) + ";" + ",".join(names)
        )
    if request.content_type == "application/x-www-form-urlencoded":
        return HttpResponse(",".join(f"{k}={v}" for k, v in sorted(request.POST.items())))
    return HttpResponse(request.body)


def lazy_user(request: Any) -> HttpResponse:
    assert USER_LOADER is not None
    request.user = SimpleLazyObject(USER_LOADER)
    if request.GET.get("fail"):
        raise RuntimeError("lazy user view failed")
    return HttpResponse("ok")


async def async_ok(request: Any) -> HttpResponse:
    sentry_sdk.set_tag("request", request.GET.get("n", ""))
    sentry_sdk.capture_message("inside an async view")
    return HttpResponse("async ok")


def _in_thread(n: str) -> None:
    sentry_sdk.set_context("thread", {"n": n})


async def async_fail(request: Any) -> HttpResponse:
    n = request.GET["n"]
    sentry_sdk.set_tag("request", n)
    if BARRIER is not None:
        await BARRIER.wait()  # every request has set its tag before any goes on
    sentry_sdk.set_user({"id": n})
    await sync_to_async(_in_thread)(n)
    if BARRIER is not None:
        await BARRIER.wait()
    raise RuntimeError(f"async request {n} failed")


def sync_fail(request: Any) -> HttpResponse:
    sentry_sdk.set_tag("request", request.GET.get("n", "sync"))
    raise RuntimeError("sync view under ASGI failed")
