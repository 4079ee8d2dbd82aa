"""Scrubbing by value: secrets found by their shape anywhere in text, ordinary text left alone."""

from __future__ import annotations

import base64
import hashlib
import random
import string
import uuid
from collections.abc import Callable
from typing import Any

import pytest

import sentry_sdk
from sentry_sdk._secrets import SecretFinder
from sentry_sdk.testing import CapturingTransport

_rng = random.Random(20261125)
_ALNUM = string.ascii_letters + string.digits


def _s(alphabet: str, n: int) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


def _luhn_complete(prefix: str, length: int) -> str:
    body = prefix + _s(string.digits, length - len(prefix) - 1)
    for check in string.digits:
        candidate = body + check
        digits = [int(c) for c in candidate][::-1]
        total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits))
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def _jwt() -> str:
    def part(data: str) -> str:
        return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")

    header = part('{"alg":"HS256","typ":"JWT"}')
    claims = part('{"sub":"' + _s(_ALNUM, 12) + '"}')
    return f"{header}.{claims}.{_s(_ALNUM + '-_', 43)}"


def _aws_secret() -> str:
    while True:
        value = _s(_ALNUM + "/+", 40)
        if (
            any(c.islower() for c in value)
            and any(c.isupper() for c in value)
            and any(c.isdigit() for c in value)
        ):
            return value


_MAKERS = {
    "jwt": _jwt,
    "bearer": lambda: "Bearer " + _s(_ALNUM, 8) + _rng.choice(string.digits) + _s(_ALNUM + "._-", 23),
    "basic": lambda: (
        "Basic " + base64.b64encode(f"{_s(string.ascii_lowercase, 6)}:{_s(_ALNUM, 12)}".encode()).decode()
    ),
    "aws_access": lambda: _rng.choice(["AKIA", "ASIA"]) + _s(string.ascii_uppercase + string.digits, 16),
    "aws_secret": _aws_secret,
    "gcp": lambda: "AIza" + _s(_ALNUM + "_-", 35),
    "azure": lambda: base64.b64encode(_rng.randbytes(64)).decode(),
    "github": lambda: _rng.choice(["ghp_", "gho_", "ghs_", "ghu_"]) + _s(_ALNUM, 36),
    "github_pat": lambda: "github_pat_" + _s(_ALNUM + "_", 82),
    "slack": lambda: (
        f"xox{_rng.choice('bpas')}-{_s(string.digits, 12)}-{_s(string.digits, 12)}-{_s(_ALNUM, 24)}"
    ),
    "stripe": lambda: f"{_rng.choice(['sk', 'rk'])}_{_rng.choice(['live', 'test'])}_{_s(_ALNUM, 24)}",
    "pem": lambda: (
        "-----BEGIN RSA PRIVATE KEY-----\n"
        + "\n".join(_s(_ALNUM + "+/", 64) for _ in range(4))
        + "\n-----END RSA PRIVATE KEY-----"
    ),
    "url": lambda: f"postgres://{_s(string.ascii_lowercase, 5)}:{_s(_ALNUM, 14)}@db.internal:5432/app",
    "visa": lambda: _luhn_complete("4", 16),
    "mastercard": lambda: _luhn_complete(_rng.choice(["51", "53", "55"]), 16),
    "amex": lambda: _luhn_complete(_rng.choice(["34", "37"]), 15),
}
_CONTEXTS = ["{}", "token={}", "failed with {} (retrying)", "header: {}", "{} is invalid"]

SECRETS = [(kind, _rng.choice(_CONTEXTS).format(make())) for kind, make in _MAKERS.items() for _ in range(14)]

