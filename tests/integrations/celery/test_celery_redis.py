"""Celery for real: a prefork worker process on a Redis broker reports to a Sentry ingest server.

The fixture starts Debian's ``redis-server`` on a free port and a ``celery worker`` subprocess
(prefork, one child, recycled after every task) whose module calls plain ``sentry_sdk.init(dsn=...)``.
Under ``CI=true`` a missing ``redis-server`` fails instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from frameworks import require

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.testing import CapturingTransport, IngestServer

celery = require("celery")
redis = require("redis")

_ROOT = Path(__file__).resolve().parents[3]

# The worker's module, as a user writes it, plus a transport that takes half a second to post:
# a prefork child recycled after its task would exit (os._exit, no atexit) before that post
# unless the integration flushes on worker_process_shutdown.
_WORKER_MODULE = """
import os
import time

import sentry_sdk
from celery import Celery
from sentry_sdk.transport import HttpTransport


class SlowTransport(HttpTransport):
    def _post(self, body):
        time.sleep(0.5)
        return super()._post(body)


sentry_sdk.init(dsn=os.environ["TEST_SENTRY_DSN"], transport=SlowTransport, release="worker@1")

app = Celery("worker_app", broker=os.environ["TEST_BROKER"], backend=os.environ["TEST_BROKER"])
app.conf.broker_connection_retry_on_startup = True


@app.task(name="shop.charge")
def charge(order, currency="EUR"):
    sentry_sdk.set_tag("order", str(order))
    raise ValueError(f"card declined for order {order}")
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to ``process`` (a warm shutdown for a worker), SIGKILL if it still runs 10 s later.

    A worker's pool children die with it (Celery gives them a parent-death signal). Neither
    process gets a session of its own: a test run killed from outside takes them along.
    """
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A fresh ``redis-server`` on 127.0.0.1 (no persistence), answering PING; stopped afterwards."""
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(server):
        if os.environ.get("CI"):
            pytest.fail("redis-server is required in CI (apt-get install redis-server)", pytrace=False)
        pytest.skip("redis-server is not installed")
    port = _free_port()
    command = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                if client.ping():
                    break
            except redis.exceptions.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not answer PING on port {port}", pytrace=False)
                time.sleep(0.02)  # a readiness poll: there is nothing to wait on before it listens
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process)


@pytest.fixture
def worker(tmp_path: Path, redis_url: str, ingest: IngestServer) -> Iterator[str]:
    """``celery worker --pool=prefork --concurrency=1 --max-tasks-per-child=1`` reporting to ``ingest``."""
    (tmp_path / "worker_app.py").write_text(_WORKER_MODULE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "CELERY_"))}
    env.update(
        PYTHONPATH=os.pathsep.join([str(_ROOT), str(tmp_path)]),
        TEST_SENTRY_DSN=ingest.dsn,
        TEST_BROKER=redis_url,
    )
    log = tmp_path / "worker.log"
    command = [
        *(sys.executable, "-m", "celery", "-A", "worker_app", "worker"),
        *("--pool=prefork", "--concurrency=1", "--max-tasks-per-child=1", "--loglevel=INFO"),
        *("--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"sdk-test-{os.getpid()}@%h"),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield redis_url
    finally:
        _stop(process)
        print(log.read_text(errors="replace"))  # pytest shows it only when the test failed


def test_a_prefork_child_recycled_after_a_failing_task_still_delivers_its_event(
    worker: str, ingest: IngestServer
) -> None:
    """The event reaches the ingest server although the child exits right after the task: named
    after the task, mechanism celery, with the arguments and the task's tag, in the trace of the
    process that sent the task; the task's failure is stored in Redis as without the SDK."""
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, integrations=[CeleryIntegration()], default_integrations=False)
    sender = celery.Celery("sender", broker=worker, backend=worker, set_as_current=False)
    try:
        result = sender.send_task("shop.charge", args=[7], kwargs={"currency": "USD"})
        sentry_sdk.capture_message("task sent")
        result.get(timeout=20, interval=0.05, propagate=False)
        (event,) = ingest.wait_for_events(1, timeout=20)
    finally:
        # Its connections to Redis (broker, results, the results' pubsub) are closed here, not by
        # the garbage collector at some later test.
        sender.backend.result_consumer.stop()
        sender.backend.client.connection_pool.disconnect()
        sender.close()

    assert ("FAILURE", ValueError, ("card declined for order 7",)) == (
        result.state,
        type(result.result),
        result.result.args,
    )
    (exc,) = event["exception"]["values"]
    assert ("ValueError", "card declined for order 7") == (exc["type"], exc["value"])
    assert ("celery", False) == (exc["mechanism"]["type"], exc["mechanism"]["handled"])
    assert ("shop.charge", {"source": "task"}, "worker@1") == (
        event["transaction"],
        event["transaction_info"],
        event["release"],
    )
    expected_job: dict[str, Any] = {"task_name": "shop.charge", "args": [7], "kwargs": {"currency": "USD"}}
    assert expected_job == event["extra"]["celery-job"]
    assert ("7", result.id) == (event["tags"]["order"], event["tags"]["celery_task_id"])
    (sent,) = transport.events
    assert sent["contexts"]["trace"]["trace_id"] == event["contexts"]["trace"]["trace_id"]
    assert sent["contexts"]["trace"]["span_id"] == event["contexts"]["trace"]["parent_span_id"]
