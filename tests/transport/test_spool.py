"""The offline spool: what cannot be sent waits on disk and is sent later, exactly once."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sentry_sdk
import sentry_sdk.envelope
from sentry_sdk._spool import Spool
from sentry_sdk.testing import IngestServer
from sentry_sdk.transport import HttpTransport


def dead_dsn() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://public@127.0.0.1:{port}/1"


def transport() -> HttpTransport:
    client = sentry_sdk.Hub.current.client
    assert client is not None and isinstance(client.transport, HttpTransport)
    return client.transport


def waiting(directory: Path) -> list[str]:
    """The whole envelopes waiting: not the temporary file of a write a SIGKILL interrupted."""
    return sorted(n for n in os.listdir(directory) if n.endswith(".envelope") and not n.startswith("."))


def test_envelopes_for_an_unreachable_server_are_spooled_then_sent_by_the_next_process(
    ingest: IngestServer, tmp_path: Path
) -> None:
    """Server down: events go to disk, nothing is lost; the next init sends them and clears the spool."""
    sentry_sdk.init(dsn=dead_dsn(), spool_dir=str(tmp_path), default_integrations=False)
    for i in range(5):
        sentry_sdk.capture_message(f"offline {i}")
    sentry_sdk.flush(timeout=10)
    assert 5 == len(waiting(tmp_path))
    assert (5, {}) == (transport().spooled, dict(transport().lost_events))

    sentry_sdk.init(dsn=ingest.dsn, spool_dir=str(tmp_path), default_integrations=False)
    sentry_sdk.flush(timeout=10)
    assert [f"offline {i}" for i in range(5)] == [e["message"] for e in ingest.events()]
    assert [] == os.listdir(tmp_path)


def test_when_the_server_answers_again_the_spool_is_sent(ingest: IngestServer, tmp_path: Path) -> None:
    """A 503 spools the envelope; the next successful send brings it along."""
    ingest.script((503, {}))
    sentry_sdk.init(dsn=ingest.dsn, spool_dir=str(tmp_path), default_integrations=False)
    sentry_sdk.capture_message("first, answered 503")
    sentry_sdk.flush(timeout=10)
    assert 1 == len(waiting(tmp_path))
    sentry_sdk.capture_message("second")
    sentry_sdk.flush(timeout=10)
    assert ["first, answered 503", "second"] == sorted(e["message"] for e in ingest.events())
    assert [] == waiting(tmp_path)


def test_a_corrupt_file_is_removed_and_breaks_nothing(ingest: IngestServer, tmp_path: Path) -> None:
    """Garbage in the spool is skipped and removed; the good files are still sent."""
    spool = Spool(str(tmp_path))
    spool.write(b"not an envelope\n{{{")
    good = sentry_sdk.envelope.Envelope(
        headers={"event_id": "b" * 32, "sent_at": "2026-11-25T10:00:00.000000Z"}
    )
    good.add_event({"message": "good", "event_id": "b" * 32})
    spool.write(good.serialize())
    sentry_sdk.init(dsn=ingest.dsn, spool_dir=str(tmp_path), default_integrations=False)
    sentry_sdk.flush(timeout=10)
    assert ["good"] == [e["message"] for e in ingest.events()]
    assert [] == os.listdir(tmp_path)


def test_the_spool_is_bounded_and_drops_the_oldest(tmp_path: Path) -> None:
    """Past its bounds, the oldest files are removed first."""
    spool = Spool(str(tmp_path), max_files=3)
    dropped = [spool.write(f"{i}".encode()) for i in range(5)]
    assert [[], [], [], 1, 1] == [d if not d else len(d) for d in dropped]
    assert [b"2", b"3", b"4"] == [body for _, body in spool.claim()]


def test_a_write_interrupted_by_a_kill_is_never_sent_and_its_leftover_goes_in_time(tmp_path: Path) -> None:
    """A process killed mid-write leaves a temporary file: not an envelope, removed once stale."""
    spool = Spool(str(tmp_path))
    spool.write(b"whole")
    fresh = tmp_path / ".tmp-00000000000000000002-1-ab.envelope"
    stale = tmp_path / ".tmp-00000000000000000001-1-cd.envelope"
    fresh.write_bytes(b"half of a fresh wr")  # a live process may still be writing this one
    stale.write_bytes(b"half of an old wr")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    assert 1 == len(spool)
    assert [b"whole"] == [body for _, body in spool.claim()]
    assert fresh.exists()
    assert not stale.exists()


def test_two_processes_sharing_the_spool_never_send_a_file_twice(tmp_path: Path) -> None:
    """Claims are atomic renames: concurrent claimers split the files between them."""
    spool = Spool(str(tmp_path))
    for i in range(200):
        spool.write(f"{i}".encode())
    results: list[list[bytes]] = [[], [], [], []]

    def claim(n: int) -> None:
        results[n] = [body for _, body in Spool(str(tmp_path)).claim()]

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [body for result in results for body in result]
    assert sorted(everything) == sorted(f"{i}".encode() for i in range(200))


def test_a_process_killed_mid_burst_loses_nothing_that_reached_the_spool(
    ingest: IngestServer, tmp_path: Path, run_script: Callable[[str], Any]
) -> None:
    """SIGKILL after spooling: the next process sends every spooled event, exactly once."""
    result = run_script(
        "import os, signal, sentry_sdk\n"
        f"sentry_sdk.init(dsn={dead_dsn()!r}, spool_dir={str(tmp_path)!r})\n"
        "for i in range(20):\n"
        "    sentry_sdk.capture_message(f'burst {i}')\n"
        "sentry_sdk.flush(timeout=10)\n"
        "print('spooled', sentry_sdk.get_client().transport.spooled, flush=True)\n"
        "for i in range(20, 40):\n"
        "    sentry_sdk.capture_message(f'burst {i}')\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    assert "spooled 20" in result.stdout, result.stderr
    on_disk = len(waiting(tmp_path))
    assert on_disk >= 20
    sentry_sdk.init(dsn=ingest.dsn, spool_dir=str(tmp_path), default_integrations=False)
    sentry_sdk.flush(timeout=10)
    messages = [e["message"] for e in ingest.events()]
    assert len(messages) == len(set(messages)) == on_disk
    assert {f"burst {i}" for i in range(20)} <= set(messages)


def test_what_is_still_queued_when_flush_times_out_is_spooled(ingest: IngestServer, tmp_path: Path) -> None:
    """A flush that runs out of time leaves nothing only in memory: the waiting envelopes are on disk."""
    ingest.delay = 0.5
    sentry_sdk.init(
        dsn=ingest.dsn, spool_dir=str(tmp_path), default_integrations=False, send_client_reports=False
    )
    for i in range(6):
        sentry_sdk.capture_message(f"slow {i}")
    sentry_sdk.flush(timeout=0.2)
    spooled = transport().spooled
    assert spooled >= 4  # all but the one or two the worker had started on
    assert spooled == len(waiting(tmp_path))
    ingest.delay = 0
    sentry_sdk.capture_message("server is quick again")
    sentry_sdk.flush(timeout=10)
    messages = sorted(e["message"] for e in ingest.events())
    assert sorted([f"slow {i}" for i in range(6)] + ["server is quick again"]) == messages
