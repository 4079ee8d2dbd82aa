"""Options given to ``init``: defaults, environment fallbacks, and clear errors for bad input."""

from __future__ import annotations

import socket

import pytest

import sentry_sdk
from sentry_sdk._options import resolve_options


def test_defaults_match_sentry_sdk(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """Without options, the defaults are sentry-sdk's."""
    monkeypatch.chdir(str(tmp_path))  # not a git checkout: no release from git
    options = resolve_options()
    assert None is options["dsn"]
    assert "production" == options["environment"]
    assert None is options["release"]
    assert socket.gethostname() == options["server_name"]
    assert (1.0, 100, 2.0, 100) == (
        options["sample_rate"],
        options["max_breadcrumbs"],
        options["shutdown_timeout"],
        options["max_stack_frames"],
    )
    # Deliberately not sentry-sdk's count of 100: the queue is bounded by bytes (docs/transports.md).
    assert (None, 8 * 1024 * 1024) == (options["transport_queue_size"], options["transport_queue_bytes"])
    assert (True, True, False, False) == (
        options["include_local_variables"],
        options["include_source_context"],
        options["attach_stacktrace"],
        options["send_default_pii"],
    )


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """SENTRY_DSN, SENTRY_RELEASE, SENTRY_ENVIRONMENT and SENTRY_DEBUG are read when options are absent."""
    monkeypatch.setenv("SENTRY_DSN", "https://k@example.com/3")
    monkeypatch.setenv("SENTRY_RELEASE", "r1")
    monkeypatch.setenv("SENTRY_ENVIRONMENT", "staging")
    monkeypatch.setenv("SENTRY_DEBUG", "true")
    options = resolve_options()
    assert ("https://k@example.com/3", "r1", "staging", True) == (
        options["dsn"],
        options["release"],
        options["environment"],
        options["debug"],
    )
    assert "r2" == resolve_options(options={"release": "r2"})["release"]


def test_release_defaults_to_the_git_head(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """In a git checkout the release is the HEAD commit."""
    import subprocess

    path = str(tmp_path)
    run = dict(cwd=path, check=True, capture_output=True)
    subprocess.run(["git", "init", "-q"], **run)  # type: ignore[call-overload]
    subprocess.run(  # type: ignore[call-overload]
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x"],
        **run,
    )
    head = subprocess.run(["git", "rev-parse", "HEAD"], **run).stdout.decode().strip()  # type: ignore[call-overload]
    monkeypatch.chdir(path)
    assert head == resolve_options()["release"]


def test_with_locals_is_the_old_name_of_include_local_variables() -> None:
    """``with_locals=False`` still turns local variables off."""
    assert False is resolve_options(options={"with_locals": False})["include_local_variables"]


def test_an_unknown_option_raises_type_error_naming_it() -> None:
    """A typo in an option name is caught at init."""
    with pytest.raises(TypeError, match="'sample_rte'"):
        sentry_sdk.init(sample_rte=0.5)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("sample_rate", 2),
        ("sample_rate", "1"),
        ("max_breadcrumbs", -1),
        ("debug", "yes"),
        ("before_send", "not callable"),
        ("ignore_errors", [42]),
        ("in_app_include", "mypkg"),
        ("shutdown_timeout", None),
        ("transport", 3),
        ("integrations", [object()]),
        ("max_value_length", 0),
        ("max_value_length", 2),
        ("transport_queue_size", 0),
        ("transport_queue_bytes", None),
    ],
)
def test_an_option_of_the_wrong_type_raises_naming_it(name: str, value: object) -> None:
    """A value of the wrong type is refused at init, with the option's name in the message."""
    with pytest.raises(TypeError, match=name):
        sentry_sdk.init(**{name: value})
    assert None is sentry_sdk.Hub.current.client


def test_a_malformed_dsn_raises_at_init() -> None:
    """A malformed DSN raises a ValueError at init and no client is bound."""
    with pytest.raises(ValueError, match="project id"):
        sentry_sdk.init("https://key@host/not-a-project")
    assert None is sentry_sdk.Hub.current.client


def test_options_sentry_sdk_accepts_but_we_do_not_implement_yet_are_accepted() -> None:
    """Code written for sentry-sdk 2.x that passes tracing options still starts."""
    sentry_sdk.init(traces_sample_rate=1.0, enable_tracing=True, _experiments={})
    assert sentry_sdk.Hub.current.client is not None


def test_the_dsn_may_be_passed_positionally_or_by_keyword_but_not_both() -> None:
    """``init(dsn)`` and ``init(dsn=...)`` both work; both at once is an error."""
    assert "https://k@h/1" == resolve_options("https://k@h/1")["dsn"]
    with pytest.raises(TypeError, match="dsn"):
        resolve_options("https://k@h/1", {"dsn": "https://k@h/2"})


def test_an_empty_dsn_turns_sending_off_even_with_sentry_dsn_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """``init(dsn="")`` is the usual way to disable sending; it is not a malformed DSN."""
    monkeypatch.setenv("SENTRY_DSN", "https://key@example.invalid/1")
    sentry_sdk.init(dsn="")
    client = sentry_sdk.Hub.current.client
    assert client is not None
    assert (None, None) == (client.dsn, client.transport)
