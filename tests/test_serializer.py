"""The serializer: any event becomes JSON that Sentry accepts, within the databag limits, never raising."""

from __future__ import annotations

import collections
import copy
import datetime
import enum
import json
import platform
import random
import subprocess
import types
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from payload_check import check_event

import sentry_sdk
from sentry_sdk._serializer import safe_repr, serialize_event
from sentry_sdk.testing import CapturingTransport

EVENT_ID = "0123456789abcdef0123456789abcdef"


def event(**fields: Any) -> dict[str, Any]:
    """A minimal valid event with ``fields`` added."""
    rv: dict[str, Any] = {"event_id": EVENT_ID, "timestamp": 1700000000.5, "platform": "python"}
    rv.update(fields)
    return rv


def frame_event(vars_: Any, key: str = "exception", **frame: Any) -> dict[str, Any]:
    """An event with one exception (or thread) whose only frame has local variables ``vars_``."""
    fields = {"filename": "app.py", "abs_path": "/srv/app.py", "function": "run", "lineno": 3, **frame}
    value = {"type": "ValueError", "value": "bad", "stacktrace": {"frames": [{**fields, "vars": vars_}]}}
    return event(**{key: {"values": [value]}})


def frame_vars(serialized: dict[str, Any], key: str = "exception") -> Any:
    """The serialized locals of the frame built by ``frame_event``."""
    return serialized[key]["values"][0]["stacktrace"]["frames"][0]["vars"]


def to_wire(data: Any) -> Any:
    """``data`` the way the envelope writes it (strict JSON, UTF-8), read back."""
    return json.loads(json.dumps(data, allow_nan=False, ensure_ascii=False).encode("utf-8"))


def depth_of(value: Any) -> int:
    """How many containers deep ``value`` is."""
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    return 0


