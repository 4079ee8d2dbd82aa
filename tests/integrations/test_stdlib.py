"""The stdlib integration: HTTP requests and subprocesses as breadcrumbs, with secrets left out."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import urllib3

import sentry_sdk
from sentry_sdk.integrations.stdlib import StdlibIntegration
from sentry_sdk.testing import CapturingTransport, IngestServer


class _Handler(BaseHTTPRequestHandler):
    """Answers ``/status/<code>`` with that status and everything else with 200."""

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.partition("?")[0]
        status = int(path.rpartition("/")[2]) if path.startswith("/status/") else 200
        body = b"ok"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.do_GET()


@pytest.fixture
def server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1; yields its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def transport() -> CapturingTransport:
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, integrations=[StdlibIntegration()], default_integrations=False)
    return transport


def _crumbs(transport: CapturingTransport) -> list[dict[str, Any]]:
    """The breadcrumbs of an event captured now, without their timestamps."""
    sentry_sdk.capture_message("probe")
    crumbs: list[dict[str, Any]] = transport.events[-1].get("breadcrumbs", {}).get("values", [])
    for crumb in crumbs:
        assert isinstance(crumb.pop("timestamp"), (int, float, str))
    return crumbs


def _free_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- HTTP ---------------------------------------------------------------------------------------


def test_a_urllib_request_leaves_an_http_breadcrumb(transport: CapturingTransport, server: str) -> None:
    """A request made with urllib.request is an info breadcrumb with method, URL, status and reason."""
    with urllib.request.urlopen(f"{server}/hello") as response:
        response.read()
    assert [
        {
            "type": "http",
            "category": "httplib",
            "level": "info",
            "data": {"method": "GET", "url": f"{server}/hello", "status_code": 200, "reason": "OK"},
        }
    ] == _crumbs(transport)


def test_an_http_client_request_is_recorded(transport: CapturingTransport, server: str) -> None:
    """Requests made directly with http.client are recorded, whatever their method."""
    port = int(server.rpartition(":")[2])
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("POST", "/items", body=b"{}")
    conn.getresponse().read()
    conn.close()
    (crumb,) = _crumbs(transport)
    assert {"method": "POST", "url": f"{server}/items", "status_code": 200, "reason": "OK"} == crumb["data"]


def test_urllib3_requests_are_recorded(transport: CapturingTransport, server: str) -> None:
    """urllib3 (and so requests) goes through http.client, so its requests are recorded too."""
    with urllib3.PoolManager() as pool:
        assert 200 == pool.request("GET", f"{server}/via-urllib3").status
    (crumb,) = _crumbs(transport)
    assert ("GET", f"{server}/via-urllib3", 200) == (
        crumb["data"]["method"],
        crumb["data"]["url"],
        crumb["data"]["status_code"],
    )


def test_credentials_and_secret_query_values_are_not_recorded(
    transport: CapturingTransport, server: str
) -> None:
    """The URL loses user:password@ and its query; secret-looking query values are [Filtered]."""
    port = int(server.rpartition(":")[2])
    conn = http.client.HTTPConnection("127.0.0.1", port)
    # The absolute form a proxy receives, so the credentials really are part of the request line.
    conn.request("GET", f"http://user:pw@127.0.0.1:{port}/search?token=tok-qwv&page=2#access_token=frag-kpz")
    conn.getresponse().read()
    conn.close()
    (crumb,) = _crumbs(transport)
    assert {
        "method": "GET",
        "url": f"{server}/search",
        "http.query": "token=[Filtered]&page=2",
        "http.fragment": "access_token=[Filtered]",
        "status_code": 200,
        "reason": "OK",
    } == crumb["data"]
    sent = json.dumps(transport.events[-1])
    # Values that cannot turn up by chance in the event's hex ids.
    assert "pw@" not in sent and "tok-qwv" not in sent and "frag-kpz" not in sent


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("api_key=1&q=shoes", "api_key=[Filtered]&q=shoes"),
        ("apiKey=1&keyword=shoes", "apiKey=[Filtered]&keyword=shoes"),
        (
            "X-Amz-Signature=1&X-Amz-Credential=2&X-Amz-Date=3",
            "X-Amz-Signature=[Filtered]&X-Amz-Credential=[Filtered]&X-Amz-Date=3",
        ),
        (
            "password=1&sessionid=2&code=3&sig=4&auth=5",
            "password=[Filtered]&sessionid=[Filtered]&code=[Filtered]&sig=[Filtered]&auth=[Filtered]",
        ),
        ("access%5Ftoken=1&page", "access%5Ftoken=[Filtered]&page"),
    ],
)
def test_secret_looking_query_parameters_are_filtered(
    transport: CapturingTransport, server: str, query: str, expected: str
) -> None:
    """Names are matched by their words, in any case or separator style; other values stay."""
    with urllib.request.urlopen(f"{server}/q?{query}") as response:
        response.read()
    (crumb,) = _crumbs(transport)
    assert expected == crumb["data"]["http.query"]


@pytest.mark.parametrize(
    ("status", "level"), [(200, "info"), (302, "info"), (404, "warning"), (500, "error")]
)
def test_the_level_follows_the_status(
    transport: CapturingTransport, server: str, status: int, level: str
) -> None:
    """Server errors are error breadcrumbs, client errors warnings, everything else info."""
    port = int(server.rpartition(":")[2])
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", f"/status/{status}")
    conn.getresponse().read()
    conn.close()
    (crumb,) = _crumbs(transport)
    assert (level, status) == (crumb["level"], crumb["data"]["status_code"])


def test_a_server_error_raised_by_urllib_is_recorded(transport: CapturingTransport, server: str) -> None:
    """A 500 answer that urllib turns into HTTPError still leaves its breadcrumb."""
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{server}/status/500")
    (crumb,) = _crumbs(transport)
    assert ("error", 500, "Internal Server Error") == (
        crumb["level"],
        crumb["data"]["status_code"],
        crumb["data"]["reason"],
    )


def test_a_refused_connection_leaves_a_breadcrumb_without_status(transport: CapturingTransport) -> None:
    """A request that never got an answer is an error breadcrumb with no status; the error still raises."""
    port = _free_port()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/down?token=t")
    assert [
        {
            "type": "http",
            "category": "httplib",
            "level": "error",
            "data": {
                "method": "GET",
                "url": f"http://127.0.0.1:{port}/down",
                "http.query": "token=[Filtered]",
            },
        }
    ] == _crumbs(transport)


def test_the_sdks_own_requests_are_not_recorded(ingest: IngestServer, server: str) -> None:
    """Sending events leaves no breadcrumb, on any thread; other requests to that server are recorded."""
    seen: list[dict[str, Any]] = []

    def record(crumb: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
        seen.append(crumb)
        return crumb

    sentry_sdk.init(
        dsn=ingest.dsn,
        integrations=[StdlibIntegration()],
        default_integrations=False,
        before_breadcrumb=record,
    )
    sentry_sdk.capture_message("first")
    ingest.wait_for_events(1)
    with urllib.request.urlopen(f"{server}/mine") as response:
        response.read()
    with pytest.raises(urllib.error.HTTPError):  # the same host and port, another path
        urllib.request.urlopen(urllib.request.Request(f"{ingest.url}/api/1/store/", data=b"{}"))
    sentry_sdk.capture_message("second")
    sentry_sdk.flush()
    second = ingest.wait_for_events(2)[1]
    assert [f"{server}/mine", f"{ingest.url}/api/1/store/"] == [
        c["data"]["url"] for c in second["breadcrumbs"]["values"]
    ]
    assert [f"{server}/mine", f"{ingest.url}/api/1/store/"] == [c["data"]["url"] for c in seen]


def test_nothing_is_recorded_when_the_client_does_not_enable_it(server: str) -> None:
    """Once patched, http.client records nothing for a client without the integration."""
    sentry_sdk.init(
        transport=CapturingTransport(), integrations=[StdlibIntegration()], default_integrations=False
    )
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, default_integrations=False)
    with urllib.request.urlopen(f"{server}/quiet") as response:
        response.read()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert [] == _crumbs(transport)


# -- subprocess ---------------------------------------------------------------------------------


def test_a_started_subprocess_leaves_a_breadcrumb_with_its_command_and_pid(
    transport: CapturingTransport,
) -> None:
    """Popen records the command line and the pid of the process it started."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    assert [
        {
            "type": "subprocess",
            "category": "subprocess",
            "level": "info",
            "message": f"{sys.executable} -c pass",
            "data": {"pid": process.pid},
        }
    ] == _crumbs(transport)


