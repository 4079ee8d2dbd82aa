"""A middleware (sync and async capable) that fails for one path."""

from __future__ import annotations

from typing import Any

from asgiref.sync import iscoroutinefunction
from django.utils.decorators import sync_and_async_middleware


def _check(request: Any) -> None:
    if request.path == "/middleware-fails/":
        raise RuntimeError("the middleware failed on purpose")


@sync_and_async_middleware
def failing_middleware(get_response: Any) -> Any:
    if iscoroutinefunction(get_response):

        async def async_middleware(request: Any) -> Any:
            _check(request)
            return await get_response(request)

        return async_middleware

    def middleware(request: Any) -> Any:
        _check(request)
        return get_response(request)

    return middleware