class BrokenRepr:
    """An object whose repr raises."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class NotAString:
    """An object whose repr returns an int."""

    def __repr__(self) -> Any:
        return 42


class HugeRepr:
    """An object with a 100,000-character repr."""

    def __repr__(self) -> str:
        return "x" * 100_000


class BrokenStr:
    """An object whose str raises (its repr works)."""

    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        return "BrokenStr()"


def _raise(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("hostile method")


class HostileStr(str):
    """A str whose own methods all raise."""

    __str__ = __repr__ = __len__ = __iter__ = __getitem__ = encode = isascii = _raise


class HostileDict(dict[str, Any]):
    """A dict whose own methods all raise."""

    __iter__ = __len__ = __getitem__ = items = keys = values = __repr__ = _raise


class HostileList(list[Any]):
    """A list whose own methods all raise."""

    __iter__ = __len__ = __getitem__ = __repr__ = _raise


class HostileMapping(Mapping[str, Any]):
    """A mapping that claims one key and fails to produce anything, even its repr."""

    __getitem__ = __iter__ = items = __repr__ = _raise

    def __len__(self) -> int:
        return 1


class Color(enum.IntEnum):
    RED = 1


# safe_repr


def test_safe_repr_is_repr_for_ordinary_values() -> None:
    """safe_repr gives the usual repr of values whose repr works."""
    assert "[1, 'a', None]" == safe_repr([1, "a", None])


def test_safe_repr_is_bounded() -> None:
    """A huge repr is cut to 1024 characters, ending with '...'."""
    text = safe_repr(HugeRepr())
    assert (1024, "...") == (len(text), text[-3:])


def test_safe_repr_of_a_failing_repr_names_the_type() -> None:
    """When repr raises or returns a non-string, the placeholder names the type."""
    assert "<broken repr of BrokenRepr>" == safe_repr(BrokenRepr())
    assert "<broken repr of NotAString>" == safe_repr(NotAString())


# Never raises, always JSON


@pytest.mark.parametrize("value", [None, "text", 42, ["a", "list"], BrokenRepr()])
def test_an_input_that_is_not_a_mapping_gives_an_empty_event(value: Any) -> None:
    """serialize_event on something that is no event returns an empty dict rather than raising."""
    assert {} == serialize_event(value)


def test_the_input_event_is_left_unchanged() -> None:
    """The result is a copy: the event given (and the data in it) is not modified."""
    original = frame_event({"big": list(range(50)), "text": "x" * 50})
    original["extra"] = {"deep": {"a": {"b": {}}}}
    original["_meta"] = {"message": {"": {"len": 3}}}
    given = copy.deepcopy(original)
    serialize_event(given, max_value_length=10)
    assert original == given


def _hostile_leaves() -> list[Any]:
    """Values that are not JSON, or are JSON only in a way Sentry would reject."""
    return [
        float("nan"),
        float("inf"),
        -float("inf"),
        10**30,
        -(10**30),
        b"\xff\x00bytes",
        bytearray(b"abc"),
        "surrogate \udcff here",
        "ünïcödé",
        BrokenRepr(),
        NotAString(),
        HugeRepr(),
        HostileStr("s"),
        HostileDict(a=1),
        HostileList([1]),
        HostileMapping(),
        Color.RED,
        {1, 2, 3},
        frozenset({"a"}),
        collections.deque([1, 2]),
        (1, 2),
        datetime.datetime(2024, 1, 2, 3, 4, 5),
        datetime.date(2024, 1, 2),
        types.MappingProxyType({"k": "v"}),
        object(),
        sentry_sdk,
        None,
        True,
        1.5,
        "",
    ]


# Mostly small containers, sometimes one wider than a databag keeps.
_WIDTHS = (0, 1, 2, 3, 12)


def _random_data(rng: random.Random, ancestors: list[Any], depth: int) -> Any:
    """Nested data mixing hostile leaves, odd keys and cycles back to an ancestor."""
    roll = rng.random()
    if ancestors and roll < 0.05:
        return rng.choice(ancestors)
    if depth > 0 and roll < 0.5:
        if rng.random() < 0.5:
            mapping: dict[Any, Any] = {}
            ancestors.append(mapping)
            for _ in range(rng.choice(_WIDTHS)):
                key = rng.choice(["k", 1, None, (1, 2), b"bk", "\udcffk", BrokenStr(), 2.5, Color.RED])
                mapping[key] = _random_data(rng, ancestors, depth - 1)
            ancestors.pop()
            return mapping
        sequence: list[Any] = []
        ancestors.append(sequence)
        for _ in range(rng.choice(_WIDTHS)):
            sequence.append(_random_data(rng, ancestors, depth - 1))
        ancestors.pop()
        return sequence
    return rng.choice(_hostile_leaves())


@pytest.mark.parametrize("max_value_length", [None, 3, 20])
def test_random_hostile_data_never_raises_and_relay_accepts_it(max_value_length: int | None) -> None:
    """Random nested data with hostile values, odd keys and cycles, in every user data area, gives
    strict UTF-8 JSON that Relay's normalizer accepts without an error."""
    rng = random.Random(1234)
    for _ in range(100):
        data = [_random_data(rng, [], 8) for _ in range(5)]
        raw = frame_event({"v": data[0]})
        raw["extra"] = {"a": data[1]}
        raw["request"] = {"data": data[2]}
        raw["breadcrumbs"] = {"values": [{"message": "crumb", "data": {"d": data[3]}}]}
        raw["contexts"] = {"custom": {"value": data[4]}}
        serialized = serialize_event(raw, max_value_length=max_value_length)
        assert serialized == to_wire(serialized)
        check_event(serialized)


def test_hostile_values_become_readable_strings() -> None:
    """Each kind of value JSON cannot hold becomes a string a person can read."""
    aware = datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    extra = {
        "nan": float("nan"),
        "inf": float("inf"),
        "-inf": -float("inf"),
        "bytes": b"\xffab",
        "bytearray": bytearray(b"ab"),
        "broken": BrokenRepr(),
        "not_a_string": NotAString(),
        "huge_int": 2**70,
        "aware": aware,
        "naive": datetime.datetime(2024, 1, 2, 3, 4, 5),
        "date": datetime.date(2024, 1, 2),
    }
    assert {
        "nan": "nan",
        "inf": "inf",
        "-inf": "-inf",
        "bytes": "b'\\xffab'",
        "bytearray": "bytearray(b'ab')",
        "broken": "<broken repr of BrokenRepr>",
        "not_a_string": "<broken repr of NotAString>",
        "huge_int": str(2**70),
        "aware": "2024-01-02T01:04:05.000006Z",
        "naive": "2024-01-02T03:04:05.000000Z",
        "date": "2024-01-02",
    } == serialize_event(event(extra=extra))["extra"]


def test_json_values_keep_their_type() -> None:
    """Strings, ints (64-bit), finite floats, bools and None come out as they went in."""
    extra = {"s": "text", "i": -(2**63), "u": 2**64 - 1, "f": 1.5, "t": True, "n": None, "e": Color.RED}
    out = serialize_event(event(extra=extra))["extra"]
    assert {**extra, "e": 1} == out
    assert (int, bool) == (type(out["e"]), type(out["t"]))


