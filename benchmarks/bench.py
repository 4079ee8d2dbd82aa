"""Side-by-side benchmark: this package against the real sentry-sdk, same script, same run.

    python benchmarks/bench.py                 # creates benchmarks/.venv-sentry-sdk if needed
    python benchmarks/bench.py --against VENV  # a virtualenv that has sentry-sdk installed
    python benchmarks/bench.py --rounds 5 --markdown
    python benchmarks/bench.py --instructions  # instructions per call, under valgrind (noise-free)

The measuring half of this file (``--worker``) uses only the public API, so the very same code runs
under both packages. The driving half alternates the two packages round by round, sends every event
to a loopback sink in this process, and prints the median of each metric and the ratio ours/theirs.
Shared machines are noisy: compare ratios from one run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VENV = Path(__file__).resolve().parent / ".venv-sentry-sdk"

# ---------------------------------------------------------------------------------------------
# The worker: runs in a fresh interpreter with one of the two packages importable.
# ---------------------------------------------------------------------------------------------


def _median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def _time_calls(fn: Any, number: int, repeat: int = 5, clock: Any = time.perf_counter) -> float:
    """Median over ``repeat`` batches of the per-call time of ``fn``, in microseconds.

    ``clock=time.thread_time``: the calling thread's CPU time, which neither the machine's other
    processes nor this process's sending thread (holding the GIL meanwhile) add to.
    """
    batches = []
    for _ in range(repeat):
        start = clock()
        for _ in range(number):
            fn()
        batches.append((clock() - start) / number)
    return _median_us(batches)


def _calls(fn: Any) -> float:
    """Python function calls made on this thread by one ``fn()`` (``sys.setprofile``): the same in
    every run, however loaded the machine is."""
    fn()  # warm: first-use work (imports, caches) is not the steady state
    count = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return float(count)


def _capture_one(sentry_sdk: Any) -> None:
    try:
        _recurse(1)
    except ValueError:
        sentry_sdk.capture_exception()


def _recurse(depth: int) -> None:
    local_a = depth * 2  # noqa: F841 - local variables for the SDK to collect
    local_b = {"depth": depth, "items": list(range(5))}  # noqa: F841
    if depth <= 1:
        raise ValueError(f"failed at the bottom, depth {depth}")
    _recurse(depth - 1)


def _capture_time(sentry_sdk: Any, depth: int, number: int) -> float:
    # One capture and a flush first, so the first send's lazy set-up (thread start, HTTP imports)
    # is not measured as part of capturing.
    try:
        _recurse(depth)
    except ValueError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=10)
    samples = []
    for _ in range(number):
        try:
            _recurse(depth)
        except ValueError:
            start = time.perf_counter()
            sentry_sdk.capture_exception()
            samples.append(time.perf_counter() - start)
    return _median_us(samples)


def worker(dsn: str, slow_dsn: str) -> dict[str, float]:
    """Measure everything in this process; returns metric -> value."""
    import logging
    import warnings

    warnings.simplefilter("ignore")  # deprecation warnings of the 2.x API are not our subject
    results: dict[str, float] = {}

    log = logging.getLogger("bench")
    log.setLevel(logging.INFO)
    log.addHandler(logging.NullHandler())
    log.propagate = False
    results["logging.info without SDK (us)"] = _time_calls(lambda: log.info("order %s placed", 42), 5000)

    start = time.perf_counter()
    import sentry_sdk

    results["import in a warm process (ms)"] = (time.perf_counter() - start) * 1e3

    start = time.perf_counter()
    sentry_sdk.init(dsn=dsn, transport_queue_size=100)
    results["init (ms)"] = (time.perf_counter() - start) * 1e3

    for depth in (1, 30):
        results[f"capture_exception, {depth} frames, locals on (us)"] = _capture_time(sentry_sdk, depth, 200)
        sentry_sdk.flush(timeout=10)
    results["capture_exception, 1 frame, locals on (calls)"] = _calls(lambda: _capture_one(sentry_sdk))
    sentry_sdk.flush(timeout=10)
    results["capture_exception, 1 frame, locals on, calling thread CPU (us)"] = _time_calls(
        lambda: _capture_one(sentry_sdk), 100, 5, time.thread_time
    )
    sentry_sdk.flush(timeout=10)

    def message() -> None:
        sentry_sdk.capture_message("hello")

    def crumb() -> None:
        sentry_sdk.add_breadcrumb(message="m", category="c")

    def tag() -> None:
        sentry_sdk.set_tag("k", "v")

    def push() -> None:
        with sentry_sdk.push_scope():
            pass

    def logged() -> None:
        log.info("order %s placed", 42)

    results["capture_message (us)"] = _time_calls(message, 100, 5)
    sentry_sdk.flush(timeout=10)
    results["capture_message, calling thread CPU (us)"] = _time_calls(message, 100, 5, time.thread_time)
    results["capture_message (calls)"] = _calls(message)
    sentry_sdk.flush(timeout=10)
    results["add_breadcrumb (us)"] = _time_calls(crumb, 5000)
    results["add_breadcrumb (calls)"] = _calls(crumb)
    results["set_tag (us)"] = _time_calls(tag, 5000)
    results["push_scope enter+exit (us)"] = _time_calls(push, 5000)
    results["push_scope enter+exit (calls)"] = _calls(push)
    with_sdk = _time_calls(logged, 5000)
    results["logging.info with SDK (us)"] = with_sdk
    results["logging.info overhead (us)"] = with_sdk - results["logging.info without SDK (us)"]
    results["logging.info with SDK (calls)"] = _calls(logged)

    sentry_sdk.init(dsn=dsn, include_local_variables=False)
    with sentry_sdk.configure_scope() as scope:
        scope.clear_breadcrumbs()  # the breadcrumb and logging runs above left 100 behind
    for depth in (1, 30):
        results[f"capture_exception, {depth} frames, locals off (us)"] = _capture_time(sentry_sdk, depth, 200)
        sentry_sdk.flush(timeout=10)

    # Tracing: a transaction with 10 child spans, sampled (sent) and not; spans and @trace calls.
    def transaction_with_spans() -> None:
        with sentry_sdk.start_transaction(name="bench", op="task"):
            for _ in range(10):
                with sentry_sdk.start_span(op="db", name="SELECT 1"):
                    pass

    for rate in (1.0, 0.0):
        sentry_sdk.init(dsn=dsn, traces_sample_rate=rate)
        label = "sampled, sent" if rate else "not sampled"
        results[f"transaction with 10 spans, {label} (us)"] = _time_calls(transaction_with_spans, 200)
        results[f"transaction with 10 spans, {label} (calls)"] = _calls(transaction_with_spans)
        sentry_sdk.flush(timeout=10)

    sentry_sdk.init(dsn=dsn, traces_sample_rate=1.0)

    @sentry_sdk.trace
    def traced() -> None:
        pass

    def in_transaction(step: Any) -> Any:
        def run() -> None:
            with sentry_sdk.start_transaction(name="bench", op="task"):
                for _ in range(100):
                    step()

        return run

    def span() -> None:
        with sentry_sdk.start_span(op="db", name="SELECT 1"):
            pass

    empty = _time_calls(in_transaction(lambda: None), 20)
    for name, step in (("start_span enter+exit", span), ("@trace call", traced)):
        results[f"{name} in a transaction (us)"] = (_time_calls(in_transaction(step), 20) - empty) / 100
        results[f"{name} in a transaction (calls)"] = (
            _calls(in_transaction(step)) - _calls(in_transaction(lambda: None))
        ) / 100
    sentry_sdk.flush(timeout=10)

    # Throughput: a burst of 2000 events to the fast sink, then flush.
    burst_dsn = dsn.replace("://", "://burst", 1)
    sentry_sdk.init(dsn=burst_dsn)
    start = time.perf_counter()
    for i in range(2000):
        sentry_sdk.capture_message(f"burst {i}")
    sentry_sdk.flush(timeout=60)
    elapsed = time.perf_counter() - start
    delivered = _sink_count(burst_dsn)
    results["burst of 2000: delivered"] = delivered
    results["burst of 2000: delivered per second"] = delivered / elapsed

    # flush() with 100 pending events.
    sentry_sdk.init(dsn=dsn, transport_queue_size=200)
    for i in range(100):
        sentry_sdk.capture_message(f"pending {i}")
    start = time.perf_counter()
    sentry_sdk.flush(timeout=60)
    results["flush with 100 pending (ms)"] = (time.perf_counter() - start) * 1e3

    # Peak memory while the sink is slow.
    import tracemalloc

    sentry_sdk.init(dsn=slow_dsn)
    tracemalloc.start()
    for _ in range(500):
        try:
            _recurse(10)
        except ValueError:
            sentry_sdk.capture_exception()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    results["peak memory, 500 errors to a slow sink (KiB)"] = peak / 1024
    sentry_sdk.flush(timeout=0.1)
    return results


def _sink_count(dsn: str) -> float:
    import urllib.request

    key = dsn.split("://", 1)[1].split("@", 1)[0]
    base = dsn.split("@", 1)[1].rsplit("/", 1)[0]
    with urllib.request.urlopen(f"http://{base}/count/{key}", timeout=10) as response:
        return float(response.read())


def floors() -> dict[str, float]:
    """What any SDK must pay at least: raising, walking the frames, encoding an event."""
    import traceback

    results: dict[str, float] = {}

    def raise_catch() -> None:
        try:
            _recurse(1)
        except ValueError:
            pass

    results["floor: raise + catch, 1 frame (us)"] = _time_calls(raise_catch, 2000)

    def walk() -> None:
        try:
            _recurse(30)
        except ValueError as exc:
            traceback.extract_tb(exc.__traceback__)

    results["floor: raise + walk 30 frames with source (us)"] = _time_calls(walk, 500)
    event = {
        "event_id": "a" * 32,
        "exception": {
            "values": [{"type": "ValueError", "value": "x", "stacktrace": {"frames": [{"lineno": 1}] * 5}}]
        },
        "breadcrumbs": {"values": [{"message": "m", "timestamp": 1.0}] * 10},
        "tags": {f"t{i}": "v" for i in range(5)},
    }
    results["floor: json.dumps of a typical event (us)"] = _time_calls(lambda: json.dumps(event), 2000)
    return results


def _counted_steps(dsn: str) -> dict[str, Any]:
    """Per metric of ``--instructions``: a function that sets the SDK up and returns one step."""
    import logging
    import warnings

    warnings.simplefilter("ignore")
    log = logging.getLogger("bench")
    log.setLevel(logging.INFO)
    log.addHandler(logging.NullHandler())
    log.propagate = False

    def logged() -> None:
        log.info("order %s placed", 42)

    def with_sdk(step: Any, **options: Any) -> Any:
        def setup() -> Any:
            import sentry_sdk

            sentry_sdk.init(dsn=dsn, **options)
            return step(sentry_sdk)

        return setup

    def in_transaction(sentry_sdk: Any, step: Any) -> Any:
        sentry_sdk.start_transaction(name="bench", op="task").__enter__()  # never finished
        return step

    def spans(sentry_sdk: Any) -> Any:
        def transaction() -> None:
            with sentry_sdk.start_transaction(name="bench", op="task"):
                for _ in range(10):
                    with sentry_sdk.start_span(op="db", name="SELECT 1"):
                        pass

        return transaction

    def span(sentry_sdk: Any) -> Any:
        def step() -> None:
            with sentry_sdk.start_span(op="db", name="SELECT 1"):
                pass

        return in_transaction(sentry_sdk, step)

    def traced(sentry_sdk: Any) -> Any:
        @sentry_sdk.trace
        def step() -> None:
            pass

        return in_transaction(sentry_sdk, step)

    def pushed(sentry_sdk: Any) -> Any:
        def step() -> None:
            with sentry_sdk.push_scope():
                pass

        return step

    return {
        "logging.info without SDK": lambda: logged,
        "logging.info with SDK": with_sdk(lambda sdk: logged),
        "capture_message": with_sdk(
            lambda sdk: lambda: sdk.capture_message("hello"), transport_queue_size=100
        ),
        "capture_exception, 1 frame, locals on": with_sdk(lambda sdk: lambda: _capture_one(sdk)),
        "add_breadcrumb": with_sdk(lambda sdk: lambda: sdk.add_breadcrumb(message="m", category="c")),
        "push_scope enter+exit": with_sdk(pushed),
        "transaction with 10 spans, sampled, sent": with_sdk(spans, traces_sample_rate=1.0),
        "transaction with 10 spans, not sampled": with_sdk(spans, traces_sample_rate=0.0),
        "start_span enter+exit in a transaction": with_sdk(span, traces_sample_rate=1.0),
        "@trace call in a transaction": with_sdk(traced, traces_sample_rate=1.0),
    }


# Steps per counted run: the difference of the two is what is divided by. Under the transaction's
# 1,000-span limit, so that every span is recorded.
_COUNTS = (50, 450)
# The steps that send events flush every so many steps: the steady state, not a backlog.
_FLUSH_EVERY = 25
_SENDING = (
    "capture_message",
    "capture_exception, 1 frame, locals on",
    "transaction with 10 spans, sampled, sent",
)


def counted(metric: str, dsn: str, number: int) -> None:
    """Run ``metric``'s step ``number`` times after its set-up and a warm-up (``--instructions``)."""
    step = _counted_steps(dsn)[metric]()
    sdk = sys.modules.get("sentry_sdk") if metric in _SENDING else None
    for i in range(50 + number):
        step()
        if sdk is not None and i % _FLUSH_EVERY == 0:
            sdk.flush(timeout=10)


