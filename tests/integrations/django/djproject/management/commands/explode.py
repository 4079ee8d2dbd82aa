"""``manage.py explode``: a management command that fails with an ordinary exception."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Fails on purpose."

    def handle(self, *args: Any, **options: Any) -> None:
        raise RuntimeError("the explode command failed on purpose")
