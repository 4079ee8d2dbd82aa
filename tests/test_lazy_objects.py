"""Capturing never evaluates lazy database objects that happen to be in local variables."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path

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


def test_generators_files_and_sockets_in_locals_are_described_without_being_read(tmp_path: Path) -> None:
    """A generator keeps its next item, a file and a file-like buffer keep their position, and a
    socket keeps its unread data: capturing describes them, it never reads from them."""
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, default_integrations=False)
    path = tmp_path / "orders.csv"
    path.write_text("id,total\n1,9.99\n")
    left, right = socket.socketpair()
    try:
        right.sendall(b"unread bytes")
        with path.open() as handle:
            rows = (line for line in ["first", "second"])
            buffer = io.StringIO("buffered text")
            try:
                raise RuntimeError("failed while holding them")
            except RuntimeError:
                sentry_sdk.capture_exception()
            assert "first" == next(rows)
            assert 0 == handle.tell() and 0 == buffer.tell()
            assert "id,total\n" == handle.readline()
        left.settimeout(5)
        assert b"unread bytes" == left.recv(100)
    finally:
        left.close()
        right.close()
    frame_vars = transport.events[0]["exception"]["values"][0]["stacktrace"]["frames"][-1]["vars"]
    assert frame_vars["rows"].startswith("<generator object")
    assert "orders.csv" in frame_vars["handle"]
    assert frame_vars["buffer"].startswith("<_io.StringIO object")
    assert "socket" in frame_vars["left"]
