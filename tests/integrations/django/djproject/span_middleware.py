"""A middleware with every hook, for the span tests: it changes nothing but one response header."""

from __future__ import annotations

from typing import Any

from django.utils.deprecation import MiddlewareMixin


class HookMiddleware(MiddlewareMixin):
    def process_request(self, request: Any) -> None:
        return None

    def process_view(self, request: Any, view: Any, args: Any, kwargs: Any) -> None:
        return None

    def process_template_response(self, request: Any, response: Any) -> Any:
        return response

    def process_exception(self, request: Any, exception: Exception) -> None:
        return None

    def process_response(self, request: Any, response: Any) -> Any:
        response["X-Hooked"] = "yes"
        return response
