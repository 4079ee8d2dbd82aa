"""Per-request cost of the web integrations: this package against the real sentry-sdk, same script.

    python benchmarks/web_bench.py                     # creates benchmarks/.venv-sentry-sdk if needed
    python benchmarks/web_bench.py --against VENV      # a virtualenv with sentry-sdk and the frameworks
    python benchmarks/web_bench.py --rounds 5 --markdown
    python benchmarks/web_bench.py --apps flask,django # a subset of wsgi, flask, django, starlette, fastapi
    python benchmarks/web_bench.py --clock cpu         # the calling thread's CPU time, on a loaded machine
    python benchmarks/web_bench.py --instructions      # machine instructions per request, under valgrind
    python benchmarks/web_bench.py --traces-sample-rate 1.0  # every request a transaction, sent

Five applications are called in-process, without sockets, so that the SDK's cost is not hidden
behind the network: a bare WSGI application in ``SentryWsgiMiddleware``, a Flask view, a Django view
(``settings.configure``, one middleware), a Starlette endpoint and a FastAPI endpoint. WSGI
applications get a fresh copy of a prebuilt environ (and a fresh ``wsgi.input``) per call and a
no-op ``start_response``; their response is consumed and closed. ASGI applications get a scope and
async ``receive``/``send``, called in a loop inside one ``asyncio.run``.

Each (application, package, SDK on or off) runs in a fresh interpreter: "floor" processes never
import sentry_sdk; "SDK" processes call ``sentry_sdk.init(dsn=...)`` with default options (tracing
off, the framework's integration auto-enabled) and send events to a loopback sink in this process.
Each process times a view that succeeds and one that raises (the 500 the framework makes of it,
or for bare WSGI the exception that propagates, caught by the caller), as the median of several
timing batches, and counts the Python function calls per request with ``sys.setprofile`` (calling
thread only; the SDK's background sending is not counted). Overhead is the SDK process's median
minus the floor's. The driver alternates the two packages and prints medians and ratios
ours/theirs. Shared machines are noisy: compare ratios from one run, not times across runs; the
call counts do not depend on the machine's load.

``--instructions`` measures what neither clock can on a shared machine: the machine instructions
the calling thread executes per request, counted by valgrind's callgrind (``valgrind`` must be on
PATH; about 20 minutes for all apps). Each (application, package, SDK on or off, view) runs twice
in fresh interpreters, with the same start-up and a different number of requests; the difference
of the main thread's instruction counts divided by the difference of the requests is the cost of
one request, start-up and the SDK's background thread excluded. The counts repeat within a few
per mille from run to run, whatever the load; Python calls are weighted by what they do, unlike
the call counts.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple

from _callgrind import main_thread_instructions  # this directory's: the scripts run from it

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VENV = Path(__file__).resolve().parent / ".venv-sentry-sdk"
APPS = ("wsgi", "flask", "django", "starlette", "fastapi")
FRAMEWORKS = {"flask": "flask", "django": "django", "starlette": "starlette", "fastapi": "fastapi"}
THEIR_PACKAGES = (
    "sentry-sdk==2.75.0",
    "flask",
    "django",
    "starlette",
    "fastapi",
    "httpx",
    "python-multipart",
)


class Plan(NamedTuple):
    """How one view is measured: warm-up, timing batches of about ``batch_s``, then profiling."""

    warm: int  # requests before timing: caches, lazy imports, the SDK's first send
    batch_s: float  # each timing batch runs about this long ...
    batches: int  # ... and the result is the median of this many
    minimum: int  # requests per batch, at least ...
    cap: int  # ... and at most
    profiled: int  # requests counted under sys.setprofile, in chunks of ...
    chunk: int


OK_PLAN = Plan(warm=50, batch_s=0.04, batches=9, minimum=10, cap=10**6, profiled=200, chunk=50)
# Failing requests: the SDK's queue is flushed before each batch and chunk, so that each starts with
# the same (empty) backlog, and at most 100 per batch, so that sentry-sdk's 100-event queue does not
# drop. Calls are deterministic, so fewer suffice (sentry-sdk's ASGI failures take 15-40 ms each).
ERROR_PLAN = Plan(warm=10, batch_s=0.05, batches=7, minimum=5, cap=100, profiled=50, chunk=25)
CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}
_clock = time.perf_counter

# ---------------------------------------------------------------------------------------------
# The worker: one application, one package, SDK on or off, in a fresh interpreter.
# ---------------------------------------------------------------------------------------------


class _NullStream:
    """``wsgi.errors``: Flask writes its "Exception on ..." log line there; it goes nowhere."""

    def write(self, text: str) -> int:
        return len(text)

    def writelines(self, lines: Any) -> None:
        pass

    def flush(self) -> None:
        pass


def _environ(path: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "page=2&sort=name",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "localhost",
        "HTTP_USER_AGENT": "web-bench/1.0",
        "HTTP_ACCEPT": "text/html,application/json",
        "HTTP_ACCEPT_ENCODING": "gzip, deflate",
        "HTTP_COOKIE": "session=abc123; theme=dark",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": _NullStream(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def _scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"page=2&sort=name",
        "root_path": "",
        "headers": [
            (b"host", b"localhost"),
            (b"user-agent", b"web-bench/1.0"),
            (b"accept", b"text/html,application/json"),
            (b"accept-encoding", b"gzip, deflate"),
            (b"cookie", b"session=abc123; theme=dark"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
    }


def _wsgi_app(sdk: bool) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/error":
            raise ValueError("the view failed")
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    if not sdk:
        return app
    from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware

    return SentryWsgiMiddleware(app)


def _flask_app(sdk: bool) -> Any:
    from flask import Flask

    app = Flask("web_bench")

    @app.route("/")
    def ok() -> str:
        return "ok"

    @app.route("/error")
    def error() -> str:
        raise ValueError("the view failed")

    return app


def _django_app(sdk: bool) -> Any:
    import types

    import django  # type: ignore[import-untyped]
    from django.conf import settings  # type: ignore[import-untyped]

    settings.configure(
        DEBUG=False,
        SECRET_KEY="web-bench-not-secret",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF="web_bench_urls",
        MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
        INSTALLED_APPS=[],
        DATABASES={},
        USE_TZ=True,
    )
    django.setup()
    from django.core.wsgi import get_wsgi_application  # type: ignore[import-untyped]
    from django.http import HttpResponse  # type: ignore[import-untyped]
    from django.urls import path  # type: ignore[import-untyped]

    def ok(request: Any) -> Any:
        return HttpResponse(b"ok", content_type="text/plain")

    def error(request: Any) -> Any:
        raise ValueError("the view failed")

    urls = types.ModuleType("web_bench_urls")
    urls.urlpatterns = [path("", ok), path("error", error)]  # type: ignore[attr-defined]
    sys.modules["web_bench_urls"] = urls
    return get_wsgi_application()


def _starlette_app(sdk: bool) -> Any:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def ok(request: Any) -> Any:
        return PlainTextResponse("ok")

    async def error(request: Any) -> Any:
        raise ValueError("the view failed")

    return Starlette(routes=[Route("/", ok), Route("/error", error)])


def _fastapi_app(sdk: bool) -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/")
    async def ok() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/error")
    async def error() -> dict[str, str]:
        raise ValueError("the view failed")

    return app


_BUILDERS = {
    "wsgi": _wsgi_app,
    "flask": _flask_app,
    "django": _django_app,
    "starlette": _starlette_app,
    "fastapi": _fastapi_app,
}


def _wsgi_caller(app: Any, path: str) -> Any:
    base = _environ(path)
    from io import BytesIO

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        return None

    def call() -> None:
        environ = base.copy()
        environ["wsgi.input"] = BytesIO(b"")
        try:
            body = app(environ, start_response)
        except ValueError:
            return  # bare WSGI: the view's exception reaches the server
        try:
            for _ in body:
                pass
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return call


def _wsgi_status(app: Any, path: str) -> str:
    """The status the application answers ``path`` with, or the exception that escaped it."""
    from io import BytesIO

    seen: list[str] = []
    environ = _environ(path)
    environ["wsgi.input"] = BytesIO(b"")
    try:
        body = app(environ, lambda status, headers, exc_info=None: seen.append(status))
        b"".join(body)
        getattr(body, "close", lambda: None)()
    except Exception as exc:
        return f"raised {type(exc).__name__}"
    return seen[0].split()[0]


def _asgi_caller(app: Any, path: str, statuses: list[int] | None = None) -> Any:
    base = _scope(path)

    async def send(message: dict[str, Any]) -> None:
        if statuses is not None and message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def call() -> None:
        received = False

        async def receive() -> dict[str, Any]:
            nonlocal received
            if received:
                return {"type": "http.disconnect"}
            received = True
            return {"type": "http.request", "body": b"", "more_body": False}

        try:
            await app(base.copy(), receive, send)
        except ValueError:
            pass  # Starlette sends the 500, then re-raises for the server to log

    return call


def _batch_us(call: Any, number: int) -> float:
    start = _clock()
    for _ in range(number):
        call()
    return (_clock() - start) / number * 1e6


async def _abatch_us(call: Any, number: int) -> float:
    start = _clock()
    for _ in range(number):
        await call()
    return (_clock() - start) / number * 1e6


def _size(plan: Plan, estimate_us: float) -> int:
    return max(plan.minimum, min(plan.cap, int(plan.batch_s * 1e6 / max(estimate_us, 0.1))))


class _Counter:
    """A ``sys.setprofile`` hook that counts Python function calls (and generator resumptions)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            self.calls += 1