def _instructions(
    sides: dict[str, tuple[str, dict[str, str]]], sink: Any, cwd: str
) -> list[tuple[str, float, float]]:
    """Instructions per step of every metric, both packages, two callgrind runs each."""
    from concurrent.futures import ThreadPoolExecutor

    from _callgrind import main_thread_instructions  # this directory's: the scripts run from it

    metrics = list(_counted_steps("http://k@127.0.0.1:9/1"))
    this = str(Path(__file__).resolve())
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        jobs = {
            (metric, side, number): pool.submit(
                main_thread_instructions,
                [python, this, "--counted", metric, sink.dsn(f"count{side}"), str(number)],
                env,
                cwd,
            )
            for metric in metrics
            for side, (python, env) in sides.items()
            for number in _COUNTS
        }
        per_step = {
            (metric, side): (
                jobs[(metric, side, _COUNTS[1])].result() - jobs[(metric, side, _COUNTS[0])].result()
            )
            / (_COUNTS[1] - _COUNTS[0])
            for metric in metrics
            for side in sides
        }
    rows = []
    for metric in metrics:
        rows.append((f"{metric} (instructions)", per_step[(metric, "ours")], per_step[(metric, "theirs")]))
    base = "logging.info without SDK"
    rows.append(
        (
            "logging.info overhead (instructions)",
            per_step[("logging.info with SDK", "ours")] - per_step[(base, "ours")],
            per_step[("logging.info with SDK", "theirs")] - per_step[(base, "theirs")],
        )
    )
    return rows