def test_subprocess_run_and_shell_commands_are_recorded(transport: CapturingTransport) -> None:
    """subprocess.run goes through Popen; a shell command is recorded as written."""
    subprocess.run([sys.executable, "-c", "print('a b')"], check=True, capture_output=True)
    subprocess.run("exit 0", shell=True, check=True)
    assert [f"{sys.executable} -c 'print('\"'\"'a b'\"'\"')'", "exit 0"] == [
        c["message"] for c in _crumbs(transport)
    ]


def test_secrets_in_arguments_and_environment_are_not_recorded(transport: CapturingTransport) -> None:
    """--flag value and --flag=value with a secret-looking name are [Filtered]; env is never sent."""
    env = {**os.environ, "API_SECRET": "envsecret"}
    args = [sys.executable, "-c", "pass", "--password", "hunter2", "--api-token=tok-qwv", "--verbose"]
    subprocess.run(args, env=env, check=True)
    subprocess.run("exit 0 --token tok-qwv --db-password='x y' -v", shell=True, env=env, check=True)
    assert [
        f"{sys.executable} -c pass --password [Filtered] --api-token=[Filtered] --verbose",
        "exit 0 --token [Filtered] --db-password=[Filtered] -v",
    ] == [c["message"] for c in _crumbs(transport)]
    sent = json.dumps(transport.events[-1])
    assert "hunter2" not in sent and "tok-qwv" not in sent and "envsecret" not in sent