def _result(plan: Plan, times: list[float], number: int, counter: _Counter) -> dict[str, float]:
    return {
        "us": statistics.median(times),
        "calls": counter.calls / plan.profiled,
        "requests": plan.warm + plan.minimum + plan.batches * number + plan.profiled,
    }


def _measure_sync(call: Any, between: Any, plan: Plan) -> dict[str, float]:
    """Per-request median time and Python calls of ``call``; ``between`` runs outside the clock."""
    for _ in range(plan.warm):
        call()
    between()
    number = _size(plan, _batch_us(call, plan.minimum))
    times = []
    for _ in range(plan.batches):
        between()
        times.append(_batch_us(call, number))
    counter = _Counter()
    for _ in range(plan.profiled // plan.chunk):
        between()
        sys.setprofile(counter)
        for _ in range(plan.chunk):
            call()
        sys.setprofile(None)
    return _result(plan, times, number, counter)


async def _measure_async(call: Any, between: Any, plan: Plan) -> dict[str, float]:
    """``_measure_sync`` for a coroutine function, inside the running event loop."""
    for _ in range(plan.warm):
        await call()
    between()
    number = _size(plan, await _abatch_us(call, plan.minimum))
    times = []
    for _ in range(plan.batches):
        between()
        times.append(await _abatch_us(call, number))
    counter = _Counter()
    for _ in range(plan.profiled // plan.chunk):
        between()
        sys.setprofile(counter)
        for _ in range(plan.chunk):
            await call()
        sys.setprofile(None)
    return _result(plan, times, number, counter)


_CLASSES = {
    "flask": "FlaskIntegration",
    "django": "DjangoIntegration",
    "starlette": "StarletteIntegration",
    "fastapi": "FastApiIntegration",
}


# ``--traces-sample-rate R`` reaches the workers through the environment (both packages' workers).
_RATE_VARIABLE = "WEB_BENCH_TRACES_SAMPLE_RATE"
_label = "tracing off"  # what the SDK rows measure, for the table's headers


def _tracing_options() -> dict[str, Any]:
    rate = os.environ.get(_RATE_VARIABLE)
    return {"traces_sample_rate": float(rate)} if rate else {}


def _init(sentry_sdk: Any, dsn: str, framework: str | None) -> str:
    """``init(dsn=...)`` with default options; returns "" or what had to be done instead.

    While an integration of ours is being written its module may not load, and then a plain init
    raises. The row is still measured, without auto-enabling (only the app's own integration, if
    that one loads), and the note says so.
    """
    try:
        sentry_sdk.init(dsn=dsn, **_tracing_options())
        return ""
    except Exception as exc:
        failure = f"init(dsn=...) raised {type(exc).__name__}: {exc}"
    if framework:
        try:
            module = __import__(f"sentry_sdk.integrations.{framework}", fromlist=["_"])
            integration = getattr(module, _CLASSES[framework])()
            sentry_sdk.init(
                dsn=dsn, auto_enabling_integrations=False, integrations=[integration], **_tracing_options()
            )
            return f"{failure}; measured with auto_enabling_integrations=False and {_CLASSES[framework]}"
        except Exception as exc:
            failure += f"; {_CLASSES[framework]} alone: {type(exc).__name__}: {exc}"
    sentry_sdk.init(dsn=dsn, auto_enabling_integrations=False, **_tracing_options())
    return f"{failure}; measured with auto_enabling_integrations=False"


def _setup(app_name: str, dsn: str) -> tuple[Any, Any, dict[str, Any]]:
    """The application of ``app_name``, with the SDK when ``dsn`` is not "-": app, flush, facts."""
    import warnings

    warnings.simplefilter("ignore")  # deprecation warnings of either package are not our subject
    sdk = dsn != "-"
    framework = FRAMEWORKS.get(app_name)
    if framework:
        __import__(framework)  # as an application's module-level imports do, before init
    result: dict[str, Any] = {"versions": {}}
    if sdk:
        import sentry_sdk

        result["init"] = _init(sentry_sdk, dsn, framework)
        flush: Any = lambda: sentry_sdk.flush(timeout=30)  # noqa: E731
    else:
        flush = lambda: None  # noqa: E731
    app = _BUILDERS[app_name](sdk)
    if framework:
        result["versions"][framework] = sys.modules[framework].__version__
    if sdk:
        result["versions"]["sentry_sdk"] = sentry_sdk.VERSION
        result["integrations"] = sorted(sentry_sdk.get_client().integrations)
    return app, flush, result


def worker(app_name: str, dsn: str, clock: str = "wall") -> dict[str, Any]:
    """Measure one application in this process, with the SDK when ``dsn`` is not "-"."""
    global _clock
    _clock = CLOCKS[clock]

    sdk = dsn != "-"
    app, flush, result = _setup(app_name, dsn)

    if app_name in ("starlette", "fastapi"):
        import asyncio

        async def run() -> dict[str, Any]:
            statuses: list[int] = []
            for path in ("/", "/error"):
                await _asgi_caller(app, path, statuses)()
            out: dict[str, Any] = {"status": [str(s) for s in statuses]}
            flush()
            _events(dsn)  # the status check's failure: the sink's count starts again from zero
            out["ok"] = await _measure_async(_asgi_caller(app, "/"), lambda: None, OK_PLAN)
            flush()
            out["ok_events"] = _events(dsn)
            out["error"] = await _measure_async(_asgi_caller(app, "/error"), flush, ERROR_PLAN)
            return out

        result.update(asyncio.run(run()))
    else:
        result["status"] = [_wsgi_status(app, "/"), _wsgi_status(app, "/error")]
        flush()
        _events(dsn)  # the status check's failure: the sink's count starts again from zero
        result["ok"] = _measure_sync(_wsgi_caller(app, "/"), lambda: None, OK_PLAN)
        flush()
        result["ok_events"] = _events(dsn)
        result["error"] = _measure_sync(_wsgi_caller(app, "/error"), flush, ERROR_PLAN)
    flush()
    if sdk:
        result["error_events_per_request"] = _events(dsn) / result["error"]["requests"]
    elif "sentry_sdk" in sys.modules:
        raise RuntimeError("a floor process imported sentry_sdk")
    return result


def _events(dsn: str) -> float:
    """How many events the sink received for this DSN's key since the last call (and resets it)."""
    if dsn == "-":
        return 0.0
    import urllib.request

    key = dsn.split("://", 1)[1].split("@", 1)[0]
    base = dsn.split("@", 1)[1].rsplit("/", 1)[0]
    with urllib.request.urlopen(f"http://{base}/count/{key}", timeout=10) as response:
        return float(json.loads(response.read()).get("event", 0))


def counted(app_name: str, dsn: str, path: str, number: int) -> None:
    """Set up as ``worker`` does, warm up, then request ``path`` ``number`` times (under valgrind).

    Failing requests flush the SDK's queue every 25, as the timed batches do.
    """
    app, flush, _ = _setup(app_name, dsn)
    every = 25 if path == "/error" else number + 1
    if app_name in ("starlette", "fastapi"):
        import asyncio

        async def run() -> None:
            call = _asgi_caller(app, path)
            for _ in range(20):
                await call()
            flush()
            for n in range(number):
                await call()
                if n % every == every - 1:
                    flush()

        asyncio.run(run())
    else:
        call = _wsgi_caller(app, path)
        for _ in range(20):
            call()
        flush()
        for n in range(number):
            call()
            if n % every == every - 1:
                flush()
    flush()


# ---------------------------------------------------------------------------------------------
# The driver: sink, virtualenv, alternating rounds, table.
# ---------------------------------------------------------------------------------------------


def _item_types(envelope: bytes) -> list[str]:
    """The item types in an envelope (header line, then item header + payload pairs)."""
    types = []
    position = envelope.find(b"\n") + 1
    while 0 < position < len(envelope):
        end = envelope.find(b"\n", position)
        end = len(envelope) if end < 0 else end
        header = envelope[position:end].strip()
        if not header:
            position = end + 1
            continue
        item = json.loads(header)
        types.append(str(item.get("type")))
        if "length" in item:
            position = end + 1 + int(item["length"]) + 1
        else:
            payload_end = envelope.find(b"\n", end + 1)
            position = len(envelope) if payload_end < 0 else payload_end + 1
    return types


class _Sink:
    """A loopback ingest endpoint: answers 200 and counts envelope items by key and item type.

    Counting items, not requests: both SDKs also send client reports (events dropped by Dedupe,
    the framework's error log line of a failure already sent) and session updates.
    """

    def __init__(self) -> None:
        counts: dict[str, dict[str, int]] = {}
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                # Headers and body in one packet: no 40 ms delayed-ACK stall per request.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = self.headers.get("Content-Encoding", "")
                try:
                    if encoding == "gzip":
                        body = gzip.decompress(body)
                    elif encoding == "deflate":
                        body = zlib.decompress(body)
                    elif encoding == "br":
                        import brotli  # type: ignore[import-not-found]

                        body = brotli.decompress(body)
                    types = _item_types(body)
                except Exception:
                    types = ["unreadable"]
                auth = self.headers.get("X-Sentry-Auth", "")
                key = auth.split("sentry_key=", 1)[1].split(",", 1)[0] if "sentry_key=" in auth else ""
                with lock:
                    mine = counts.setdefault(key, {})
                    for kind in types:
                        mine[kind] = mine.get(kind, 0) + 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def do_GET(self) -> None:
                key = self.path.rsplit("/", 1)[1]
                with lock:
                    body = json.dumps(counts.pop(key, {})).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def dsn(self, key: str) -> str:
        return f"http://{key}@127.0.0.1:{self.server.server_address[1]}/1"


def _version(python: str, env: dict[str, str], cwd: str) -> str:
    code = "import sentry_sdk; print(sentry_sdk.VERSION, sentry_sdk.__file__)"
    return subprocess.run(
        [python, "-c", code], env=env, cwd=cwd, capture_output=True, text=True
    ).stdout.strip()


def _ensure_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} with the real sentry-sdk and the frameworks ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *THEIR_PACKAGES], check=True)
        return python
    check = "import importlib.util as u, sys; print(' '.join(m for m in sys.argv[1:] if not u.find_spec(m)))"
    modules = {"sentry_sdk": "sentry-sdk==2.75.0", **{m: m for m in FRAMEWORKS.values()}}
    missing = subprocess.run(
        [str(python), "-c", check, *modules], capture_output=True, text=True, check=True
    ).stdout.split()
    if missing:
        print(f"installing {missing} into {venv} ...", file=sys.stderr)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *(modules[m] for m in missing)], check=True
        )
    return python


