"""The internal-error guard: SDK bugs never reach the program, and our own tests fail on them."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import sentry_sdk
from sentry_sdk import _log
from sentry_sdk.testing import CapturingTransport


def test_a_bug_in_the_pipeline_is_swallowed_logged_and_reported(
    monkeypatch: pytest.MonkeyPatch,
    sdk_errors_fail_tests: list[BaseException],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An exception inside the SDK returns None to the caller, is logged, and reaches the test hook."""
    import sentry_sdk.client as client_module

    def broken(event: Any, **kwargs: Any) -> Any:
        raise RuntimeError("simulated SDK bug")

    monkeypatch.setattr(client_module, "serialize_event", broken)
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, default_integrations=False)
    with caplog.at_level(logging.ERROR, logger="sentry_sdk.errors"):
        assert None is sentry_sdk.capture_message("x")
    assert ["simulated SDK bug"] == [str(e) for e in sdk_errors_fail_tests]
    assert any(r.exc_info and "simulated SDK bug" in str(r.exc_info[1]) for r in caplog.records)
    sdk_errors_fail_tests.clear()  # this test provoked the error on purpose


def test_the_suite_turns_a_caught_internal_error_into_a_failure(pytester: pytest.Pytester) -> None:
    """A test during which the guard catches an SDK bug fails, though the SDK swallowed the error."""
    pytester.makeconftest(
        "from sentry_sdk._log import set_internal_error_hook\n"
        "import pytest\n"
        "@pytest.fixture(autouse=True)\n"
        "def fail_on_sdk_errors():\n"
        "    errors = []\n"
        "    set_internal_error_hook(errors.append)\n"
        "    yield\n"
        "    set_internal_error_hook(None)\n"
        "    if errors:\n"
        "        pytest.fail(f'SDK error: {errors[0]!r}')\n"
    )
    pytester.makepyfile(
        "from sentry_sdk._log import capture_internal_exceptions\n"
        "def test_hidden_bug():\n"
        "    with capture_internal_exceptions():\n"
        "        raise KeyError('hidden')\n"
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*SDK error: KeyError('hidden')*"])


def test_the_guard_does_not_swallow_keyboard_interrupt() -> None:
    """Only Exceptions are swallowed: Ctrl-C still stops the program."""
    with pytest.raises(KeyboardInterrupt):
        with _log.capture_internal_exceptions():
            raise KeyboardInterrupt