def test_processes_the_sdk_starts_itself_are_not_recorded(transport: CapturingTransport) -> None:
    """The git call a second init makes to guess the release is not a breadcrumb of the program's."""
    sentry_sdk.init(transport=transport, integrations=[StdlibIntegration()], default_integrations=False)
    assert [] == _crumbs(transport)


def test_a_command_that_cannot_start_leaves_an_error_breadcrumb(transport: CapturingTransport) -> None:
    """A program that does not exist still raises, and leaves an error breadcrumb without pid."""
    with pytest.raises(FileNotFoundError):
        subprocess.Popen(["/nonexistent/program", "--flag"])
    assert [
        {
            "type": "subprocess",
            "category": "subprocess",
            "level": "error",
            "message": "/nonexistent/program --flag",
        }
    ] == _crumbs(transport)


def test_a_long_command_line_is_truncated(transport: CapturingTransport) -> None:
    """Very long command lines are cut to 1000 characters, ending in '...'."""
    subprocess.run([sys.executable, "-c", "pass", "x" * 5000], check=True)
    (crumb,) = _crumbs(transport)
    assert 1000 == len(crumb["message"])
    assert crumb["message"].startswith(f"{sys.executable} -c pass xxx") and crumb["message"].endswith("...")


# -- set-up -------------------------------------------------------------------------------------


def test_init_imports_neither_module_and_patches_them_once_imported(
    run_script: Callable[[str], Any],
) -> None:
    """init does not pay for importing http.client or subprocess; importing them later still works."""
    result = run_script(
        "import json, sys\n"
        "import sentry_sdk\n"
        "from sentry_sdk.integrations.stdlib import StdlibIntegration\n"
        "events = []\n"
        "sentry_sdk.init(transport=events.append, integrations=[StdlibIntegration()],\n"
        "                default_integrations=False, release='1')\n"
        "print(json.dumps(['http.client' in sys.modules, 'subprocess' in sys.modules]))\n"
        "import http.client, sqlite3, subprocess\n"
        "loaders = [http.client.__loader__, http.client.__spec__.loader]\n"
        "ours = [f for f in sys.meta_path if 'sentry' in type(f).__module__]\n"
        "print(json.dumps([[type(loader).__name__ for loader in loaders], ours]))\n"
        "subprocess.run([sys.executable, '-c', 'pass'], check=True)\n"
        "conn = http.client.HTTPConnection('127.0.0.1', 9)\n"
        "try:\n"
        "    conn.request('GET', '/')\n"
        "except OSError:\n"
        "    pass\n"
        "sentry_sdk.capture_message('x')\n"
        "print(json.dumps([c['category'] for c in events[0]['breadcrumbs']['values']]))\n"
    )
    assert 0 == result.returncode, result.stderr
    imported, loaders, categories = [json.loads(line) for line in result.stdout.splitlines()]
    assert [False, False] == imported
    assert [["SourceFileLoader", "SourceFileLoader"], []] == loaders
    assert ["subprocess", "httplib"] == categories