def test_a_datetime_timestamp_becomes_an_iso_string_relay_accepts() -> None:
    """A datetime given as the event timestamp is sent as ISO-8601 UTC."""
    stamp = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    serialized = serialize_event(event(timestamp=stamp))
    assert "2024-05-06T07:08:09.000000Z" == serialized["timestamp"]
    check_event(serialized)


def test_lone_surrogates_are_escaped_so_the_envelope_can_be_written() -> None:
    """Strings and keys UTF-8 cannot encode (lone surrogates, as from undecodable file names) are escaped."""
    serialized = serialize_event(frame_event({"\udcffkey": "bad \udcff"}, abs_path="/srv/\udcff.py"))
    assert {"\\udcffkey": "bad \\udcff"} == frame_vars(serialized)
    assert "/srv/\\udcff.py" == serialized["exception"]["values"][0]["stacktrace"]["frames"][0]["abs_path"]
    to_wire(serialized)


def test_a_huge_repr_is_bounded() -> None:
    """An object with an enormous repr costs at most 1024 characters in the event."""
    assert 1024 == len(frame_vars(serialize_event(frame_event({"obj": HugeRepr()})))["obj"])


def test_subclasses_whose_methods_raise_are_read_as_their_base_type() -> None:
    """str, dict and list subclasses that break their own methods still serialize to their contents."""
    extra = {"s": HostileStr("text"), "d": HostileDict(a=1), "l": HostileList([1, 2])}
    assert {"s": "text", "d": {"a": 1}, "l": [1, 2]} == serialize_event(event(extra=extra))["extra"]


def test_a_mapping_that_fails_to_iterate_becomes_a_placeholder() -> None:
    """A mapping (not a dict) whose methods raise becomes a string naming its type."""
    out = serialize_event(event(extra={"m": HostileMapping(), "ok": types.MappingProxyType({"k": "v"})}))
    assert {"m": "<broken repr of HostileMapping>", "ok": {"k": "v"}} == out["extra"]


def test_other_containers_become_lists() -> None:
    """Tuples, sets, frozensets and deques are sent as JSON arrays."""
    extra = {"t": (1, 2), "s": {3}, "f": frozenset({4}), "d": collections.deque([5, 6])}
    assert {"t": [1, 2], "s": [3], "f": [4], "d": [5, 6]} == serialize_event(event(extra=extra))["extra"]


def test_non_string_keys_become_strings() -> None:
    """Keys of any type become strings; a key whose str() raises falls back to its repr."""
    data = {1: "a", None: "b", (1, 2): "c", b"k": "d", BrokenStr(): "e", HostileStr("h"): "f", 2.5: "g"}
    expected = {"1": "a", "None": "b", "(1, 2)": "c", "b'k'": "d", "BrokenStr()": "e", "h": "f", "2.5": "g"}
    assert expected == frame_vars(serialize_event(frame_event({"data": data})))["data"]


# Cycles


def test_cycles_become_a_placeholder() -> None:
    """A container that contains itself shows the placeholder where it repeats."""
    loop: list[Any] = [1]
    loop.append(loop)
    mapping: dict[str, Any] = {"name": "m"}
    mapping["self"] = mapping
    out = serialize_event(event(extra={"loop": loop, "mapping": mapping}))["extra"]
    assert {"loop": [1, "<cyclic>"], "mapping": {"name": "m", "self": "<cyclic>"}} == out


def test_an_event_that_contains_itself_is_serialized_once() -> None:
    """An event reachable from its own user data is cut at the repeat."""
    raw = event(message="hi")
    raw["extra"] = {"event": raw}
    assert "<cyclic>" == serialize_event(raw)["extra"]["event"]


def test_a_value_referenced_twice_is_not_a_cycle() -> None:
    """The same object appearing in two places (not inside itself) is serialized in both."""
    shared = {"k": "v"}
    assert {"a": shared, "b": [shared, shared]} == serialize_event(
        event(extra={"a": shared, "b": [shared, shared]})
    )["extra"]


# Databag limits


def nested(levels: int) -> Any:
    """``levels`` dicts, each in the previous under the key of its level: {"1": {"2": ... "x"}}."""
    value: Any = "x"
    for level in range(levels, 0, -1):
        value = {str(level): value}
    return value