ORDINARY = (
    [str(uuid.UUID(int=_rng.getrandbits(128))) for _ in range(30)]
    + [hashlib.sha1(str(i).encode()).hexdigest() for i in range(20)]
    + [hashlib.sha256(str(i).encode()).hexdigest() for i in range(20)]
    + [hashlib.md5(str(i).encode()).hexdigest() for i in range(10)]
    + [f"https://api.example.com/v2/orders/{i}?page={i % 7}&sort=desc" for i in range(20)]
    + [str(1_732_530_000_000 + _rng.randrange(10**9)) for _ in range(15)]  # epoch milliseconds
    + [str(_rng.randrange(10**6)) for _ in range(10)]
    + [f"{_rng.random() * 1000:.4f}" for _ in range(10)]
    + [f"/srv/app/releases/{i}/lib/python3.11/site-packages/app/views.py" for i in range(10)]
    + [f"2026-11-{1 + i:02d}T10:{i:02d}:00Z" for i in range(15)]
    + [f"10.{i}.{i * 3 % 255}.{i * 7 % 255}" for i in range(10)]
    + [f"release-{i}.{i * 2}.{i * 3}" for i in range(10)]
    + [
        "Basic usage of the API is described in the README",
        "Bearer of bad news: the payment was declined",
        "basic authentication is not enabled for this endpoint",
        "User 42 could not be found",
        "Connection reset by peer while reading the response",
        "KeyError: 'customer_id'",
        "The quick brown fox jumps over the lazy dog",
        "order 1234 shipped to warehouse 7",
        "Traceback (most recent call last):",
        "SELECT * FROM orders WHERE id = %s",
        "phone: +1 415 555 0100",
        "invoice INV-2026-000123 paid",
        "ISBN 978-3-16-148410-0",
        "tracking number 1Z999AA10123456784",
        "retry after 30 seconds",
        "https://docs.example.com/guide#authentication",
        "Set the header Authorization: to your token",
        "mailto:support@example.com",
        "git@github.com:example/repo.git",
        "ghost_user logged out",
        "sk_ is the prefix of secret keys",
        "AKIA is how AWS access key ids start",
        "-----BEGIN CERTIFICATE-----",
        "eyJ is what base64 JSON starts with",
        "card ending in 4242",
    ]
)


def test_the_secret_corpus_is_caught_entirely(report_figure: Callable[[str], None]) -> None:
    """Every one of the generated, real-looking secrets is replaced wherever it stands in the text."""
    finder = SecretFinder()
    assert len(SECRETS) >= 200
    missed = [(kind, text) for kind, text in SECRETS if finder.scrub(text) is None]
    caught = len(SECRETS) - len(missed)
    kinds = len({kind for kind, _ in SECRETS})
    report_figure(
        f"secret corpus: {caught} of {len(SECRETS)} caught ({caught / len(SECRETS):.1%}), {kinds} shapes"
    )
    assert [] == missed
    for _, text in SECRETS:
        scrubbed = finder.scrub(text)
        assert scrubbed is not None and "[Filtered]" in scrubbed


def test_the_ordinary_corpus_passes_untouched(report_figure: Callable[[str], None]) -> None:
    """UUIDs, hashes, URLs, numbers, dates, paths and prose are left exactly as they are."""
    finder = SecretFinder()
    assert len(ORDINARY) >= 200
    touched = [text for text in ORDINARY if finder.scrub(text) is not None]
    kept = len(ORDINARY) - len(touched)
    report_figure(f"ordinary corpus: {kept} of {len(ORDINARY)} untouched ({kept / len(ORDINARY):.1%})")
    assert [] == touched


def test_only_the_secret_is_replaced_and_the_text_around_it_stays() -> None:
    """The event stays useful: the message around a secret is kept."""
    finder = SecretFinder()
    assert "connect to postgres://app:[Filtered]@db/x failed" == finder.scrub(
        "connect to postgres://app:hunter2hunter2@db/x failed"
    )
    assert "Authorization: Bearer [Filtered]" == finder.scrub("Authorization: Bearer abcDEF1234567890xyz")


def _init(**options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, default_integrations=False, **options)
    return transport


def test_secrets_never_reach_the_server_from_messages_locals_breadcrumbs_and_extras() -> None:
    """A token in an exception message, a local variable, a breadcrumb and an extra is filtered."""
    token = "ghp_" + "Ab1" * 12
    transport = _init()
    sentry_sdk.add_breadcrumb(message=f"calling GitHub with {token}", data={"auth": f"token {token}"})
    sentry_sdk.set_extra("last_request", f"GET /user with {token}")
    try:
        line = f"Authorization: token {token}"  # noqa: F841 - a local the SDK collects
        raise PermissionError(f"GitHub refused {token}")
    except PermissionError:
        sentry_sdk.capture_exception()
    sentry_sdk.capture_message(f"message with {token}")
    text = repr(transport.events)
    assert token not in text
    event = transport.events[0]
    assert "GitHub refused [Filtered]" == event["exception"]["values"][0]["value"]
    assert ["@secret", "s"] in event["_meta"]["exception"]["values"]["0"]["value"][""]["rem"]
    assert "PermissionError" == event["exception"]["values"][0]["type"]


