"""Event, trace and span ids: random, unique, and cheap enough to draw for every span.

Ids need to be unique, not secret, so they come from a generator of the SDK's own, seeded from
the operating system once (and again in a forked child, which must not repeat its parent's ids),
rather than from ``os.urandom``: a system call per span costs more than the span itself, and
much more on a loaded machine. The generator is not the ``random`` module's shared one: a program
that seeds that one (for reproducible tests) would otherwise get the same ids in every run.
"""

from __future__ import annotations

import os
import random

__all__ = ["event_id", "span_id", "trace_id"]

_generator = random.Random()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_generator.seed)


def trace_id() -> str:
    """32 lowercase hex digits, never all zeros (an invalid trace id)."""
    return "%032x" % (_generator.getrandbits(128) or 1)


def span_id() -> str:
    """16 lowercase hex digits, never all zeros."""
    return "%016x" % (_generator.getrandbits(64) or 1)


# The version (4) and variant (RFC 4122) bits of a random UUID, and the bits they replace.
_UUID4_BITS = (0x4 << 76) | (0x2 << 62)
_UUID4_MASK = ~((0xF << 76) | (0x3 << 62))


def event_id() -> str:
    """A random (version 4) UUID as 32 lowercase hex digits."""
    return "%032x" % ((_generator.getrandbits(128) & _UUID4_MASK) | _UUID4_BITS)