def test_databags_keep_five_levels_and_repr_the_rest() -> None:
    """Inside user data, the sixth level of containers is replaced by its repr."""
    out = serialize_event(event(extra={"deep": nested(7)}))["extra"]["deep"]
    assert "{'6': {'7': 'x'}}" == out["1"]["2"]["3"]["4"]["5"]


def test_frame_vars_count_as_the_first_level() -> None:
    """Frame locals are the databag root, so a local keeps four levels of its own."""
    out = frame_vars(serialize_event(frame_event({"local": nested(6)})))
    assert "{'5': {'6': 'x'}}" == out["local"]["1"]["2"]["3"]["4"]


_BAG_PLACES: list[tuple[str, Callable[[Any], dict[str, Any]], list[str]]] = [
    ("extra value", lambda v: event(extra={"k": v}), ["extra", "k"]),
    ("contexts value", lambda v: event(contexts={"k": v}), ["contexts", "k"]),
    ("user", lambda v: event(user=v), ["user"]),
    ("request data", lambda v: event(request={"data": v}), ["request", "data"]),
    ("request cookies", lambda v: event(request={"cookies": v}), ["request", "cookies"]),
    ("request headers", lambda v: event(request={"headers": v}), ["request", "headers"]),
    (
        "breadcrumb data",
        lambda v: event(breadcrumbs={"values": [{"message": "m", "data": v}]}),
        ["breadcrumbs", "values", "0", "data"],
    ),
    (
        "exception frame vars",
        lambda v: frame_event(v),
        ["exception", "values", "0", "stacktrace", "frames", "0", "vars"],
    ),
    (
        "thread frame vars",
        lambda v: frame_event(v, key="threads"),
        ["threads", "values", "0", "stacktrace", "frames", "0", "vars"],
    ),
]


def walk(data: Any, path: list[str]) -> Any:
    """The value at ``path`` (as written in ``_meta``: list indexes as strings)."""
    for part in path:
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


@pytest.mark.parametrize(("place", "build", "path"), _BAG_PLACES, ids=[p[0] for p in _BAG_PLACES])
def test_every_databag_is_cut_to_ten_items_with_the_length_in_meta(
    place: str, build: Callable[[Any], dict[str, Any]], path: list[str]
) -> None:
    """Each user data area keeps 10 items of a longer mapping and notes the original length."""
    serialized = serialize_event(build({f"key{i:02}": [i] * 30 for i in range(25)}))
    bag = walk(serialized, path)
    assert [f"key{i:02}" for i in range(10)] == list(bag)
    assert {"len": 25} == walk(serialized["_meta"], path)[""]
    assert {"len": 30} == walk(serialized["_meta"], path)["key00"][""]
    assert [0] * 10 == bag["key00"]


def test_sequences_and_sets_in_databags_are_cut_too() -> None:
    """Lists, tuples and sets in user data also keep 10 items and note their length."""
    serialized = serialize_event(
        event(extra={"big": list(range(50)), "tuple": tuple(range(11)), "set": set(range(12))})
    )
    extra = serialized["extra"]
    assert (list(range(10)), list(range(10)), 10) == (extra["big"], extra["tuple"], len(extra["set"]))
    assert {"big": {"": {"len": 50}}, "tuple": {"": {"len": 11}}, "set": {"": {"len": 12}}} == serialized[
        "_meta"
    ]["extra"]


def test_the_event_skeleton_is_not_cut() -> None:
    """Outside user data nothing is cut: many extras, breadcrumbs, frames and fingerprint parts all stay."""
    frames = [{"filename": "a.py", "function": f"f{i}", "lineno": i} for i in range(50)]
    raw = event(
        extra={f"k{i}": i for i in range(30)},
        breadcrumbs={"values": [{"message": str(i)} for i in range(100)]},
        exception={"values": [{"type": "E", "value": "v", "stacktrace": {"frames": frames}}]},
        fingerprint=[str(i) for i in range(20)],
    )
    serialized = serialize_event(raw)
    assert (30, 100, 50, 20) == (
        len(serialized["extra"]),
        len(serialized["breadcrumbs"]["values"]),
        len(serialized["exception"]["values"][0]["stacktrace"]["frames"]),
        len(serialized["fingerprint"]),
    )
    assert "_meta" not in serialized