def _run_worker(python: str, env: dict[str, str], cwd: str, app: str, dsn: str, clock: str) -> dict[str, Any]:
    out = subprocess.run(
        [python, str(Path(__file__).resolve()), "--worker", app, dsn, clock],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if out.returncode:
        return {
            "failed": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"
        }
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _median(runs: list[dict[str, Any]], path: str, field: str) -> float:
    values = [run[path][field] for run in runs if path in run]
    return statistics.median(values) if values else float("nan")


def _ratio(a: float, b: float) -> float:
    return a / b if b and b == b and a == a else float("nan")


def _summarize(samples: dict[tuple[str, str, str], list[dict[str, Any]]], app: str) -> dict[str, float]:
    row: dict[str, float] = {}
    for side in ("ours", "theirs"):
        floor, sdk = samples[(app, side, "floor")], samples[(app, side, "sdk")]
        for path in ("ok", "error"):
            row[f"{side} {path} floor us"] = _median(floor, path, "us")
            row[f"{side} {path} floor calls"] = _median(floor, path, "calls")
            row[f"{side} {path} us"] = _median(sdk, path, "us") - row[f"{side} {path} floor us"]
            row[f"{side} {path} calls"] = _median(sdk, path, "calls") - row[f"{side} {path} floor calls"]
    for path in ("ok", "error"):
        row[f"{path} ratio"] = _ratio(row[f"ours {path} us"], row[f"theirs {path} us"])
    return row


def _cell(us: float, calls: float, sign: str = "+") -> str:
    if us != us:
        return "failed"
    return f"{us:.1f} ({sign}{calls:.0f})" if sign else f"{us:.1f} ({calls:.0f})"


def _table(rows: dict[str, dict[str, float]], markdown: bool) -> list[str]:
    header = [
        "app",
        "floor µs (calls) ours / theirs",
        f"ours, {_label}: overhead µs (+calls)",
        f"sentry-sdk, {_label}: overhead µs (+calls)",
        "ours / theirs",
        "error floor µs (calls)",
        "error path ours: overhead µs (+calls)",
        "error path sentry-sdk: overhead µs (+calls)",
        "ours / theirs",
    ]
    lines = []
    body = []
    for app, r in rows.items():
        body.append(
            [
                app,
                f"{r['ours ok floor us']:.1f} / {r['theirs ok floor us']:.1f}"
                f" ({r['ours ok floor calls']:.0f})",
                _cell(r["ours ok us"], r["ours ok calls"]),
                _cell(r["theirs ok us"], r["theirs ok calls"]),
                f"{r['ok ratio']:.2f}",
                _cell(r["ours error floor us"], r["ours error floor calls"], ""),
                _cell(r["ours error us"], r["ours error calls"]),
                _cell(r["theirs error us"], r["theirs error calls"]),
                f"{r['error ratio']:.2f}",
            ]
        )
    if markdown:
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|---|" + "---:|" * (len(header) - 1))
        lines.extend("| " + " | ".join(cells) + " |" for cells in body)
    else:
        widths = [max(len(h), *(len(c[i]) for c in body)) for i, h in enumerate(header)]
        lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)))
        lines.extend("  ".join(c.rjust(w) for c, w in zip(cells, widths)) for cells in body)
    return lines


