"""Fork safety: children get their own worker, queue and locks, and never resend the parent's."""

from __future__ import annotations

import os
import threading
import time
import warnings

import pytest

import sentry_sdk
from sentry_sdk.testing import IngestServer
from sentry_sdk.transport import HttpTransport

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def fork() -> int:
    with warnings.catch_warnings():
        # Python 3.12+ warns about forking a process with threads; that is what is tested here.
        warnings.simplefilter("ignore", DeprecationWarning)
        return os.fork()


def run_in_child(body: object) -> int:
    """Fork, run ``body()`` in the child, and return the child's exit status (0: it returned)."""
    pid = fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            body()  # type: ignore[operator]
            code = 0
        finally:
            os._exit(code)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    raise AssertionError("the child hung")


def test_a_lock_held_at_fork_time_cannot_deadlock_the_child(ingest: IngestServer) -> None:
    """Another thread holds the queue's lock while we fork: the child still captures and flushes."""
    sentry_sdk.init(dsn=ingest.dsn, default_integrations=False)
    transport = sentry_sdk.Hub.current.client.transport  # type: ignore[union-attr]
    assert isinstance(transport, HttpTransport)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with transport._worker._cond:
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    try:

        def child() -> None:
            sentry_sdk.capture_message("from the child")
            sentry_sdk.flush(timeout=5)

        assert 0 == run_in_child(child)
    finally:
        release.set()
        holder.join()
    assert ["from the child"] == [e["message"] for e in ingest.wait_for_events(1)]


def test_a_pre_forking_server_pattern(ingest: IngestServer) -> None:
    """init in the parent, then fork workers (gunicorn-style): each worker's events arrive once,
    and the parent's pending event is sent once, by the parent."""
    ingest.delay = 0.1
    sentry_sdk.init(dsn=ingest.dsn, default_integrations=False)
    sentry_sdk.capture_message("parent, pending at fork")

    def worker(n: int) -> object:
        def body() -> None:
            for i in range(3):
                sentry_sdk.capture_message(f"worker {n} request {i}")
            sentry_sdk.flush(timeout=10)

        return body

    statuses = [run_in_child(worker(n)) for n in range(3)]
    assert [0, 0, 0] == statuses
    sentry_sdk.flush(timeout=10)
    expected = ["parent, pending at fork"] + [f"worker {n} request {i}" for n in range(3) for i in range(3)]
    assert sorted(expected) == sorted(e["message"] for e in ingest.wait_for_events(10))
