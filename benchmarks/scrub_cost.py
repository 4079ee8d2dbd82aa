"""What scrubbing by value (``scrub_secrets``, on by default) adds to capturing an exception.

    python benchmarks/scrub_cost.py [--rounds 7] [--number 200] [--locals request|plain]

Captures the same exception 30 frames deep with ``scrub_secrets`` on and off, in alternating
rounds in one process, sending to a loopback sink. With ``--locals request`` (the default) each
frame holds request-like locals: headers, a URL, a log line, ids and numbers, several of them new
on every capture as real ones are; with ``--locals plain`` each holds an int and a small dict (the
locals of the side-by-side benchmark in bench.py).
Prints the median per-capture time of each and the added cost in percent. sentry-sdk has no
scrubbing by value, so there is nothing to compare it with there; the target is under 10%.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sentry_sdk  # noqa: E402 - after the path is set

_counter = itertools.count()


class _Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _handle(depth: int, request_id: int) -> None:
    headers = {  # noqa: F841 - local variables for the SDK to collect
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)",
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9",
        "X-Request-Id": f"req-{request_id:012d}-{depth}",
    }
    url = f"https://shop.example.com/api/v2/orders/{request_id}/items?page={depth}"  # noqa: F841
    line = f"2026-11-25 12:00:{depth:02d} INFO handling order {request_id} for customer 4711"  # noqa: F841
    count = depth * 3  # noqa: F841
    if depth <= 1:
        raise ValueError(f"order {request_id} could not be priced")
    _handle(depth - 1, request_id)


def _plain(depth: int) -> None:
    local_a = depth * 2  # noqa: F841 - local variables for the SDK to collect
    local_b = {"depth": depth, "items": list(range(5))}  # noqa: F841
    if depth <= 1:
        raise ValueError(f"failed at the bottom, depth {depth}")
    _plain(depth - 1)


_workload = "request"


def _capture_once() -> None:
    try:
        if _workload == "plain":
            _plain(30)
        else:
            _handle(30, next(_counter))
    except ValueError:
        sentry_sdk.capture_exception()


def _per_capture_us(scrub: bool, dsn: str, number: int) -> float:
    sentry_sdk.init(dsn=dsn, scrub_secrets=scrub, default_integrations=False, transport_queue_bytes=64 << 20)
    for _ in range(20):  # warm up caches and the connection
        _capture_once()
    sentry_sdk.flush(timeout=30)
    start = time.perf_counter()
    for _ in range(number):
        _capture_once()
    elapsed = time.perf_counter() - start
    sentry_sdk.flush(timeout=30)
    sentry_sdk.get_client().close(timeout=5)
    return elapsed / number * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=200)
    parser.add_argument("--locals", choices=("request", "plain"), default="request")
    args = parser.parse_args()
    global _workload
    _workload = args.locals
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dsn = f"http://key@127.0.0.1:{server.server_address[1]}/1"
    on: list[float] = []
    off: list[float] = []
    for _ in range(args.rounds):
        off.append(_per_capture_us(False, dsn, args.number))
        on.append(_per_capture_us(True, dsn, args.number))
    server.shutdown()
    with_scrub, without = statistics.median(on), statistics.median(off)
    print(f"capture_exception, 30 frames, {args.locals} locals: off {without:.0f} us, on {with_scrub:.0f} us")
    print(f"added cost: {(with_scrub / without - 1) * 100:.1f}% (median of {args.rounds} rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
