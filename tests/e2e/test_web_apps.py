"""End to end: a Django and a FastAPI app, set up as Sentry's docs show, report a failing view to Bugsink."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bugsink_server import BugsinkServer
from frameworks import require

_APPS = Path(__file__).resolve().parent / "apps"
_ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(command: list[str], dsn: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    env["SHOP_SENTRY_DSN"] = dsn
    env["PYTHONPATH"] = os.pathsep.join([str(_APPS), str(_ROOT)])
    process = subprocess.Popen(command, cwd=_APPS, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    _, err = process.communicate(timeout=5)
                    pytest.fail(f"the app did not start: {err.decode(errors='replace')[-2000:]}")
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def _get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": "Bearer e2e-token-123", "Cookie": "sessionid=e2e-session-456"}
    connection.request("GET", path, headers=headers)
    status = connection.getresponse().status
    connection.close()
    return status


def _wait_for_event(bugsink: BugsinkServer, seen: int) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        events = bugsink.events()
        if len(events) > seen:
            assert len(events) == seen + 1, "one failing request, one event"
            return events[-1]
        time.sleep(0.2)
    raise AssertionError("Bugsink stored no event for the failing request")


def _assert_request_without_pii(event: dict[str, Any], url: str) -> None:
    request = event["request"]
    assert url == request["url"]
    assert ("GET", "note=gift") == (request["method"], request["query_string"])
    assert "[Filtered]" == request["headers"]["Authorization"]
    assert "[Filtered]" == request["headers"]["Cookie"]
    assert "cookies" not in request
    assert "REMOTE_ADDR" not in request.get("env", {})
    assert "ip_address" not in event.get("user", {})
    raw = str(event)
    assert "e2e-token-123" not in raw and "e2e-session-456" not in raw


def test_a_django_app_reports_a_failing_view(bugsink: BugsinkServer) -> None:
    """runserver + settings.py init: Bugsink stores the error with request data, route and no PII."""
    require("django")
    port = _free_port()
    seen = len(bugsink.events())
    command = [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"]
    for _ in _serve([*command, "--settings", "shop.settings"], bugsink.dsn, port):
        assert 500 == _get(port, "/orders/42/?note=gift")
        event = _wait_for_event(bugsink, seen)

    (exc,) = event["exception"]["values"]
    assert ("KeyError", "'price'") == (exc["type"], exc["value"])
    assert ("django", False) == (exc["mechanism"]["type"], exc["mechanism"]["handled"])
    assert ("/orders/{order_id}/", {"source": "route"}) == (event["transaction"], event["transaction_info"])
    _assert_request_without_pii(event, f"http://127.0.0.1:{port}/orders/42/")


def test_a_fastapi_app_reports_a_failing_endpoint(bugsink: BugsinkServer) -> None:
    """uvicorn + module-level init: Bugsink stores the error with request data, route and no PII."""
    require("fastapi")
    require("uvicorn")
    port = _free_port()
    seen = len(bugsink.events())
    command = [sys.executable, "-m", "uvicorn", "fastapi_shop:app", "--host", "127.0.0.1"]
    for _ in _serve([*command, "--port", str(port)], bugsink.dsn, port):
        assert 500 == _get(port, "/items/5?note=gift")
        event = _wait_for_event(bugsink, seen)

    (exc,) = event["exception"]["values"]
    assert ("KeyError", "'pears'") == (exc["type"], exc["value"])
    assert ("starlette", False) == (exc["mechanism"]["type"], exc["mechanism"]["handled"])
    assert ("/items/{item_id}", {"source": "route"}) == (event["transaction"], event["transaction_info"])
    _assert_request_without_pii(event, f"http://127.0.0.1:{port}/items/5")
