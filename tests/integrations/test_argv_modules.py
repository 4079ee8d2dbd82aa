"""The argv and modules integrations: the command line and installed packages on every event."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from importlib import metadata
from typing import Any

import pytest

import sentry_sdk
from sentry_sdk.integrations import modules
from sentry_sdk.integrations.argv import ArgvIntegration
from sentry_sdk.integrations.modules import ModulesIntegration
from sentry_sdk.testing import CapturingTransport


def _init(*integrations: Any, **options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    sentry_sdk.init(
        transport=transport, integrations=list(integrations), default_integrations=False, **options
    )
    return transport


# -- argv ---------------------------------------------------------------------------------------


def test_events_carry_the_command_line() -> None:
    """Every event has extra["sys.argv"]: the arguments the process was started with."""
    transport = _init(ArgvIntegration())
    sentry_sdk.capture_message("one")
    sentry_sdk.capture_exception(ValueError("two"))
    assert [sys.argv, sys.argv] == [e["extra"]["sys.argv"] for e in transport.events]


def test_the_command_line_is_added_next_to_other_extra_data() -> None:
    """Extra data set on the scope or passed with the event is kept beside sys.argv."""
    transport = _init(ArgvIntegration())
    sentry_sdk.set_extra("order", 7)
    sentry_sdk.capture_event({"message": "m", "extra": {"own": True}})
    assert {"order": 7, "own": True, "sys.argv": sys.argv} == transport.events[0]["extra"]


def test_a_sys_argv_the_user_set_is_kept() -> None:
    """extra["sys.argv"] set by the program is not overwritten."""
    transport = _init(ArgvIntegration())
    sentry_sdk.set_extra("sys.argv", ["redacted"])
    sentry_sdk.capture_message("m")
    assert ["redacted"] == transport.events[0]["extra"]["sys.argv"]


def test_the_command_line_sent_is_a_copy() -> None:
    """Changing the event's list (say, in before_send) does not change the program's sys.argv."""
    argv = list(sys.argv)

    def scrub(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
        event["extra"]["sys.argv"].append("--added-in-before-send")
        return event

    _init(ArgvIntegration(), before_send=scrub)
    sentry_sdk.capture_message("m")
    assert argv == sys.argv


def test_the_passed_extra_dict_is_not_changed() -> None:
    """The dict given to capture_event stays as the caller made it."""
    _init(ArgvIntegration())
    extra = {"own": True}
    sentry_sdk.capture_event({"message": "m", "extra": extra})
    assert {"own": True} == extra


# -- modules ------------------------------------------------------------------------------------


def test_events_list_the_installed_distributions() -> None:
    """event["modules"] maps each installed distribution (normalized name) to its version."""
    transport = _init(ModulesIntegration())
    sentry_sdk.capture_message("m")
    listed = transport.events[0]["modules"]
    assert metadata.version("urllib3") == listed["urllib3"]
    assert metadata.version("pytest") == listed["pytest"]
    assert all(name == name.lower() and "_" not in name for name in listed)


def test_transactions_go_without_the_list_as_with_sentry_sdk() -> None:
    transport = _init(ModulesIntegration(), traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="t"):
        sentry_sdk.capture_message("m")
    sentry_sdk.flush()
    kinds = {item.get("type", "event"): item for item in transport.events}
    assert "modules" in kinds["event"]
    assert kinds["transaction"]["type"] == "transaction" and "modules" not in kinds["transaction"]


def test_modules_the_event_already_has_are_kept() -> None:
    """An event that comes with its own modules keeps them."""
    transport = _init(ModulesIntegration())
    sentry_sdk.capture_event({"message": "m", "modules": {"mine": "1.0"}})
    assert {"mine": "1.0"} == transport.events[0]["modules"]


def test_distributions_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed distributions are read on the first event only, then reused."""
    calls: list[None] = []
    original = metadata.distributions

    def counting(**kwargs: Any) -> Any:
        calls.append(None)
        return original(**kwargs)

    monkeypatch.setattr(modules, "_installed", None)
    monkeypatch.setattr(metadata, "distributions", counting)
    transport = _init(ModulesIntegration())
    assert [] == calls
    for _ in range(3):
        sentry_sdk.capture_message("m")
    assert 1 == len(calls)
    assert 1 == len({json.dumps(e["modules"], sort_keys=True) for e in transport.events})


def test_neither_is_added_when_the_client_does_not_enable_them() -> None:
    """Once set up by one client, a client without these integrations gets neither field."""
    _init(ArgvIntegration(), ModulesIntegration())
    transport = _init()
    sentry_sdk.capture_message("m")
    (event,) = transport.events
    assert "modules" not in event and "sys.argv" not in event.get("extra", {})


def test_importing_and_init_do_not_read_the_installed_distributions(
    run_script: Callable[[str], Any],
) -> None:
    """importlib.metadata is loaded when the first event is sent, not by import or init."""
    result = run_script(
        "import json, sys\n"
        "import sentry_sdk\n"
        "from sentry_sdk.integrations.modules import ModulesIntegration\n"
        "events = []\n"
        "sentry_sdk.init(transport=events.append, integrations=[ModulesIntegration()],\n"
        "                default_integrations=False, release='1')\n"
        "before = 'importlib.metadata' in sys.modules\n"
        "sentry_sdk.capture_message('x')\n"
        "print(json.dumps([before, 'importlib.metadata' in sys.modules, bool(events[0]['modules'])]))\n"
    )
    assert 0 == result.returncode, result.stderr
    assert [False, True, True] == json.loads(result.stdout)


def test_the_module_list_is_the_same_on_every_event_and_a_hook_changing_it_changes_only_its_own() -> None:
    """The list is built once and sent as is (not walked per event); each event gets its own copy."""
    seen: list[dict[str, str]] = []

    def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
        seen.append(dict(event["modules"]))
        event["modules"]["added-by-hook"] = "1.0"
        return event

    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, before_send=before_send)
    sentry_sdk.capture_message("one")
    sentry_sdk.capture_message("two")
    first, second = (event["modules"] for event in transport.events)
    assert "added-by-hook" not in seen[1]
    assert first["added-by-hook"] == second["added-by-hook"] == "1.0"
    assert {k: v for k, v in first.items() if k != "added-by-hook"} == seen[0] == seen[1]
    assert all(type(k) is str and type(v) is str for k, v in seen[0].items())
