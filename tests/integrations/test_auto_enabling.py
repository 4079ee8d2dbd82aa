"""Auto-enabling: a framework's integration is set up when the program imports the framework, never before."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from subprocess import CompletedProcess

import pytest

import sentry_sdk
from sentry_sdk import integrations
from sentry_sdk.integrations import DidNotEnable, Integration
from sentry_sdk.testing import CapturingTransport

_FRAMEWORK = "sentry_test_fakeframework"


class _Fake(Integration):
    identifier = "fakeframework"
    setups: list[str] = []
    refuse: str | None = None

    @staticmethod
    def setup_once() -> None:
        if _Fake.refuse:
            raise DidNotEnable(_Fake.refuse)
        _Fake.setups.append(sys.modules.get(_FRAMEWORK, types.ModuleType("missing")).__name__)


@pytest.fixture
def fake_framework(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A framework module the program can import, and an integration for it in the auto-enabling table."""
    (tmp_path / f"{_FRAMEWORK}.py").write_text("VERSION = '1.0'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = types.ModuleType("sentry_sdk.integrations.fakeframework")
    module.FakeIntegration = _Fake  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentry_sdk.integrations.fakeframework", module)
    monkeypatch.setattr(integrations, "_AUTO_ENABLING", ((_FRAMEWORK, "fakeframework.FakeIntegration"),))
    _Fake.setups = []
    _Fake.refuse = None
    yield
    sys.modules.pop(_FRAMEWORK, None)
    integrations._installed.discard("fakeframework")
    integrations._waiting.pop("fakeframework", None)


def _init(**options: object) -> CapturingTransport:
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, default_integrations=True, **options)  # type: ignore[arg-type]
    return transport


def test_a_framework_imported_after_init_gets_its_integration_at_that_import(fake_framework: None) -> None:
    """init does not import the framework; the program's own import sets it up, and events list it."""
    transport = _init()
    client = sentry_sdk.get_client()
    assert _FRAMEWORK not in sys.modules
    assert ([], False) == (_Fake.setups, "fakeframework" in client.integrations)

    __import__(_FRAMEWORK)

    assert [_FRAMEWORK] == _Fake.setups
    assert "fakeframework" in client.integrations
    sentry_sdk.capture_message("after the import")
    assert "fakeframework" in transport.events[0]["sdk"]["integrations"]


def test_a_framework_already_imported_at_init_is_set_up_at_once(fake_framework: None) -> None:
    """The usual order in an app module: import the framework, then init."""
    __import__(_FRAMEWORK)
    _init()
    assert [_FRAMEWORK] == _Fake.setups
    assert "fakeframework" in sentry_sdk.get_client().integrations


def test_auto_enabling_integrations_false_sets_up_nothing(fake_framework: None) -> None:
    """auto_enabling_integrations=False: neither at init nor at the framework's later import."""
    _init(auto_enabling_integrations=False)
    __import__(_FRAMEWORK)
    assert [] == _Fake.setups
    assert "fakeframework" not in sentry_sdk.get_client().integrations


def test_an_auto_enabled_integration_that_cannot_enable_is_skipped_but_a_listed_one_raises(
    fake_framework: None,
) -> None:
    """DidNotEnable is silent for auto-enabling; the same integration listed by the user raises at init."""
    __import__(_FRAMEWORK)
    _Fake.refuse = "Fakeframework 0.1 found; 1.0 or newer is required"
    _init()
    assert "fakeframework" not in sentry_sdk.get_client().integrations
    with pytest.raises(DidNotEnable, match="0.1 found"):
        _init(integrations=[_Fake()])


def test_a_later_init_before_the_import_enables_it_on_the_latest_client(fake_framework: None) -> None:
    """Two inits before the framework is imported: set up once, for the client in effect."""
    _init()
    _init()
    __import__(_FRAMEWORK)
    assert [_FRAMEWORK] == _Fake.setups
    assert "fakeframework" in sentry_sdk.get_client().integrations


def test_import_and_init_import_no_framework(run_script: Callable[[str], CompletedProcess[str]]) -> None:
    """In a fresh interpreter, init leaves Flask, Django, Celery, Starlette and FastAPI unimported."""
    result = run_script(
        "import sys\n"
        "import sentry_sdk\n"
        "sentry_sdk.init(dsn='https://key@127.0.0.1:9/1')\n"
        "frameworks = ('flask', 'django', 'celery', 'starlette', 'fastapi', 'werkzeug', 'kombu')\n"
        "print(sorted(name for name in frameworks if name in sys.modules))\n"
    )
    assert 0 == result.returncode, result.stderr
    assert "[]" == result.stdout.strip()