def _notes(samples: dict[tuple[str, str, str], list[dict[str, Any]]], apps: list[str]) -> list[str]:
    notes = []
    for app in apps:
        expected = FRAMEWORKS.get(app)
        versions = {
            side: {
                json.dumps(r["versions"].get(expected))
                for r in samples[(app, side, "floor")]
                if "versions" in r
            }
            for side in ("ours", "theirs")
        }
        if expected and versions["ours"] != versions["theirs"]:
            notes.append(
                f"{app}: different {expected} versions, ours {versions['ours']}, theirs {versions['theirs']}"
            )
        for side, label in (("ours", "ours"), ("theirs", "sentry-sdk")):
            for mode in ("floor", "sdk"):
                for run in samples[(app, side, mode)]:
                    if "failed" in run:
                        notes.append(f"{app}, {label}, {mode}: worker failed: {run['failed']}")
            runs = [r for r in samples[(app, side, "sdk")] if "failed" not in r]
            if not runs:
                continue
            enabled = runs[0]["integrations"]
            for init_note in sorted({r["init"] for r in runs if r["init"]}):
                notes.append(f"{app}, {label}: {init_note}")
            if expected and expected not in enabled:
                notes.append(f"{app}, {label}: the {expected} integration was NOT enabled")
            statuses = {tuple(r["status"]) for r in runs}
            floors = {tuple(r["status"]) for r in samples[(app, side, "floor")] if "failed" not in r}
            if statuses != floors:
                notes.append(f"{app}, {label}: responses differ with the SDK: {statuses} vs {floors}")
            per_error = statistics.median(r["error_events_per_request"] for r in runs)
            ok_events = max(r["ok_events"] for r in runs)
            notes.append(
                f"{app}, {label}: integrations {', '.join(enabled)}; "
                f"responses {'/'.join(runs[0]['status'])}; "
                f"events per failing request {per_error:.2f}; events from succeeding requests {ok_events:.0f}"
            )
    return notes