# ---------------------------------------------------------------------------------------------
# The driver: sink, virtualenv, alternating rounds, table.
# ---------------------------------------------------------------------------------------------


class _Sink:
    """A loopback HTTP endpoint that answers 200 and counts envelopes per public key."""

    def __init__(self, delay: float = 0.0) -> None:
        counts: dict[str, int] = {}
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                # Without this, headers and body leave in two packets and the client's delayed ACK
                # adds 40 ms to every request: a property of the sink, not of either SDK.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                auth = self.headers.get("X-Sentry-Auth", "")
                key = auth.split("sentry_key=", 1)[1].split(",", 1)[0] if "sentry_key=" in auth else ""
                with lock:
                    counts[key] = counts.get(key, 0) + 1
                if delay:
                    time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def do_GET(self) -> None:
                key = self.path.rsplit("/", 1)[1]
                with lock:
                    body = str(counts.pop(key, 0)).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def dsn(self, key: str) -> str:
        return f"http://{key}@127.0.0.1:{self.server.server_address[1]}/1"


def _ensure_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} with the real sentry-sdk ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "sentry-sdk"], check=True)
    return python


def _version(python: str, env: dict[str, str], cwd: str) -> str:
    code = "import sentry_sdk; print(sentry_sdk.VERSION, sentry_sdk.__file__)"
    return subprocess.run(
        [python, "-c", code], env=env, cwd=cwd, capture_output=True, text=True
    ).stdout.strip()


