"""A bounded background queue served by one daemon thread: started lazily, restarted after fork.

The queue is bounded in bytes (what the queued jobs hold) and, optionally, in count. Submitting
never blocks: when a bound would be passed the job is refused and the caller counts the loss.
``flush`` waits until every submitted job has finished, or the timeout passes.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import deque
from collections.abc import Callable

from ._log import logger, report_internal_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_Job = Callable[[], None]

_workers: weakref.WeakSet[BackgroundWorker] = weakref.WeakSet()


class BackgroundWorker:
    """Runs submitted jobs one at a time on a daemon thread."""

    def __init__(
        self,
        queue_size: int | None = None,
        name: str = "sentry-sdk.BackgroundWorker",
        *,
        max_bytes: int | None = None,
        shrink: Callable[[Any], int | None] | None = None,
    ) -> None:
        self._queue_size = queue_size
        self._max_bytes = max_bytes
        self._shrink = shrink
        self._name = name
        self._reset()
        _workers.add(self)

    def _reset(self) -> None:
        # Also run in a forked child: locks held by other threads at fork time would never be
        # released there, and the parent's queue must not be sent twice.
        self._cond = threading.Condition(threading.Lock())
        # [job, size] entries: the size changes when the worker shrinks a queued job.
        self._queue: deque[list[Any]] = deque()
        self._in_flight = 0
        self._bytes = 0  # held by queued and running jobs
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._stopping = False

    @property
    def pending(self) -> int:
        """Jobs queued or running."""
        return len(self._queue) + self._in_flight

    def is_alive(self) -> bool:
        """Whether the worker thread is running."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def pending_bytes(self) -> int:
        """Bytes held by jobs queued or running, as given to ``submit``."""
        return self._bytes

    def submit(self, job: _Job, size: int = 0) -> bool:
        """Queue ``job`` holding ``size`` bytes; returns ``False`` (and drops it) when full or closed."""
        if self._pid != os.getpid():
            self._reset()
        with self._cond:
            if self._stopping:
                return False
            if self._queue_size is not None and len(self._queue) >= self._queue_size:
                return False
            # A job bigger than the whole budget is still taken when nothing else is waiting.
            if self._max_bytes is not None and self._bytes + size > self._max_bytes and self._bytes:
                return False
            self._queue.append([job, size])
            self._bytes += size
            self._cond.notify()
            if self._thread is None or not self._thread.is_alive():
                if not self._start_locked():
                    self._queue.pop()
                    self._bytes -= size
                    return False
        return True

    def _start_locked(self) -> bool:
        thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        try:
            thread.start()
        except RuntimeError:  # "can't create new thread at interpreter shutdown"
            return False
        self._thread = thread
        return True

    def _run(self) -> None:
        cond = self._cond
        while True:
            with cond:
                while not self._queue and not self._stopping:
                    cond.wait()
                if not self._queue:
                    return
                entry = self._queue.popleft()
                job = entry[0]
                self._in_flight += 1
                waiting = list(self._queue) if self._shrink is not None and self._queue else None
            if waiting:
                self._shrink_waiting(waiting)
            try:
                job()
            except Exception:
                report_internal_error()
            finally:
                del job  # let what it holds go before waiting for the next one
                with cond:
                    self._in_flight -= 1
                    self._bytes -= entry[1]
                    cond.notify_all()

    def _shrink_waiting(self, entries: list[list[Any]]) -> None:
        """Let ``shrink`` make queued jobs smaller (compress them) while they wait.

        Runs on the worker thread, outside the lock, so capturing threads never wait for it;
        only this thread takes entries off the queue, so the entries stay valid meanwhile.
        """
        shrink = self._shrink
        assert shrink is not None
        for entry in entries:
            try:
                new_size = shrink(entry[0])
            except Exception:
                report_internal_error()
                continue
            if new_size is not None and new_size != entry[1]:
                with self._cond:
                    self._bytes += new_size - entry[1]
                    entry[1] = new_size

    def flush(self, timeout: float, callback: Callable[[int, float], None] | None = None) -> bool:
        """Wait up to ``timeout`` seconds for all jobs to finish; returns whether they did.

        ``callback(pending, timeout)`` is called first when there is something to wait for.
        """
        if self._pid != os.getpid():
            return True
        with self._cond:
            pending = self.pending
        if not pending:
            return True
        if callback is not None:
            try:
                callback(pending, timeout)
            except Exception:
                logger.error("flush callback raised", exc_info=True)
        with self._cond:
            done = self._cond.wait_for(lambda: self.pending == 0, timeout=timeout)
            left = self.pending
        if not done:
            logger.debug("flush timed out with %d jobs still pending", left)
        return done

    def take_queued(self) -> list[_Job]:
        """Remove the jobs still waiting (not the running one) and return them; the worker goes on."""
        with self._cond:
            taken = [entry[0] for entry in self._queue]
            self._bytes -= sum(entry[1] for entry in self._queue)
            self._queue.clear()
            self._cond.notify_all()
        return taken

    def kill(self) -> list[_Job]:
        """Stop the thread after the running job; returns the queued jobs, which will not run."""
        with self._cond:
            dropped = [entry[0] for entry in self._queue]
            self._bytes -= sum(entry[1] for entry in self._queue)
            self._queue.clear()
            self._stopping = True
            self._cond.notify_all()
        return dropped


def _after_fork_in_child() -> None:
    for worker in list(_workers):
        worker._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

__all__ = ["BackgroundWorker"]
