"""The sampling decision of a transaction, in sentry-sdk's order, and the trace's random number.

A trace has one ``sample_rand``: uniform in [0, 1), drawn at its head and passed on in the
baggage. Every service compares that same number with its own rate, so a trace is kept or dropped
as a whole rather than service by service.
"""

from __future__ import annotations

from random import random

from .._log import logger

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

__all__ = ["configured_rate", "decide", "new_sample_rand", "tracing_enabled"]

# sample_rand has six decimals (the baggage's precision): it is a whole number of millionths.
_MICROS = 1_000_000


def tracing_enabled(options: Mapping[str, Any]) -> bool:
    """Whether transactions may be sampled at all: a rate, a sampler, or ``enable_tracing=True``."""
    enable = options.get("enable_tracing")
    if enable is False:
        return False
    return (
        options.get("traces_sample_rate") is not None
        or options.get("traces_sampler") is not None
        or enable is True
    )


def configured_rate(options: Mapping[str, Any]) -> float | None:
    """``traces_sample_rate`` (1.0 for the deprecated ``enable_tracing=True`` alone), or None."""
    enable = options.get("enable_tracing")
    if enable is False:
        return None
    rate = options.get("traces_sample_rate")
    if rate is None:
        return 1.0 if enable is True else None
    return _as_rate(rate)


def _as_rate(value: object) -> float | None:
    """``value`` as a rate in [0, 1] (a bool reads as 1 or 0), or None when it is no such number."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        from decimal import Decimal
        from numbers import Real

        # numpy floats and Decimals are numbers too; strings are not, even "0.5".
        if not isinstance(value, (Real, Decimal)):
            return None
        try:
            number = float(value)
        except Exception:
            return None
    return number if 0.0 <= number <= 1.0 else None  # nan fails both comparisons


def _micros(draw: float, count: int) -> int:
    """One of ``count`` slots, picked by ``draw`` (clamped into [0, 1) if the rng misbehaves)."""
    if not 0.0 <= draw < 1.0:  # also catches nan
        draw = 0.0
    return min(int(draw * count), count - 1)


def _micros_below(rate: float) -> int:
    """How many six-decimal values ``k / 10**6`` are below ``rate``, checked with ``<`` itself."""
    count = min(max(int(rate * _MICROS), 0), _MICROS)
    # rate * 10**6 may be off by one ulp; correct it with the very comparison decide() makes.
    while count > 0 and (count - 1) / _MICROS >= rate:
        count -= 1
    while count < _MICROS and count / _MICROS < rate:
        count += 1
    return count


def new_sample_rand(
    parent_sampled: bool | None = None,
    parent_rate: float | None = None,
    rng: Callable[[], float] | None = None,
) -> float:
    """A trace's random number, six decimals; consistent with a parent's decision at a known rate.

    A parent that sampled at ``parent_rate`` but sent no ``sample_rand`` must have drawn a number
    below its rate (or at or above it, if it dropped the trace), so we draw from that range: our own
    decision with the same rate then agrees with the parent's.
    """
    draw = (rng or random)()
    rate = _as_rate(parent_rate) if parent_rate is not None else None
    if parent_sampled is not None and rate is not None:
        below = _micros_below(rate)
        if parent_sampled and below > 0:
            return _micros(draw, below) / _MICROS
        if not parent_sampled and below < _MICROS:
            return (below + _micros(draw, _MICROS - below)) / _MICROS
    return _micros(draw, _MICROS) / _MICROS


def _ask_sampler(sampler: Callable[[dict[str, Any]], object], context: dict[str, Any]) -> float | None:
    """The sampler's answer as a rate, or None (logged) when it raised or answered nonsense."""
    try:
        result = sampler(context)
    except Exception:
        logger.error("traces_sampler raised; the transaction is not sampled", exc_info=True)
        return None
    rate = _as_rate(result)
    if rate is None:
        logger.warning("traces_sampler returned %r, not a rate in [0, 1]; not sampled", result)
    return rate


def decide(
    *,
    options: Mapping[str, Any],
    sampling_context: dict[str, Any],
    parent_sampled: bool | None,
    sample_rand: float,
    sampled: bool | None = None,
) -> tuple[bool, float | None]:
    """``(sampled, sample_rate)``: the explicit choice, else the sampler, the parent, the rate.

    The parent's decision comes with no rate: the caller keeps the one from the incoming baggage.
    """
    # With tracing off nothing is sampled, not even start_transaction(sampled=True), as in sentry-sdk.
    if not tracing_enabled(options):
        return False, None
    if sampled is not None:
        return bool(sampled), 1.0 if sampled else 0.0
    sampler = options.get("traces_sampler")
    if sampler is not None:
        rate = _ask_sampler(sampler, sampling_context)
        if rate is None:
            return False, None
        return sample_rand < rate, rate
    if parent_sampled is not None:
        return bool(parent_sampled), None
    rate = configured_rate(options)
    if rate is None:
        return False, None
    return sample_rand < rate, rate