def test_scrubbing_by_value_can_be_turned_off_or_extended() -> None:
    """``scrub_secrets=False`` sends text as it is; a list adds patterns of your own."""
    transport = _init(scrub_secrets=False)
    sentry_sdk.capture_message("AKIAIOSFODNN7EXAMPLE")
    assert "AKIAIOSFODNN7EXAMPLE" == transport.events[0]["message"]
    transport = _init(scrub_secrets=[r"\bemp-[0-9]{6}\b"])
    sentry_sdk.capture_message("employee emp-123456 and AKIAIOSFODNN7EXAMPLE")
    assert "employee [Filtered] and [Filtered]" == transport.events[0]["message"]


def test_a_bad_pattern_fails_at_init() -> None:
    """An invalid regular expression is a configuration error, named as such."""
    with pytest.raises(ValueError, match="scrub_secrets"):
        sentry_sdk.init(scrub_secrets=["(unclosed"])


def test_an_events_texts_searched_together_give_what_each_searched_alone_gives() -> None:
    """An event's strings are searched in one pass over all of them: every secret is still
    found, in the text that holds it, and no ordinary text next to one is touched."""
    finder = SecretFinder()
    mixed = [text for _, text in SECRETS] + list(ORDINARY)
    _rng.shuffle(mixed)
    expected = {text: finder.scrub(text) for text in mixed if finder.scrub(text) is not None}
    assert len(SECRETS) == len(expected)
    assert expected == SecretFinder().find(mixed)


def test_a_text_holding_a_nul_of_its_own_does_not_hide_its_neighbours_secrets() -> None:
    """Texts are told apart by a NUL between them when searched together; one that holds a
    NUL itself is searched on its own, so every secret is still placed in its own text."""
    token = "ghp_" + "Zx9" * 12
    texts = [
        "plain\x00text with a NUL in it",
        f"token {token}",
        f"nul\x00 and {token}",
        "ordinary words here",
    ]
    found = SecretFinder().find(texts)
    assert {f"token {token}": "token [Filtered]", f"nul\x00 and {token}": "nul\x00 and [Filtered]"} == found


def test_a_breadcrumb_with_a_secret_is_scrubbed_in_every_event_that_carries_it() -> None:
    """Breadcrumbs come again in every later event; the finder remembers the clean ones, and
    never a secret, so the tenth event is scrubbed like the first."""
    token = "xoxb-" + "1234567890-" * 2 + "AbCdEfGhIjKlMnOpQrStUvWx"
    transport = _init()
    sentry_sdk.add_breadcrumb(
        message="a clean breadcrumb message here", data={"url": "https://example.com/a/b/c"}
    )
    sentry_sdk.add_breadcrumb(message=f"posted to Slack with {token}", data={"detail": f"t={token}"})
    for index in range(10):
        sentry_sdk.capture_message(f"event number {index} of ten")
    assert 10 == len(transport.events)
    assert token not in repr(transport.events)
    for event in transport.events:
        crumbs = event["breadcrumbs"]["values"]
        assert "a clean breadcrumb message here" == crumbs[0]["message"]
        assert "posted to Slack with [Filtered]" == crumbs[1]["message"]
        assert "t=[Filtered]" == crumbs[1]["data"]["detail"]
        assert ["@secret", "s"] in event["_meta"]["breadcrumbs"]["values"]["1"]["message"][""]["rem"]


def test_trace_and_span_ids_are_never_taken_for_card_numbers() -> None:
    """Random hex ids with a Luhn-valid run of digits reach Sentry intact (a filtered id breaks the trace)."""
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, default_integrations=False)
    trace = {"trace_id": "4111111111111111abcdefabcdef0123", "span_id": "4012888888881881", "op": "task"}
    sentry_sdk.set_context("trace", {**trace, "parent_span_id": "5555555555554444"})
    sentry_sdk.set_context("payment", {"card": "4242424242424242"})
    sentry_sdk.capture_message("with a trace")
    (event,) = transport.events
    assert {**trace, "parent_span_id": "5555555555554444"} == event["contexts"]["trace"]
    assert "[Filtered]" == event["contexts"]["payment"]["card"]
