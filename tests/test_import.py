"""``import sentry_sdk`` stays cheap: the pipeline, the transport and heavy stdlib modules load later."""

from __future__ import annotations

import subprocess
import sys

# Modules a program that only imports the SDK must not pay for.
_DEFERRED = (
    "logging",
    "json",
    "typing",
    "urllib3",
    "certifi",
    "datetime",
    "uuid",
    "sentry_sdk.client",
    "sentry_sdk.transport",
    "sentry_sdk._serializer",
)


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {_DEFERRED!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return result.stdout.split()


def test_importing_the_sdk_loads_none_of_the_deferred_modules() -> None:
    """A bare ``import sentry_sdk`` leaves logging, json, typing, urllib3 and the pipeline unloaded."""
    assert [] == _loaded_after("import sentry_sdk")


def test_the_deferred_names_still_import_as_before() -> None:
    """``from sentry_sdk import Client, Transport, HttpTransport`` and ``sentry_sdk.integrations`` work."""
    code = (
        "import sentry_sdk\n"
        "from sentry_sdk import Client, HttpTransport, Transport\n"
        "assert issubclass(HttpTransport, Transport) and callable(Client)\n"
        "assert sentry_sdk.integrations.Integration is not None"
    )
    assert "sentry_sdk.client" in _loaded_after(code)


def test_init_loads_the_pipeline() -> None:
    """``init`` is where the client, transport and logging integration are loaded."""
    loaded = _loaded_after("import sentry_sdk\nsentry_sdk.init()")
    assert {"sentry_sdk.client", "logging"} <= set(loaded)