def test_deep_data_outside_databags_is_bounded() -> None:
    """Arbitrarily deep data anywhere in the event comes out bounded in depth, without a recursion error."""
    deep: Any = "bottom"
    for _ in range(500):
        deep = [deep]
    serialized = serialize_event(event(logentry={"message": "m", "params": deep}, custom=deep))
    to_wire(serialized)
    # A top-level field Sentry does not know arrives under extra (see test_conform.py).
    for value in (serialized["extra"]["custom"], serialized["logentry"]["params"]):
        assert depth_of(value) <= 30
        while isinstance(value, list):
            value = value[0]
        assert value.startswith("[[[")


def test_existing_meta_is_merged_with_new_notes() -> None:
    """``_meta`` already in the event is kept, and the serializer's own notes are added to it."""
    raw = event(extra={"big": list(range(20))}, message="m" * 20)
    raw["_meta"] = {"extra": {"other": {"": {"len": 99}}}, "message": {"": {"rem": [["my_rule", "x"]]}}}
    meta = serialize_event(raw, max_value_length=10)["_meta"]
    assert {"other": {"": {"len": 99}}, "big": {"": {"len": 20}}} == meta["extra"]
    assert {"len": 20, "rem": [["my_rule", "x"], ["!limit", "s", 7, 10]]} == meta["message"][""]


# max_value_length


def test_long_strings_in_user_data_and_messages_are_cut_with_a_note() -> None:
    """With max_value_length, strings end with '...' at that length and ``_meta`` records the cut."""
    raw = frame_event({"local": "v" * 30}, context_line="c" * 30)
    raw["message"] = "m" * 30
    raw["exception"]["values"][0]["value"] = "e" * 30
    raw["extra"] = {"text": "x" * 30, "nested": {"list": ["y" * 30]}}
    raw["breadcrumbs"] = {"values": [{"message": "b" * 30, "data": {"d": "d" * 30}}]}
    serialized = serialize_event(raw, max_value_length=10)
    frame = serialized["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert ("mmmmmmm...", "eeeeeee...", "vvvvvvv...", "ccccccc...") == (
        serialized["message"],
        serialized["exception"]["values"][0]["value"],
        frame["vars"]["local"],
        frame["context_line"],
    )
    assert ("xxxxxxx...", ["yyyyyyy..."], "bbbbbbb...", "ddddddd...") == (
        serialized["extra"]["text"],
        serialized["extra"]["nested"]["list"],
        serialized["breadcrumbs"]["values"][0]["message"],
        serialized["breadcrumbs"]["values"][0]["data"]["d"],
    )
    note = {"": {"len": 30, "rem": [["!limit", "s", 7, 10]]}}
    meta = serialized["_meta"]
    assert note == meta["message"]
    assert note == meta["extra"]["nested"]["list"]["0"]
    assert note == meta["exception"]["values"]["0"]["stacktrace"]["frames"]["0"]["vars"]["local"]
    check_event(serialized)


def test_protocol_fields_are_never_cut() -> None:
    """max_value_length leaves the SDK's own fields whole: ids, levels, sdk, mechanism, frames, crumbs."""
    long = "z" * 40
    top = {
        key: long
        for key in (
            "platform",
            "type",
            "release",
            "dist",
            "environment",
            "server_name",
            "start_timestamp",
        )
    }
    frame = {
        "filename": long,
        "abs_path": long,
        "module": long,
        "function": long,
        "lineno": 10**6,
        "in_app": True,
    }
    # A level is one of a few words (any other is left out, see test_conform.py): never long.
    crumb = {"timestamp": "2024-01-02T03:04:05.000006Z", "type": long, "level": "warning", "message": "m"}
    raw = event(
        **top,
        level="warning",
        timestamp="2024-01-02T03:04:05.000006Z",
        breadcrumbs={"values": [crumb]},
        sdk={
            "name": long,
            "version": long,
            "packages": [{"name": long, "version": long}],
            "integrations": [long],
        },
        exception={
            "values": [
                {
                    "type": long,
                    "value": "v",
                    "mechanism": {"type": long, "handled": True, "data": {"k": long}},
                    "stacktrace": {"frames": [frame]},
                }
            ]
        },
    )
    serialized = serialize_event(raw, max_value_length=10)
    assert raw == serialized
    assert "_meta" not in serialized


def test_no_limit_keeps_long_strings_whole() -> None:
    """max_value_length=None (the default) keeps strings of any length."""
    assert "x" * 100_000 == serialize_event(event(extra={"k": "x" * 100_000}))["extra"]["k"]


