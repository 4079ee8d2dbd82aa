"""``functions_to_trace``: functions named at ``init`` become spans where they are defined."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import sentry_sdk
from sentry_sdk.testing import CapturingTransport

_MODULE = """
import asyncio

def plain(x):
    return x + 1

async def later(x):
    await asyncio.sleep(0)
    return x * 2

class Shop:
    def buy(self, n):
        return n

    @staticmethod
    def price(n):
        return n * 10

    @classmethod
    def open(cls):
        return cls.__name__
"""


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Any]:
    (tmp_path / "traced_shop.py").write_text(_MODULE)
    sys.path.insert(0, str(tmp_path))
    try:
        import traced_shop

        yield traced_shop
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("traced_shop", None)


def test_named_functions_methods_and_coroutines_are_spans_in_the_running_transaction(shop: Any) -> None:
    """Each call inside a transaction is a ``function`` span named by its qualified name; results stay."""
    transport = CapturingTransport()
    names = [
        "traced_shop.plain",
        "traced_shop.later",
        "traced_shop.Shop.buy",
        "traced_shop.Shop.price",
        "traced_shop.Shop.open",
    ]
    sentry_sdk.init(
        transport=transport,
        traces_sample_rate=1.0,
        default_integrations=False,
        functions_to_trace=[{"qualified_name": name} for name in names],
    )
    with sentry_sdk.start_transaction(name="shopping"):
        results = [
            shop.plain(1),
            asyncio.run(shop.later(2)),
            shop.Shop().buy(3),
            shop.Shop.price(4),
            shop.Shop.open(),
        ]
    assert [2, 4, 3, 40, "Shop"] == results
    (event,) = transport.events
    assert [("function", name) for name in names] == [(s["op"], s["description"]) for s in event["spans"]]


def test_outside_a_transaction_the_functions_just_run(shop: Any) -> None:
    transport = CapturingTransport()
    sentry_sdk.init(
        transport=transport,
        default_integrations=False,
        functions_to_trace=[{"qualified_name": "traced_shop.plain"}],
    )
    assert 6 == shop.plain(5)
    assert [] == transport.events


def test_a_name_that_cannot_be_found_is_skipped_and_init_goes_on(
    shop: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A typo or a module that does not exist is logged in debug mode, never raised; the others are traced."""
    transport = CapturingTransport()
    sentry_sdk.init(
        transport=transport,
        debug=True,
        traces_sample_rate=1.0,
        default_integrations=False,
        functions_to_trace=[
            {"qualified_name": "no_such_module_here.f"},
            {"qualified_name": "traced_shop.nope"},
            {"qualified_name": "traced_shop.plain"},
        ],
    )
    with sentry_sdk.start_transaction(name="t"):
        shop.plain(0)
    assert ["traced_shop.plain"] == [s["description"] for s in transport.events[0]["spans"]]
    assert "no_such_module_here.f" in caplog.text and "traced_shop.nope" in caplog.text


def test_a_second_init_does_not_wrap_twice(shop: Any) -> None:
    transport = CapturingTransport()
    for _ in range(2):
        sentry_sdk.init(
            transport=transport,
            traces_sample_rate=1.0,
            default_integrations=False,
            functions_to_trace=[{"qualified_name": "traced_shop.plain"}],
        )
    with sentry_sdk.start_transaction(name="t"):
        shop.plain(0)
    assert 1 == len(transport.events[0]["spans"])
