"""What scrubbing by value (``scrub_secrets``, on by default) adds to capturing an exception.

    python benchmarks/scrub_cost.py [--rounds 7] [--number 200] [--locals request|plain]

Captures the same exception 30 frames deep with ``scrub_secrets`` on and off, in alternating
rounds (the order swapped every round) in one process. The transport encodes each envelope, as
the HTTP transport does on the capturing thread, and sends nothing: a sink in the same process
would compete for the GIL and blur the difference being measured. With ``--locals request`` (the default) each
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
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sentry_sdk  # noqa: E402 - after the path is set
from sentry_sdk.envelope import Envelope  # noqa: E402
from sentry_sdk.transport import Transport  # noqa: E402

_counter = itertools.count()


class _EncodingTransport(Transport):
    """Encodes each envelope to bytes, as the HTTP transport does before queueing, and drops it."""

    def capture_envelope(self, envelope: Envelope) -> None:
        envelope.serialize()


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


def _per_capture_us(scrub: bool, number: int) -> float:
    sentry_sdk.init(scrub_secrets=scrub, default_integrations=False, transport=_EncodingTransport())
    for _ in range(20):  # warm up caches
        _capture_once()
    start = time.perf_counter()
    for _ in range(number):
        _capture_once()
    elapsed = time.perf_counter() - start
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
    on: list[float] = []
    off: list[float] = []
    for round_number in range(args.rounds):
        for scrub in (False, True) if round_number % 2 == 0 else (True, False):
            (on if scrub else off).append(_per_capture_us(scrub, args.number))
    with_scrub, without = statistics.median(on), statistics.median(off)
    print(f"capture_exception, 30 frames, {args.locals} locals: off {without:.0f} us, on {with_scrub:.0f} us")
    print(f"added cost: {(with_scrub / without - 1) * 100:.1f}% (median of {args.rounds} rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
