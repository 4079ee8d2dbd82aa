"""Trace and span ids: well-formed, unique, unaffected by the program's seeding, new after a fork."""

from __future__ import annotations

import os
import random
import re

import pytest

from sentry_sdk._tracing.ids import span_id, trace_id


def test_ids_are_lowercase_hex_of_the_right_length_and_do_not_repeat() -> None:
    traces = {trace_id() for _ in range(10_000)}
    spans = {span_id() for _ in range(10_000)}
    assert 10_000 == len(traces) == len(spans)
    assert all(re.fullmatch(r"[0-9a-f]{32}", t) for t in traces)
    assert all(re.fullmatch(r"[0-9a-f]{16}", s) for s in spans)


def test_seeding_the_random_module_does_not_repeat_ids() -> None:
    """A program that calls random.seed(0) for reproducible tests still gets fresh ids."""
    random.seed(0)
    first = trace_id()
    random.seed(0)
    assert first != trace_id()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_draw_its_parents_ids() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, to the parent
        os.write(write, span_id().encode())
        os._exit(0)
    os.close(write)
    mine = span_id()
    theirs = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert re.fullmatch(r"[0-9a-f]{16}", theirs)
    assert mine != theirs
