"""Running the program's own code during a capture (``__repr__``, ``__str__``, ``custom_repr``)
with a bound on the time it may take.

Describing a local variable means calling its ``__repr__``, which is code the SDK does not
control: it can be slow, block, or loop forever. Such calls go through :meth:`TimeBudget.call`,
which runs the function under a trace hook that interrupts it once its share of time is spent, so
a capture always finishes. Each call gets at most ``_PER_CALL`` seconds and one event at most
``_PER_EVENT`` in all; once the event's time is spent, further calls are refused at once.

Limits, by nature of a trace hook: only Python code is interrupted (a ``__repr__`` stuck in one
long C call, such as a huge multiplication, a blocking socket read or ``time.sleep``, runs to its
end); code that catches ``BaseException`` and carries on swallows the interruption (CPython then
also drops the hook); a loop in a function first called after the time is up is not
interrupted until it returns; and a generator being closed runs its ``finally`` lines to their
end. The hook is the current thread's only, and any tracer the program had (a debugger,
coverage) is put back after the call.
"""

from __future__ import annotations

import sys
from time import monotonic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType
    from typing import Any, TypeVar

    _T = TypeVar("_T")

__all__ = ["OutOfTimeError", "TimeBudget"]

_PER_CALL = 0.05
_PER_EVENT = 0.25


class OutOfTimeError(Exception):
    """The budget ran out before (or while) the function ran."""


class _Interrupt(BaseException):
    # A BaseException, so that the usual ``except Exception`` inside the interrupted code does not
    # swallow it; it never leaves ``TimeBudget.call``.
    pass


class TimeBudget:
    """The time left for the program's code in one capture, shared by every call made for it."""

    __slots__ = ("left", "per_call")

    def __init__(self, total: float = _PER_EVENT, per_call: float = _PER_CALL) -> None:
        self.left = total
        self.per_call = per_call

    def call(self, function: Callable[..., _T], *args: Any) -> _T:
        """``function(*args)``, interrupted with :class:`OutOfTimeError` if it runs out of time.

        Exceptions raised by ``function`` itself pass through unchanged.
        """
        if self.left <= 0.0:
            raise OutOfTimeError("the time budget for this capture is spent")
        start = monotonic()
        deadline = start + min(self.left, self.per_call)

        def check(frame: FrameType, event: str, arg: Any) -> Any:
            if monotonic() > deadline:
                if event == "call":
                    # A frame entered once time is up may be a garbage-collector or weakref
                    # callback, where an exception is only printed and lost: it is left to run,
                    # and the interruption comes at the next line of a frame that was already
                    # running.
                    return None
                # Only at a line, and not while a generator is being closed: the garbage
                # collector closes one by throwing GeneratorExit into it (an "exception" event,
                # then its finally lines, then a "return"), and an interruption raised there
                # would replace it inside a finalizer, where Python only prints it. The next line
                # of the code that was running interrupts instead.
                if event == "line" and not isinstance(sys.exc_info()[1], GeneratorExit):
                    raise _Interrupt
            return check

        previous = sys.gettrace()
        sys.settrace(check)
        try:
            return function(*args)
        except _Interrupt:
            raise OutOfTimeError("interrupted after its share of the time budget") from None
        finally:
            sys.settrace(previous)
            self.left -= monotonic() - start