# Requests per run of the instruction counts: the difference of the two is what is divided by.
_COUNTS = {"/": (100, 600), "/error": (20, 120)}


def _main_thread_instructions(python: str, env: dict[str, str], cwd: str, args: list[str]) -> float:
    """Instructions the main thread of ``python this-file --counted ARGS`` executes, by callgrind."""
    return main_thread_instructions([python, str(Path(__file__).resolve()), "--counted", *args], env, cwd)


def _instructions(
    apps: list[str], sides: dict[str, tuple[str, dict[str, str]]], sink: _Sink, cwd: str
) -> dict[str, dict[str, float]]:
    """Per-request instructions for every (app, side, mode, view), two valgrind runs each."""
    from concurrent.futures import ThreadPoolExecutor

    jobs: dict[tuple[str, str, str, str, int], Any] = {}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for app in apps:
            for side, (python, env) in sides.items():
                for mode in ("floor", "sdk"):
                    dsn = sink.dsn(f"{app}{side}count") if mode == "sdk" else "-"
                    for path, numbers in _COUNTS.items():
                        for number in numbers:
                            args = [app, dsn, path, str(number)]
                            jobs[(app, side, mode, path, number)] = pool.submit(
                                _main_thread_instructions, python, env, cwd, args
                            )
        results: dict[tuple[str, str, str, str], float] = {}
        for (app, side, mode, path, number), job in jobs.items():
            low, high = _COUNTS[path]
            if number != high:
                continue
            try:
                per_request = (job.result() - jobs[(app, side, mode, path, low)].result()) / (high - low)
            except Exception as exc:
                print(f"{app}, {side}, {mode}, {path}: {exc}", file=sys.stderr)
                per_request = float("nan")
            results[(app, side, mode, path)] = per_request
    rows: dict[str, dict[str, float]] = {}
    for app in apps:
        row: dict[str, float] = {}
        for side in sides:
            for path, label in (("/", "ok"), ("/error", "error")):
                floor = results[(app, side, "floor", path)]
                row[f"{side} {label} floor"] = floor
                row[f"{side} {label}"] = results[(app, side, "sdk", path)] - floor
        for label in ("ok", "error"):
            row[f"{label} ratio"] = _ratio(row[f"ours {label}"], row[f"theirs {label}"])
        rows[app] = row
    return rows


