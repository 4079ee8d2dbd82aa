"""The sampling decision (explicit, sampler, parent, rate) and the trace's random number."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from sentry_sdk._tracing.headers import format_sample_rand, parse_unit_float
from sentry_sdk._tracing.sampling import configured_rate, decide, new_sample_rand, tracing_enabled


@pytest.mark.parametrize(
    ("options", "enabled", "rate"),
    [
        ({}, False, None),
        ({"traces_sample_rate": None}, False, None),
        ({"traces_sample_rate": 0.0}, True, 0.0),
        ({"traces_sample_rate": 0.3}, True, 0.3),
        ({"traces_sample_rate": 1}, True, 1.0),
        ({"traces_sampler": lambda ctx: 1.0}, True, None),
        ({"enable_tracing": True}, True, 1.0),
        ({"enable_tracing": True, "traces_sample_rate": 0.2}, True, 0.2),
        ({"enable_tracing": False}, False, None),
        ({"enable_tracing": False, "traces_sample_rate": 1.0}, False, None),
        ({"enable_tracing": False, "traces_sampler": lambda ctx: 1.0}, False, None),
        ({"enable_tracing": None, "traces_sample_rate": 0.5}, True, 0.5),
        ({"traces_sample_rate": "0.5"}, True, None),
        ({"traces_sample_rate": 1.5}, True, None),
    ],
)
def test_tracing_enabled_and_configured_rate(
    options: dict[str, Any], enabled: bool, rate: float | None
) -> None:
    assert tracing_enabled(options) is enabled
    assert configured_rate(options) == rate


def _raise(ctx: dict[str, Any]) -> object:
    raise RuntimeError("sampler bug")


def _fixed(draw: float) -> Callable[[], float]:
    return lambda: draw


def _const(value: object) -> Callable[[dict[str, Any]], object]:
    return lambda ctx: value


@pytest.mark.parametrize(
    ("options", "parent_sampled", "sample_rand", "sampled", "expected"),
    [
        # No tracing configured: nothing is sampled, whatever else is said.
        pytest.param({}, None, 0.0, None, (False, None), id="disabled"),
        pytest.param({}, True, 0.0, None, (False, None), id="disabled-parent-sampled"),
        pytest.param({}, None, 0.0, True, (False, None), id="disabled-explicit"),
        pytest.param({"enable_tracing": False, "traces_sample_rate": 1.0}, None, 0.0, None, (False, None)),
        # The explicit argument wins over the sampler, the parent and the rate.
        pytest.param({"traces_sample_rate": 0.0}, False, 0.9, True, (True, 1.0), id="explicit-true"),
        pytest.param({"traces_sampler": _const(1.0)}, True, 0.0, False, (False, 0.0), id="explicit-false"),
        # The sampler wins over the parent and the rate.
        pytest.param({"traces_sampler": _const(True)}, False, 0.99, None, (True, 1.0), id="sampler-true"),
        pytest.param({"traces_sampler": _const(False)}, True, 0.0, None, (False, 0.0), id="sampler-false"),
        pytest.param(
            {"traces_sampler": _const(0.5), "traces_sample_rate": 0.0}, None, 0.4, None, (True, 0.5)
        ),
        pytest.param({"traces_sampler": _const(0.5)}, None, 0.5, None, (False, 0.5), id="sampler-boundary"),
        pytest.param({"traces_sampler": _const(1)}, None, 0.999999, None, (True, 1.0), id="sampler-int-1"),
        pytest.param({"traces_sampler": _const(0)}, None, 0.0, None, (False, 0.0), id="sampler-int-0"),
        pytest.param({"traces_sampler": _const(Decimal("0.5"))}, None, 0.1, None, (True, 0.5), id="decimal"),
        # The parent's decision comes next; its rate is the caller's (from the baggage).
        pytest.param({"traces_sample_rate": 0.0}, True, 0.9, None, (True, None), id="parent-sampled"),
        pytest.param({"traces_sample_rate": 1.0}, False, 0.0, None, (False, None), id="parent-not-sampled"),
        # Then the configured rate, against sample_rand.
        pytest.param({"traces_sample_rate": 0.25}, None, 0.249999, None, (True, 0.25), id="rate-below"),
        pytest.param({"traces_sample_rate": 0.25}, None, 0.25, None, (False, 0.25), id="rate-boundary"),
        pytest.param({"traces_sample_rate": 0.0}, None, 0.0, None, (False, 0.0), id="rate-zero"),
        pytest.param({"traces_sample_rate": 1.0}, None, 0.999999, None, (True, 1.0), id="rate-one"),
        pytest.param({"enable_tracing": True}, None, 0.999999, None, (True, 1.0), id="enable-tracing"),
        pytest.param({"enable_tracing": True, "traces_sample_rate": 0.1}, None, 0.5, None, (False, 0.1)),
        pytest.param({"traces_sampler": None, "traces_sample_rate": 0.5}, None, 0.1, None, (True, 0.5)),
        pytest.param({"traces_sample_rate": "bad"}, None, 0.0, None, (False, None), id="bad-rate"),
    ],
)
def test_decide(
    options: dict[str, Any],
    parent_sampled: bool | None,
    sample_rand: float,
    sampled: bool | None,
    expected: tuple[bool, float | None],
) -> None:
    result = decide(
        options=options,
        sampling_context={},
        parent_sampled=parent_sampled,
        sample_rand=sample_rand,
        sampled=sampled,
    )
    assert result == expected


@pytest.mark.parametrize(
    ("sampler", "message", "level"),
    [
        pytest.param(_raise, "traces_sampler raised", logging.ERROR, id="raises"),
        pytest.param(_const("0.5"), "'0.5'", logging.WARNING, id="str"),
        pytest.param(_const(None), "None", logging.WARNING, id="none"),
        pytest.param(_const(float("nan")), "nan", logging.WARNING, id="nan"),
        pytest.param(_const(1.5), "1.5", logging.WARNING, id="above-one"),
        pytest.param(_const(-0.1), "-0.1", logging.WARNING, id="negative"),
        pytest.param(_const([1.0]), "[1.0]", logging.WARNING, id="list"),
        pytest.param("not callable", "traces_sampler raised", logging.ERROR, id="not-callable"),
    ],
)
def test_a_bad_sampler_is_logged_and_does_not_sample(
    sampler: object, message: str, level: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="sentry_sdk.errors")
    result = decide(
        options={"traces_sampler": sampler, "traces_sample_rate": 1.0},
        sampling_context={},
        parent_sampled=True,
        sample_rand=0.0,
    )
    assert result == (False, None)
    records = [r for r in caplog.records if r.name == "sentry_sdk.errors"]
    assert [r.levelno for r in records] == [level]
    assert message in records[0].getMessage()
    assert (records[0].exc_info is not None) is (level == logging.ERROR)


def test_the_sampler_gets_the_sampling_context_and_is_not_called_when_tracing_is_off() -> None:
    seen: list[dict[str, Any]] = []

    def sampler(ctx: dict[str, Any]) -> float:
        seen.append(ctx)
        return 1.0

    context = {"transaction_context": {"name": "t", "op": "http.server"}, "parent_sampled": None}
    assert decide(
        options={"traces_sampler": sampler}, sampling_context=context, parent_sampled=None, sample_rand=0.5
    )
    assert seen == [context]
    off = {"traces_sampler": sampler, "enable_tracing": False}
    assert decide(options=off, sampling_context=context, parent_sampled=None, sample_rand=0.5) == (
        False,
        None,
    )
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("parent_sampled", "parent_rate", "draw", "expected"),
    [
        # No parent decision or rate: uniform in [0, 1).
        (None, None, 0.0, 0.0),
        (None, None, 0.5, 0.5),
        (None, None, 0.9999999, 0.999999),
        (None, 0.5, 0.7, 0.7),
        (True, None, 0.7, 0.7),
        # A sampled parent at rate 0.5 drew below 0.5.
        (True, 0.5, 0.0, 0.0),
        (True, 0.5, 0.5, 0.25),
        (True, 0.5, 0.9999999, 0.499999),
        # A parent that dropped the trace at rate 0.5 drew at or above 0.5.
        (False, 0.5, 0.0, 0.5),
        (False, 0.5, 0.5, 0.75),
        (False, 0.5, 0.9999999, 0.999999),
        # A rate finer than six decimals: the result still agrees with the parent's decision.
        (False, 0.1234567, 0.0, 0.123457),
        (True, 0.1234567, 0.9999999, 0.123456),
        # Rates leaving no room for the parent's decision: uniform.
        (True, 0.0, 0.3, 0.3),
        (False, 1.0, 0.3, 0.3),
        # A nonsense rate or draw is not trusted.
        (True, 1.5, 0.3, 0.3),
        (True, float("nan"), 0.3, 0.3),
        (None, None, 1.0, 0.0),
        (None, None, -3.0, 0.0),
        (None, None, float("nan"), 0.0),
    ],
)
def test_new_sample_rand(
    parent_sampled: bool | None, parent_rate: float | None, draw: float, expected: float
) -> None:
    assert new_sample_rand(parent_sampled, parent_rate, rng=lambda: draw) == expected


@pytest.mark.parametrize("rate", [0.0001, 0.1, 0.25, 0.3, 0.57, 0.999999, 0.9999995])
@pytest.mark.parametrize("parent_sampled", [True, False])
def test_new_sample_rand_agrees_with_the_parent_and_round_trips(rate: float, parent_sampled: bool) -> None:
    for step in range(101):
        draw = min(step / 100, 0.9999999)
        value = new_sample_rand(parent_sampled, rate, rng=_fixed(draw))
        assert 0.0 <= value < 1.0
        assert parse_unit_float(format_sample_rand(value)) == value
        if not (parent_sampled is False and rate > 0.999999):  # no six-decimal value in [rate, 1)
            assert (value < rate) is parent_sampled
            options = {"traces_sample_rate": rate}
            assert decide(options=options, sampling_context={}, parent_sampled=None, sample_rand=value) == (
                parent_sampled,
                rate,
            )


def test_new_sample_rand_uses_random_by_default() -> None:
    values = {new_sample_rand() for _ in range(50)}
    assert len(values) > 40
    assert all(0.0 <= v < 1.0 and round(v, 6) == v for v in values)