def _run_worker(python: str, env: dict[str, str], cwd: str, dsn: str, slow_dsn: str) -> dict[str, float]:
    out = subprocess.run(
        [python, str(Path(__file__).resolve()), "--worker", dsn, slow_dsn],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode:
        raise RuntimeError(f"worker failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _process_times(python: str, env: dict[str, str], cwd: str, count: int) -> dict[str, float]:
    """Import time in fresh processes, and how much longer such a process takes in all."""
    imports, walls, bare = [], [], []
    code = "import time; t = time.perf_counter(); import sentry_sdk; print(time.perf_counter() - t)"
    for _ in range(count):
        start = time.perf_counter()
        subprocess.run([python, "-c", "pass"], env=env, cwd=cwd, check=True)
        bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        out = subprocess.run(
            [python, "-c", code], env=env, cwd=cwd, check=True, capture_output=True, text=True
        )
        walls.append(time.perf_counter() - start)
        imports.append(float(out.stdout))
    import_ms = statistics.median(imports) * 1e3
    extra_ms = (statistics.median(walls) - statistics.median(bare)) * 1e3
    return {
        "import sentry_sdk, fresh process (ms)": import_ms,
        "process with a bare import: time beyond import (ms)": max(0.0, extra_ms - import_ms),
    }


_HIGHER_IS_BETTER = ("delivered",)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--against", type=Path, default=DEFAULT_VENV, help="virtualenv with sentry-sdk")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="machine instructions per call instead of times (valgrind's callgrind; noise-free)",
    )
    parser.add_argument("--worker", nargs=2, metavar=("DSN", "SLOW_DSN"), help=argparse.SUPPRESS)
    parser.add_argument("--counted", nargs=3, metavar=("METRIC", "DSN", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.counted:
        counted(args.counted[0], args.counted[1], int(args.counted[2]))
        return 0

    if args.worker:
        results = worker(*args.worker)
        results.update(floors())
        print(json.dumps(results))
        return 0

    theirs_python = str(_ensure_venv(args.against))
    # An installed package has its bytecode compiled (pip does it); a checkout may not, and
    # compiling at every import would be measured as ours. Compile it once, as pip would.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "sentry_sdk")], check=True)
    cwd = tempfile.mkdtemp()  # never the repository, so only PYTHONPATH decides which package loads
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "PYTHONPATH"))}
    # Both packages run in the same interpreter and site-packages, ours first on PYTHONPATH, so that
    # both see the same installed distributions (the ``modules`` list every event carries).
    ours = (theirs_python, {**base_env, "PYTHONPATH": str(ROOT)})
    theirs = (theirs_python, base_env)
    print(f"ours:   {_version(ours[0], ours[1], cwd)}", file=sys.stderr)
    print(f"theirs: {_version(theirs[0], theirs[1], cwd)}", file=sys.stderr)

    sink, slow_sink = _Sink(), _Sink(delay=0.05)
    if args.instructions:
        if shutil.which("valgrind") is None:
            parser.error("--instructions needs valgrind on PATH")
        started = time.perf_counter()
        counts = _instructions({"ours": ours, "theirs": theirs}, sink, cwd)
        print(
            f"Run on {time.strftime('%Y-%m-%d')}, {platform.machine()}, Python {platform.python_version()}, "
            f"instructions of the calling thread per call (callgrind), "
            f"{time.perf_counter() - started:.0f} s.\n"
        )
        print("| metric | ours | sentry-sdk | ours / sentry-sdk |")
        print("|---|---:|---:|---:|")
        for metric, a, b in counts:
            print(f"| {metric} | {a:,.0f} | {b:,.0f} | {a / b if b else float('nan'):.2f} |")
        return 0
    samples: dict[str, dict[str, list[float]]] = {"ours": {}, "theirs": {}}
    for round_no in range(args.rounds):
        order = [("ours", ours), ("theirs", theirs)]
        if round_no % 2:
            order.reverse()
        for name, (python, env) in order:
            print(f"round {round_no + 1}/{args.rounds}: {name}", file=sys.stderr)
            key = f"{name}{round_no}"
            results = _run_worker(python, env, cwd, sink.dsn(key), slow_sink.dsn(key + "slow"))
            results.update(_process_times(python, env, cwd, 5))
            for metric, value in results.items():
                samples[name].setdefault(metric, []).append(value)

    rows = []
    for metric in samples["ours"]:
        a = statistics.median(samples["ours"][metric])
        b = statistics.median(samples["theirs"].get(metric, [float("nan")]))
        ratio = a / b if b else float("nan")
        rows.append((metric, a, b, ratio))
    header = f"{'metric':58} {'ours':>10} {'sentry-sdk':>11} {'ours/theirs':>12}"
    if args.markdown:
        print(
            f"Run on {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, {args.rounds} alternating rounds.\n"
        )
        print("| metric | ours | sentry-sdk | ours / sentry-sdk |")
        print("|---|---:|---:|---:|")
        for metric, a, b, ratio in rows:
            print(f"| {metric} | {a:.1f} | {b:.1f} | {ratio:.2f} |")
    else:
        print(header)
        for metric, a, b, ratio in rows:
            print(f"{metric:58} {a:10.1f} {b:11.1f} {ratio:12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
