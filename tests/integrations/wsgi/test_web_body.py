"""The body tee: the application reads its body exactly as from the server's stream, whatever the SDK read."""

from __future__ import annotations

import io

import pytest

from sentry_sdk.integrations._web.body import InputTee, body_data

_BODY = b"first line\nsecond line\nthird"


def _read_all_ways(stream: InputTee) -> bytes:
    return (
        stream.read(3)
        + stream.readline()
        + b"".join(stream.readlines(1))
        + bytearray_read(stream)
        + stream.read()
    )


def bytearray_read(stream: InputTee) -> bytes:
    buffer = bytearray(4)
    count = stream.readinto(buffer)
    return bytes(buffer[:count])


@pytest.mark.parametrize("peek_first", [False, True])
def test_the_app_reads_the_same_bytes_with_or_without_an_event_reading_first(peek_first: bool) -> None:
    """read(n), readline, readlines, readinto and read() give the original body, peeked at or not."""
    tee = InputTee(io.BytesIO(_BODY), 10_000, len(_BODY))
    if peek_first:
        assert (_BODY, len(_BODY)) == tee.body_for_event()
    assert _BODY == _read_all_ways(tee)
    assert b"" == tee.read()


def test_iterating_the_stream_gives_its_lines() -> None:
    """``for line in wsgi.input`` works through the tee, after an event read the body."""
    tee = InputTee(io.BytesIO(_BODY), 10_000, len(_BODY))
    tee.body_for_event()
    assert [b"first line\n", b"second line\n", b"third"] == list(tee)


def test_a_body_over_the_limit_is_not_read_for_an_event() -> None:
    """The SDK reads nothing ahead when the declared length is over the limit."""
    stream = io.BytesIO(_BODY)
    tee = InputTee(stream, 5, len(_BODY))
    assert (None, len(_BODY)) == tee.body_for_event()
    assert 0 == stream.tell()


def test_what_the_app_read_is_kept_up_to_one_byte_past_the_limit() -> None:
    """A copy of at most limit + 1 bytes is kept, so 'over the limit' can be told from 'at the limit'."""
    tee = InputTee(io.BytesIO(b"x" * 100), 10, None)
    assert b"x" * 100 == tee.read()
    raw, length = tee.body_for_event()
    assert (b"x" * 11, 100) == (raw, length)
    assert ("", {"": {"rem": [["!config", "x"]]}}) == body_data("text/plain", raw, length, 10)


def test_body_data_shows_files_by_name_only_and_leaves_binary_out() -> None:
    """Uploaded files are listed with a !raw note, never read; bytes that are not text are marked !raw."""
    data, notes = body_data(
        "multipart/form-data", None, 100, 10_000, form={"title": "cv"}, files={"upload": object()}
    )
    assert ({"title": "cv", "upload": ""}, {"upload": {"": {"rem": [["!raw", "x"]]}}}) == (data, notes)
    assert ("", {"": {"rem": [["!raw", "x"]]}}) == body_data(
        "application/octet-stream", b"\xff\xfe\x00", 3, 10_000
    )
