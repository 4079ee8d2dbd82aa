"""The trace headers: ``sentry-trace`` and ``baggage`` parsing and formatting, malformed input included."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sentry_sdk._tracing.headers import (
    BAGGAGE_HEADER,
    SENTRY_TRACE_HEADER,
    format_baggage,
    format_sample_rand,
    format_sentry_trace,
    parse_baggage,
    parse_sentry_trace,
    parse_unit_float,
)

TRACE = "771a43a4192642f0b136d5159a501700"
SPAN = "1234567890abcdef"


def test_header_names() -> None:
    assert (SENTRY_TRACE_HEADER, BAGGAGE_HEADER) == ("sentry-trace", "baggage")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"{TRACE}-{SPAN}-1", (TRACE, SPAN, True)),
        (f"{TRACE}-{SPAN}-0", (TRACE, SPAN, False)),
        (f"{TRACE}-{SPAN}", (TRACE, SPAN, None)),
        (f" \t{TRACE}-{SPAN}-1\t ", (TRACE, SPAN, True)),
        (f"{TRACE.upper()}-{SPAN.upper()}-1", (TRACE, SPAN, True)),
        (f"{TRACE}-{SPAN}-1".encode(), (TRACE, SPAN, True)),
    ],
)
def test_parse_sentry_trace_accepts(value: object, expected: tuple[str, str, bool | None]) -> None:
    assert parse_sentry_trace(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(f"{TRACE[:-1]}-{SPAN}-1", id="short-trace-id"),
        pytest.param(f"{TRACE}0-{SPAN}-1", id="long-trace-id"),
        pytest.param(f"{TRACE}-{SPAN[:-1]}-1", id="short-span-id"),
        pytest.param(f"{TRACE}-{SPAN}0-1", id="long-span-id"),
        pytest.param(f"{TRACE[:-1]}g-{SPAN}-1", id="non-hex-trace-id"),
        pytest.param(f"{TRACE}-{SPAN[:-1]}z-1", id="non-hex-span-id"),
        pytest.param(f"{'0' * 32}-{SPAN}-1", id="zero-trace-id"),
        pytest.param(f"{TRACE}-{'0' * 16}-1", id="zero-span-id"),
        pytest.param(f"{TRACE}-{SPAN}-2", id="bad-flag"),
        pytest.param(f"{TRACE}-{SPAN}-", id="empty-flag"),
        pytest.param(f"{TRACE}-{SPAN}-1-1", id="extra-part"),
        pytest.param(f"{TRACE}{SPAN}", id="no-dash"),
        pytest.param(f"-{TRACE}-{SPAN}", id="leading-dash"),
        pytest.param(TRACE, id="trace-id-only"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param(f"{TRACE}-{SPAN}-1" + " " * 200, id="huge"),
        pytest.param("x" * 100_000, id="very-huge"),
        pytest.param(f"{TRACE}-{SPAN}-1\n", id="newline"),
        pytest.param(f"{TRACE[:-1]}é-{SPAN}-1", id="non-ascii"),
        pytest.param(f"{TRACE[:-1]}\u0660-{SPAN}", id="unicode-digit"),
        pytest.param(f"{TRACE}-{SPAN}-1".encode("utf-16"), id="undecodable-bytes"),
        pytest.param("é".encode() + f"{TRACE}-{SPAN}".encode(), id="non-ascii-bytes"),
        pytest.param(None, id="none"),
        pytest.param(12, id="int"),
        pytest.param([f"{TRACE}-{SPAN}-1"], id="list"),
    ],
)
def test_parse_sentry_trace_rejects(value: object) -> None:
    assert parse_sentry_trace(value) is None


@pytest.mark.parametrize(
    ("sampled", "expected"),
    [(True, f"{TRACE}-{SPAN}-1"), (False, f"{TRACE}-{SPAN}-0"), (None, f"{TRACE}-{SPAN}")],
)
def test_format_sentry_trace_round_trips(sampled: bool | None, expected: str) -> None:
    assert format_sentry_trace(TRACE, SPAN, sampled) == expected
    assert parse_sentry_trace(expected) == (TRACE, SPAN, sampled)


@pytest.mark.parametrize(
    ("values", "sentry", "third_party"),
    [
        pytest.param(
            "sentry-trace_id=abc,sentry-public_key=key,sentry-sample_rate=0.5",
            {"trace_id": "abc", "public_key": "key", "sample_rate": "0.5"},
            "",
            id="sentry-only",
        ),
        pytest.param(
            "other=1, sentry-release=1.0 ,vendor=a%20b;prop=x , last=z",
            {"release": "1.0"},
            "other=1,vendor=a%20b;prop=x,last=z",
            id="third-party-kept-in-order-and-encoded-as-given",
        ),
        pytest.param(
            "sentry-transaction=GET%20%2Fusers%2F%7Bid%7D,sentry-environment=prod%2Cus",
            {"transaction": "GET /users/{id}", "environment": "prod,us"},
            "",
            id="percent-decoded",
        ),
        pytest.param(
            "sentry-release=1.0;prop=1;other=2",
            {"release": "1.0"},
            "",
            id="sentry-properties-dropped",
        ),
        pytest.param(
            ["sentry-trace_id=abc,a=1", b"b=2", "sentry-sampled=true"],
            {"trace_id": "abc", "sampled": "true"},
            "a=1,b=2",
            id="several-headers",
        ),
        pytest.param(
            iter(["a=1", "sentry-release=r"]),
            {"release": "r"},
            "a=1",
            id="iterator-of-headers",
        ),
        pytest.param(
            "noequals,=novalue,sentry-=x,sentry-ok=1,k=é,,  ,ok=2",
            {"ok": "1"},
            "ok=2",
            id="malformed-members-dropped",
        ),
        pytest.param("sentry-empty=", {"empty": ""}, "", id="empty-value"),
        pytest.param("a=b=c", {}, "a=b=c", id="equals-in-value"),
        pytest.param("sentry-release=bad%zz", {"release": "bad%zz"}, "", id="bad-escape-kept-raw"),
        pytest.param(b"sentry-release=1,x=y", {"release": "1"}, "x=y", id="bytes"),
        pytest.param("a=1,sentry-x=1,sentry-x=2", {"x": "2"}, "a=1", id="duplicate-last-wins"),
        pytest.param(["a=1", None, 3, "b=2"], {}, "a=1,b=2", id="junk-items-skipped"),
    ],
)
def test_parse_baggage(values: object, sentry: dict[str, str], third_party: str) -> None:
    assert parse_baggage(values) == (sentry, third_party)


def _exploding() -> Iterator[str]:
    yield "a=1"
    raise RuntimeError("broken header source")


@pytest.mark.parametrize(
    "values",
    [None, 0, 1.5, True, object(), {"sentry-release": "1"}, b"\xff\xfe", "", [], "é=1", "sentry-é=1"],
)
def test_parse_baggage_never_raises_on_garbage(values: object) -> None:
    assert parse_baggage(values) == ({}, "")


def test_parse_baggage_keeps_what_a_failing_header_source_gave_before_failing() -> None:
    assert parse_baggage(_exploding()) == ({}, "a=1")


def test_parse_baggage_ignores_members_past_180() -> None:
    members = [f"k{i}=v" for i in range(179)] + ["sentry-kept=1", "sentry-lost=1", "late=1"]
    sentry, third_party = parse_baggage(",".join(members))
    assert sentry == {"kept": "1"}
    assert third_party.split(",") == [f"k{i}=v" for i in range(179)]


def test_parse_baggage_ignores_bytes_past_8192() -> None:
    first = "a=" + "x" * 4000
    second = "b=" + "y" * 4000
    # 8005 bytes so far; "sentry-cut=..." would end past 8192 bytes and is cut.
    third = "sentry-cut=" + "z" * 300
    sentry, third_party = parse_baggage(f"{first},{second},{third},sentry-after=1")
    assert sentry == {}
    assert third_party == f"{first},{second}"


def test_parse_baggage_keeps_a_member_ending_exactly_at_8192_bytes() -> None:
    head = "a=" + "x" * 8000
    tail = "sentry-k=" + "v" * (8192 - len(head) - 1 - len("sentry-k="))
    value = f"{head},{tail}"
    assert len(value) == 8192
    assert parse_baggage(value) == ({"k": tail.partition("=")[2]}, head)
    assert parse_baggage(value + "v") == ({}, head)


def test_byte_limit_spans_several_headers() -> None:
    headers = ["a=" + "x" * 5000, "b=" + "y" * 5000, "sentry-k=1"]
    assert parse_baggage(headers) == ({}, headers[0])


@pytest.mark.parametrize(
    ("sentry", "third_party", "expected"),
    [
        pytest.param(
            {"trace_id": "abc", "sample_rate": 0.25}, "", "sentry-trace_id=abc,sentry-sample_rate=0.25"
        ),
        pytest.param({"sampled": True, "x": False}, "", "sentry-sampled=true,sentry-x=false", id="bools"),
        pytest.param(
            {"release": None, "environment": "prod"}, "", "sentry-environment=prod", id="none-skipped"
        ),
        pytest.param(
            {"transaction": "GET /a b,c;d=é"},
            "",
            "sentry-transaction=GET%20%2Fa%20b%2Cc%3Bd%3D%C3%A9",
            id="percent-encoded",
        ),
        pytest.param(
            {"release": "1"}, "other=1,vendor=x", "sentry-release=1,other=1,vendor=x", id="third-party"
        ),
        pytest.param({}, "other=1", "other=1", id="third-party-only"),
        pytest.param({}, "", "", id="empty"),
        pytest.param({"release": "1"}, "  ", "sentry-release=1", id="blank-third-party"),
    ],
)
def test_format_baggage(sentry: dict[str, object], third_party: str, expected: str) -> None:
    assert format_baggage(sentry, third_party) == expected


@pytest.mark.parametrize(
    "sentry",
    [
        {"trace_id": TRACE, "public_key": "49d0f7386ad645858ae85020e393bef3", "sample_rate": "0.0001"},
        {"transaction": "POST /orders/{id}?x=1&y=2", "release": "app@1.0+build,5", "environment": "prod;eu"},
        {"transaction": "naïve 100% ☃", "org_id": "1"},
    ],
)
def test_baggage_round_trip(sentry: dict[str, str]) -> None:
    third_party = "other=1,vendor=a%2Cb;prop"
    assert parse_baggage(format_baggage(sentry, third_party)) == (sentry, third_party)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.25", 0.25),
        ("0", 0.0),
        ("1", 1.0),
        ("1.0", 1.0),
        (" 0.5 ", 0.5),
        (b"0.125", 0.125),
        ("1e-4", 0.0001),
        ("1.0001", None),
        ("-0.1", None),
        ("nan", None),
        ("inf", None),
        ("-inf", None),
        ("abc", None),
        ("", None),
        (None, None),
        (0.5, None),
        (b"\xff", None),
    ],
)
def test_parse_unit_float(value: object, expected: float | None) -> None:
    assert parse_unit_float(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "0.000000"),
        (0.5, "0.500000"),
        (0.57, "0.570000"),
        (0.1234567, "0.123456"),
        (0.9999999, "0.999999"),
        (0.99999999999, "0.999999"),
        (1.0, "0.999999"),
        (-0.1, "0.000000"),
        (float("nan"), "0.000000"),
    ],
)
def test_format_sample_rand(value: float, expected: str) -> None:
    assert format_sample_rand(value) == expected


def test_six_decimal_values_round_trip_exactly() -> None:
    for micros in [*range(0, 1_000_000, 997), 999_999, 570_000, 290_000]:
        value = micros / 1_000_000
        text = format_sample_rand(value)
        assert text == f"0.{micros:06d}"
        assert parse_unit_float(text) == value