def _instruction_table(rows: dict[str, dict[str, float]], markdown: bool) -> list[str]:
    header = [
        "app",
        "floor k instructions ours / theirs",
        f"ours, {_label}: + k instructions",
        f"sentry-sdk, {_label}: + k instructions",
        "ours / theirs",
        "error floor k instructions",
        "error path ours: + k instructions",
        "error path sentry-sdk: + k instructions",
        "ours / theirs",
    ]
    body = [
        [
            app,
            f"{r['ours ok floor'] / 1e3:.1f} / {r['theirs ok floor'] / 1e3:.1f}",
            f"{r['ours ok'] / 1e3:.1f}",
            f"{r['theirs ok'] / 1e3:.1f}",
            f"{r['ok ratio']:.3f}",
            f"{r['ours error floor'] / 1e3:.1f}",
            f"{r['ours error'] / 1e3:.1f}",
            f"{r['theirs error'] / 1e3:.1f}",
            f"{r['error ratio']:.3f}",
        ]
        for app, r in rows.items()
    ]
    if markdown:
        return [
            "| " + " | ".join(header) + " |",
            "|---|" + "---:|" * (len(header) - 1),
            *("| " + " | ".join(cells) + " |" for cells in body),
        ]
    widths = [max(len(h), *(len(c[i]) for c in body)) for i, h in enumerate(header)]
    return [
        "  ".join(h.ljust(w) for h, w in zip(header, widths)),
        *("  ".join(c.rjust(w) for c, w in zip(cells, widths)) for cells in body),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--against", type=Path, default=DEFAULT_VENV, help="virtualenv with sentry-sdk")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--apps", default=",".join(APPS), help=f"comma-separated subset of {','.join(APPS)}")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall: time.perf_counter (default); cpu: the calling thread's CPU time, which a"
        " loaded machine's other processes do not inflate (but GIL waits are not counted either)",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count the calling thread's machine instructions per request under valgrind, instead"
        " of timing (deterministic on a loaded machine; needs valgrind)",
    )
    parser.add_argument(
        "--traces-sample-rate",
        type=float,
        default=None,
        help="init both SDKs with this traces_sample_rate (default: tracing off); each request is"
        " then a transaction, sent (1.0) or sampled out (0.0)",
    )
    parser.add_argument("--worker", nargs=3, metavar=("APP", "DSN", "CLOCK"), help=argparse.SUPPRESS)
    parser.add_argument("--counted", nargs=4, metavar=("APP", "DSN", "PATH", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return 0
    if args.counted:
        app_name, dsn, path, number = args.counted
        counted(app_name, dsn, path, int(number))
        return 0

    apps = [a for a in args.apps.split(",") if a]
    unknown = set(apps) - set(APPS)
    if unknown:
        parser.error(f"unknown apps {sorted(unknown)}; choose from {', '.join(APPS)}")
    theirs_python = str(_ensure_venv(args.against))
    # An installed package has its bytecode compiled (pip does it); a checkout may not, and
    # compiling at every import would be measured as ours. Compile it once, as pip would.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "sentry_sdk")], check=True)
    cwd = tempfile.mkdtemp()  # never the repository, so only PYTHONPATH decides which package loads
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "PYTHONPATH"))}
    base_env.pop(_RATE_VARIABLE, None)
    if args.traces_sample_rate is not None:
        global _label
        base_env[_RATE_VARIABLE] = repr(args.traces_sample_rate)
        _label = f"traces_sample_rate={args.traces_sample_rate}"
    # Both packages run in the same interpreter and site-packages (the same frameworks, and the same
    # ``modules`` list on every event), ours first on PYTHONPATH.
    sides = {
        "ours": (theirs_python, {**base_env, "PYTHONPATH": str(ROOT)}),
        "theirs": (theirs_python, base_env),
    }
    print(f"ours:   {_version(*sides['ours'], cwd)}", file=sys.stderr)
    print(f"theirs: {_version(*sides['theirs'], cwd)}", file=sys.stderr)

    sink = _Sink()
    if args.instructions:
        if shutil.which("valgrind") is None:
            parser.error("--instructions needs valgrind on PATH")
        started = time.perf_counter()
        counts = _instructions(apps, sides, sink, cwd)
        print(
            f"Run on {time.strftime('%Y-%m-%d')}, {platform.machine()}, Python {platform.python_version()}, "
            f"instructions of the calling thread per request (callgrind), "
            f"{time.perf_counter() - started:.0f} s.\n"
        )
        print("\n".join(_instruction_table(counts, args.markdown)))
        return 0
    samples: dict[tuple[str, str, str], list[dict[str, Any]]] = {
        (app, side, mode): [] for app in apps for side in sides for mode in ("floor", "sdk")
    }
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    for round_no in range(args.rounds):
        for app in apps:
            order = [("ours", "floor"), ("theirs", "floor"), ("ours", "sdk"), ("theirs", "sdk")]
            if round_no % 2:
                order.reverse()
            for side, mode in order:
                print(f"round {round_no + 1}/{args.rounds}: {app}, {side}, {mode}", file=sys.stderr)
                dsn = sink.dsn(f"{app}{side}{round_no}") if mode == "sdk" else "-"
                python, env = sides[side]
                samples[(app, side, mode)].append(_run_worker(python, env, cwd, app, dsn, args.clock))
    elapsed = time.perf_counter() - started

    rows = {app: _summarize(samples, app) for app in apps}
    print(
        f"Run on {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {args.rounds} alternating rounds, {args.clock} clock, "
        f"{elapsed:.0f} s, load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after.\n"
    )
    print("\n".join(_table(rows, args.markdown)))
    print()
    bullet = "* " if args.markdown else ""
    print("\n".join(bullet + note for note in _notes(samples, apps)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