def _capture_with_locals(**options: Any) -> dict[str, Any]:
    """The event ``capture_exception`` sends for a ValueError raised here, next to a long local."""
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, default_integrations=False, **options)
    # Unused here: the SDK reads it from the frame.
    long_local = "q" * 100  # noqa: F841
    try:
        raise ValueError("w" * 100)
    except ValueError:
        sentry_sdk.capture_exception()
    (captured,) = transport.events
    return captured


def test_a_captured_exception_with_a_small_limit_keeps_its_identity() -> None:
    """capture_exception with max_value_length=10 cuts locals and the message but not event_id or frames."""
    captured = _capture_with_locals(max_value_length=10)
    frame = captured["exception"]["values"][0]["stacktrace"]["frames"][-1]
    assert (32, "qqqqqqq...", "wwwwwww...") == (
        len(captured["event_id"]),
        frame["vars"]["long_local"],
        captured["exception"]["values"][0]["value"],
    )
    assert ("_capture_with_locals", __name__, __file__) == (
        frame["function"],
        frame["module"],
        frame["abs_path"],
    )


# Import cost


def test_importing_the_serializer_loads_no_other_module(
    run_script: Callable[[str], subprocess.CompletedProcess[str]],
) -> None:
    """The serializer imports nothing beyond what ``import sentry_sdk`` loads (no datetime, no typing,
    no re) but its own helpers."""
    result = run_script(
        "import importlib, sys\n"
        "import sentry_sdk\n"
        "sys.modules.pop('sentry_sdk._serializer', None)\n"
        "before = set(sys.modules)\n"
        "importlib.import_module('sentry_sdk._serializer')\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    expected = str(
        [
            f"sentry_sdk._{name}"
            for name in (
                "conform",
                "describe",
                "meta",
                "prebuilt",
                "serializer",
                "skeleton",
                "usercode",
                "values",
            )
        ]
    )
    assert (expected, "") == (result.stdout.strip(), result.stderr)


def test_a_bug_in_the_serializer_is_reported_not_hidden(
    monkeypatch: pytest.MonkeyPatch, sdk_errors_fail_tests: list[BaseException]
) -> None:
    """Should the walk itself fail, the capture still does not raise, and the failure reaches the
    SDK's internal error report (the ``sentry_sdk.errors`` log) rather than passing in silence."""
    from sentry_sdk import _serializer

    def broken(*args: object) -> object:
        raise RuntimeError("a bug in the walk")

    monkeypatch.setattr(_serializer._Walker, "shaped", broken)
    assert {} == serialize_event({"message": "hello"})
    assert ["a bug in the walk"] == [str(error) for error in sdk_errors_fail_tests]
    sdk_errors_fail_tests.clear()


def test_the_sdks_own_parts_reach_every_event_as_built_and_changes_do_not_carry_over() -> None:
    """The SDK's description and the runtime and OS contexts are copied, not walked; a before_send
    that changes them in one event leaves the next event's as they were."""

    def meddle(sent: dict[str, Any], hint: Any) -> dict[str, Any]:
        if sent["message"] != "one":
            return sent
        sent["sdk"]["packages"][0]["name"] = "changed"
        sent["sdk"]["integrations"].append("changed")
        sent["contexts"]["runtime"]["name"] = "changed"
        return sent

    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, before_send=meddle)
    sentry_sdk.capture_message("one")
    sentry_sdk.capture_message("two")
    first, second = transport.events
    assert "changed" == first["sdk"]["packages"][0]["name"] == first["contexts"]["runtime"]["name"]
    assert "pypi:sentry-sdk" == second["sdk"]["packages"][0]["name"]
    assert "changed" not in second["sdk"]["integrations"]
    assert platform.python_implementation() == second["contexts"]["runtime"]["name"]
    for sent in (first, second):
        check_event(sent)


def test_only_short_ascii_text_is_taken_as_the_sdks_clean_data() -> None:
    from sentry_sdk._prebuilt import Serialized, SerializedTree, serialized

    assert type(serialized({"a": "1"})) is Serialized
    assert type(serialized({"a": ["1", {"b": "2"}]})) is SerializedTree
    for unclean in ({"a": 1}, {"a": "é"}, {"a": "x" * 201}, {1: "a"}, {"a": [None]}):
        assert type(serialized(unclean)) is dict
    # Unclean data is walked as any other: the long string is cut.
    long = serialize_event(
        event(contexts={"runtime": serialized({"build": "x" * 5000})}), max_value_length=1024
    )
    assert len(long["contexts"]["runtime"]["build"]) < 5000
