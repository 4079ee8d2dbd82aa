"""Capturing never evaluates lazy database objects that happen to be in local variables."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import sentry_sdk
from sentry_sdk.testing import CapturingTransport

evaluated: list[str] = []


def _fake_module(name: str, class_name: str) -> type:
    """A class living in ``name``, as a library's would, that records any evaluation."""

    def record(what: str) -> object:
        def method(self: object, *args: object) -> object:
            evaluated.append(f"{class_name}.{what}")
            raise AssertionError("the query ran")

        return method

    cls = type(
        class_name,
        (),
        {
            "__module__": name,
            "__repr__": record("__repr__"),
            "__str__": record("__str__"),
            "__iter__": record("__iter__"),
            "__len__": record("__len__"),
            "__bool__": record("__bool__"),
            "__getitem__": record("__getitem__"),
        },
    )
    return cls


@pytest.fixture
def lazy_classes() -> Iterator[list[type]]:
    evaluated.clear()
    made = [
        _fake_module("django.db.models.query", "QuerySet"),
        _fake_module("sqlalchemy.orm.query", "Query"),
        _fake_module("sqlalchemy.engine.result", "ScalarResult"),
    ]
    yield made


def test_a_queryset_in_a_local_variable_is_described_not_evaluated(lazy_classes: list[type]) -> None:
    """A QuerySet-like local (and a subclass of one) shows as a description; no query runs."""
    queryset_cls, query_cls, result_cls = lazy_classes
    subclass = type("ActiveUsers", (queryset_cls,), {"__module__": "myapp.models"})
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, default_integrations=False)
    try:
        users = queryset_cls()  # noqa: F841 - locals the SDK collects
        active = subclass()  # noqa: F841
        query = query_cls()  # noqa: F841
        rows = result_cls()  # noqa: F841
        raise LookupError("no such user")
    except LookupError:
        sentry_sdk.capture_exception()
    sentry_sdk.set_extra("queryset", queryset_cls())
    sentry_sdk.capture_message("with a queryset extra")
    assert [] == evaluated
    frame_vars = transport.events[0]["exception"]["values"][0]["stacktrace"]["frames"][-1]["vars"]
    assert {
        "users": "<QuerySet (lazy, not evaluated)>",
        "active": "<ActiveUsers (lazy, not evaluated)>",
        "query": "<Query (lazy, not evaluated)>",
        "rows": "<ScalarResult (lazy, not evaluated)>",
    } == {k: frame_vars[k] for k in ("users", "active", "query", "rows")}
    assert "<QuerySet (lazy, not evaluated)>" == transport.events[1]["extra"]["queryset"]
