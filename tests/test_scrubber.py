"""EventScrubber: sensitive values become "[Filtered]", with a ``_meta`` note Sentry understands."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from payload_check import check_event

import sentry_sdk
from sentry_sdk._serializer import serialize_event
from sentry_sdk.scrubber import DEFAULT_DENYLIST, DEFAULT_PII_DENYLIST, EventScrubber
from sentry_sdk.testing import CapturingTransport

FILTERED = "[Filtered]"
SUBSTITUTED = {"": {"rem": [["!config", "s"]]}}
REMOVED = {"": {"rem": [["!config", "x"]]}}


def scrubbed(event: dict[str, Any], **options: Any) -> dict[str, Any]:
    EventScrubber(**options).scrub_event(event)
    return event


def frames_event(*frame_vars: dict[str, Any]) -> dict[str, Any]:
    frames = [{"function": f"f{i}", "vars": v} for i, v in enumerate(frame_vars)]
    return {"exception": {"values": [{"type": "ValueError", "stacktrace": {"frames": frames}}]}}


# -- the lists


def test_the_default_lists_are_sentry_sdks() -> None:
    """DEFAULT_DENYLIST and DEFAULT_PII_DENYLIST hold the names sentry-sdk filters, as lists to extend."""
    assert [
        "password",
        "passwd",
        "secret",
        "api_key",
        "apikey",
        "auth",
        "credentials",
        "mysql_pwd",
        "privatekey",
        "private_key",
        "token",
        "session",
        "csrftoken",
        "sessionid",
        "x_csrftoken",
        "x_forwarded_for",
        "set_cookie",
        "cookie",
        "authorization",
        "proxy-authorization",
        "x_api_key",
        "aiohttp_session",
        "connect.sid",
        "csrf_token",
        "csrf",
        "_csrf",
        "_csrf_token",
        "PHPSESSID",
        "_session",
        "symfony",
        "user_session",
        "_xsrf",
        "XSRF-TOKEN",
    ] == DEFAULT_DENYLIST
    assert ["x_forwarded_for", "x_real_ip", "ip_address", "remote_addr"] == DEFAULT_PII_DENYLIST
    assert ["a", "b"] == EventScrubber(denylist=DEFAULT_DENYLIST + ["a", "b"]).denylist[-2:]


def test_a_denylist_that_is_not_a_list_of_strings_is_refused_at_construction() -> None:
    """A string, a non-iterable or a list with a non-string in it raises TypeError right away."""
    for bad in ("password", 3, ["password", 1]):
        with pytest.raises(TypeError):
            EventScrubber(denylist=bad)
        with pytest.raises(TypeError):
            EventScrubber(pii_denylist=bad)


# -- what sentry-sdk users observe


def test_a_password_in_extra_is_filtered_and_noted_in_meta() -> None:
    """``extra={"password": ...}`` is sent as "[Filtered]"; ``_meta`` says the SDK's configuration did it."""
    event = scrubbed({"extra": {"password": "hunter2", "job": 3}})
    assert {"password": FILTERED, "job": 3} == event["extra"]
    assert {"extra": {"password": SUBSTITUTED}} == event["_meta"]


def test_the_users_ip_address_is_removed_unless_pii_is_allowed() -> None:
    """By default ``user={"id": 1, "ip_address": ...}`` is sent as ``{"id": 1}``; with PII allowed, whole."""
    event = scrubbed({"user": {"id": 1, "ip_address": "1.2.3.4"}})
    assert {"id": 1} == event["user"]
    assert {"user": {"ip_address": REMOVED}} == event["_meta"]

    event = scrubbed({"user": {"id": 1, "ip_address": "1.2.3.4"}}, send_default_pii=True)
    assert {"id": 1, "ip_address": "1.2.3.4"} == event["user"]
    assert "_meta" not in event


def test_other_denied_keys_in_user_are_filtered() -> None:
    """A non-PII denied key in ``user`` (a token, say) keeps its place with the value "[Filtered]"."""
    event = scrubbed({"user": {"id": 1, "token": "t"}})
    assert {"id": 1, "token": FILTERED} == event["user"]
    assert {"user": {"token": SUBSTITUTED}} == event["_meta"]


def test_keys_match_whole_and_ignoring_case() -> None:
    """ "PASSWORD" and "Password" match "password"; "password2" and "my_password" do not."""
    event = scrubbed(
        {"extra": {"PASSWORD": 1, "Password": 2, "password2": 3, "my_password": 4, "phpsessid": 5}}
    )
    assert {
        "PASSWORD": FILTERED,
        "Password": FILTERED,
        "password2": 3,
        "my_password": 4,
        "phpsessid": FILTERED,
    } == (event["extra"])


def test_pii_keys_are_filtered_only_without_send_default_pii() -> None:
    """``x_real_ip`` and ``remote_addr`` are filtered by default and sent when PII is allowed."""
    data = {"x_real_ip": "1.2.3.4", "remote_addr": "5.6.7.8"}
    assert {"x_real_ip": FILTERED, "remote_addr": FILTERED} == scrubbed({"extra": dict(data)})["extra"]
    assert data == scrubbed({"extra": dict(data)}, send_default_pii=True)["extra"]


def test_custom_denylist_and_pii_denylist_replace_the_defaults() -> None:
    """A given denylist is the whole list: "password" is kept when only "pin" is denied."""
    event = scrubbed(
        {"extra": {"pin": 1234, "password": "x", "email": "a@b.c", "x_real_ip": "1.2.3.4"}},
        denylist=["PIN"],
        pii_denylist=["email"],
    )
    assert {"pin": FILTERED, "password": "x", "email": FILTERED, "x_real_ip": "1.2.3.4"} == event["extra"]


# -- every part of the event


def test_request_headers_cookies_body_query_and_env_are_scrubbed() -> None:
    """Headers match with dashes or underscores ("X-Api-Key", "X-Forwarded-For"); the other parts by name."""
    event = scrubbed(
        {
            "request": {
                "url": "https://example.com/login",
                "headers": {
                    "Authorization": "Bearer x",
                    "X-Api-Key": "k",
                    "X-Forwarded-For": "1.2.3.4",
                    "Proxy-Authorization": "p",
                    "Accept": "*/*",
                },
                "cookies": {"sessionid": "s", "theme": "dark"},
                "data": {"username": "bob", "password": "pw"},
                "query_string": {"token": "t", "page": "2"},
                "env": {"REMOTE_ADDR": "1.2.3.4", "SERVER_NAME": "web"},
            }
        }
    )
    request = event["request"]
    assert {
        "Authorization": FILTERED,
        "X-Api-Key": FILTERED,
        "X-Forwarded-For": FILTERED,
        "Proxy-Authorization": FILTERED,
        "Accept": "*/*",
    } == request["headers"]
    assert {"sessionid": FILTERED, "theme": "dark"} == request["cookies"]
    assert {"username": "bob", "password": FILTERED} == request["data"]
    assert {"token": FILTERED, "page": "2"} == request["query_string"]
    assert {"REMOTE_ADDR": FILTERED, "SERVER_NAME": "web"} == request["env"]
    assert "https://example.com/login" == request["url"]
    meta = event["_meta"]["request"]
    assert SUBSTITUTED == meta["headers"]["X-Api-Key"]
    assert SUBSTITUTED == meta["data"]["password"]


def test_a_request_body_that_is_not_a_mapping_is_left_alone() -> None:
    """A raw string body or query string is sent as it is: only mappings have keys to match."""
    request = {"data": "password=x", "query_string": "token=t", "cookies": "sessionid=s"}
    assert request == scrubbed({"request": dict(request)})["request"]


def test_each_context_is_scrubbed_but_never_replaced() -> None:
    """Keys in a context are filtered; a context named like a denied key stays an object, as Sentry wants."""
    event = scrubbed({"contexts": {"db": {"host": "h", "password": "p"}, "auth": {"provider": "x"}}})
    assert {"db": {"host": "h", "password": FILTERED}, "auth": {"provider": "x"}} == event["contexts"]
    assert {"contexts": {"db": {"password": SUBSTITUTED}}} == event["_meta"]


def test_the_trace_contexts_data_is_scrubbed() -> None:
    """A transaction's root span data (``contexts.trace.data``) is scrubbed like any span's data."""
    event = scrubbed({"contexts": {"trace": {"trace_id": "a" * 32, "data": {"token": "t", "n": 1}}}})
    assert {"token": FILTERED, "n": 1} == event["contexts"]["trace"]["data"]
    assert {"contexts": {"trace": {"data": {"token": SUBSTITUTED}}}} == event["_meta"]


def test_breadcrumb_data_is_scrubbed_in_both_forms() -> None:
    """``breadcrumbs.values[i].data`` and the older bare list ``breadcrumbs[i].data`` are both scrubbed."""
    crumbs = [{"message": "a"}, {"message": "b", "data": {"auth": "x", "url": "/"}}]
    event = scrubbed({"breadcrumbs": {"values": crumbs}})
    assert {"auth": FILTERED, "url": "/"} == event["breadcrumbs"]["values"][1]["data"]
    assert {"breadcrumbs": {"values": {"1": {"data": {"auth": SUBSTITUTED}}}}} == event["_meta"]

    event = scrubbed({"breadcrumbs": crumbs})
    assert {"auth": FILTERED, "url": "/"} == event["breadcrumbs"][1]["data"]
    assert {"breadcrumbs": {"1": {"data": {"auth": SUBSTITUTED}}}} == event["_meta"]


def test_local_variables_of_exception_and_thread_frames_are_scrubbed() -> None:
    """Frame ``vars`` are scrubbed in every exception and every thread; other frame fields are untouched."""
    event = frames_event({"x": 1}, {"secret": "s", "y": 2})
    event["threads"] = {
        "values": [{"stacktrace": {"frames": [{"function": "run", "vars": {"api_key": "k"}}]}}]
    }
    scrubbed(event)
    frames = event["exception"]["values"][0]["stacktrace"]["frames"]
    assert [
        {"function": "f0", "vars": {"x": 1}},
        {"function": "f1", "vars": {"secret": FILTERED, "y": 2}},
    ] == frames
    assert {"api_key": FILTERED} == event["threads"]["values"][0]["stacktrace"]["frames"][0]["vars"]
    assert {
        "exception": {"values": {"0": {"stacktrace": {"frames": {"1": {"vars": {"secret": SUBSTITUTED}}}}}}},
        "threads": {"values": {"0": {"stacktrace": {"frames": {"0": {"vars": {"api_key": SUBSTITUTED}}}}}}},
    } == event["_meta"]


def test_span_data_is_scrubbed() -> None:
    """``spans[i].data`` is scrubbed; the span's own fields are not."""
    event = scrubbed(
        {"spans": [{"op": "db", "data": {"db.system": "pg"}}, {"op": "http", "data": {"token": "t"}}]}
    )
    assert [{"op": "db", "data": {"db.system": "pg"}}, {"op": "http", "data": {"token": FILTERED}}] == event[
        "spans"
    ]
    assert {"spans": {"1": {"data": {"token": SUBSTITUTED}}}} == event["_meta"]


def test_parts_outside_the_scrubbed_ones_are_left_alone() -> None:
    """Tags, the message and the event's own fields are not among the scrubbed parts."""
    event = {"message": "token leaked", "tags": {"token": "t"}, "level": "error"}
    assert {"message": "token leaked", "tags": {"token": "t"}, "level": "error"} == scrubbed(dict(event))


# -- depth


def test_without_recursive_only_the_top_level_is_scrubbed() -> None:
    """A denied key nested inside a value of ``extra`` is kept unless ``recursive=True``."""
    event = scrubbed({"extra": {"config": {"password": "p"}, "items": [{"token": "t"}]}})
    assert {"config": {"password": "p"}, "items": [{"token": "t"}]} == event["extra"]
    assert "_meta" not in event


def test_recursive_descends_into_nested_mappings_and_lists() -> None:
    """With ``recursive=True`` nested keys are filtered and ``_meta`` has a note at each nested path."""
    event = scrubbed(
        {
            "extra": {
                "config": {"db": {"password": "p", "host": "h"}},
                "items": [{"token": "t"}, 2, ({"auth": 1},)],
            }
        },
        recursive=True,
    )
    assert {
        "config": {"db": {"password": FILTERED, "host": "h"}},
        "items": [{"token": FILTERED}, 2, [{"auth": FILTERED}]],
    } == event["extra"]
    assert {
        "extra": {
            "config": {"db": {"password": SUBSTITUTED}},
            "items": {"0": {"token": SUBSTITUTED}, "2": {"0": {"auth": SUBSTITUTED}}},
        }
    } == event["_meta"]


def test_recursive_applies_to_frames_and_reads_any_mapping() -> None:
    """A local variable holding a dict, or any other Mapping, is scrubbed inside when recursive."""

    class Settings(Mapping[str, Any]):
        def __init__(self, **values: Any) -> None:
            self._values = values

        def __getitem__(self, key: str) -> Any:
            return self._values[key]

        def __iter__(self) -> Iterator[str]:
            return iter(self._values)

        def __len__(self) -> int:
            return len(self._values)

    event = scrubbed(frames_event({"settings": Settings(secret="s", debug=True)}), recursive=True)
    frame_vars = event["exception"]["values"][0]["stacktrace"]["frames"][0]["vars"]
    assert {"settings": {"secret": FILTERED, "debug": True}} == frame_vars


def test_the_programs_own_objects_are_never_changed() -> None:
    """A dict the program holds (a local, a breadcrumb, a context) keeps its values; the event gets copies."""
    local = {"password": "p", "inner": {"token": "t"}}
    crumb = {"message": "login", "data": {"password": "p"}}
    context = {"password": "p"}
    frame_vars = {"local": local, "secret": "s"}
    event = frames_event(frame_vars)
    event["breadcrumbs"] = {"values": [crumb]}
    event["contexts"] = {"db": context}
    scrubbed(event, recursive=True)

    assert {"password": "p", "inner": {"token": "t"}} == local
    assert {"message": "login", "data": {"password": "p"}} == crumb
    assert {"password": "p"} == context
    assert {"local": local, "secret": "s"} == frame_vars
    scrubbed_vars = event["exception"]["values"][0]["stacktrace"]["frames"][0]["vars"]
    assert {
        "local": {"password": FILTERED, "inner": {"token": FILTERED}},
        "secret": FILTERED,
    } == scrubbed_vars
    assert {"password": FILTERED} == event["breadcrumbs"]["values"][0]["data"]


def test_cycles_end_and_shared_containers_are_scrubbed_everywhere() -> None:
    """A self-referencing dict does not loop; a dict on two paths is filtered on both, noted on the first."""
    cyclic: dict[str, Any] = {"token": "t"}
    cyclic["self"] = cyclic
    shared = {"auth": "a"}
    event = scrubbed({"extra": {"cyclic": cyclic, "one": shared, "two": [shared]}}, recursive=True)
    extra = event["extra"]
    assert FILTERED == extra["cyclic"]["token"]
    assert {"auth": FILTERED} == extra["one"] == extra["two"][0]
    meta = event["_meta"]["extra"]
    assert {"cyclic": {"token": SUBSTITUTED}, "one": {"auth": SUBSTITUTED}} == meta


def test_a_huge_graph_of_shared_dicts_is_walked_once_per_dict() -> None:
    """Twenty-five levels, each holding the next twice (2**25 paths), are scrubbed in well under a second."""
    node: dict[str, Any] = {"password": "p"}
    for _ in range(25):
        node = {"left": node, "right": node}
    started = time.perf_counter()
    event = scrubbed({"extra": {"graph": node}}, recursive=True)
    assert time.perf_counter() - started < 1.0
    expected: dict[str, Any] = {"password": SUBSTITUTED}
    for _ in range(25):
        expected = {"left": expected}
    assert {"extra": {"graph": expected}} == event["_meta"], "one note, on the first path only"
    bottom = event["extra"]["graph"]
    for _ in range(25):
        bottom = bottom["right"]
    assert {"password": FILTERED} == bottom


# -- odd input


def test_odd_input_is_skipped_without_an_error() -> None:
    """Areas of the wrong type, non-string keys, str subclasses and broken mappings are handled quietly."""

    class Key(str):
        def lower(self) -> str:
            raise RuntimeError("never called")

    class Broken(Mapping[str, Any]):
        def __getitem__(self, key: str) -> Any:
            raise RuntimeError("broken")

        def __iter__(self) -> Iterator[str]:
            raise RuntimeError("broken")

        def __len__(self) -> int:
            return 1

    scrubber = EventScrubber(recursive=True)
    for event in (
        None,
        [],
        "event",
        {"extra": None, "user": "bob", "request": [1], "contexts": {"os": "linux"}},
        {"breadcrumbs": {"values": [None, 3, {"data": ["x"]}]}, "spans": {"data": 1}},
        {"exception": {"values": [{"stacktrace": None}, {"stacktrace": {"frames": [None, {"vars": 7}]}}]}},
        {"threads": 5, "stacktrace": "x", "_meta": "not a dict"},
        {"extra": {"broken": Broken(), 1: {"token": "t"}, b"password": "bytes", (1, 2): "tuple"}},
    ):
        scrubber.scrub_event(event)  # type: ignore[arg-type]

    class Sneaky(dict[str, Any]):
        def keys(self) -> Any:
            raise RuntimeError("keys")

        def items(self) -> Any:
            raise RuntimeError("items")

        def __iter__(self) -> Any:
            raise RuntimeError("iter")

    event = {"extra": Sneaky(token="t", inner=Sneaky(auth="a"))}
    scrubber.scrub_event(event)
    assert {"token": FILTERED, "inner": {"auth": FILTERED}} == dict(dict.items(event["extra"]))

    event = {"extra": {Key("Password"): "p", 7: {"token": "t"}}}
    scrubber.scrub_event(event)
    assert {"Password": FILTERED, 7: {"token": FILTERED}} == event["extra"]
    assert {"Password": SUBSTITUTED, "7": {"token": SUBSTITUTED}} == event["_meta"]["extra"]


def test_a_meta_already_in_the_event_is_kept_and_added_to() -> None:
    """Notes already in ``_meta`` (from an integration, say) stay; the scrubber's are merged in."""
    event = scrubbed(
        {
            "extra": {"password": "p"},
            "request": {"data": {"token": "t"}},
            "_meta": {
                "request": {"data": {"": {"len": 5000}}},
                "extra": {"password": {"": {"rem": [["other", "s"]]}}},
            },
        }
    )
    assert {
        "request": {"data": {"": {"len": 5000}, "token": SUBSTITUTED}},
        "extra": {"password": {"": {"rem": [["other", "s"], ["!config", "s"]]}}},
    } == event["_meta"]


# -- the helpers sentry-sdk users call


def test_scrub_dict_and_scrub_list_work_in_place() -> None:
    """``scrub_dict(d)`` filters d's own keys and ``scrub_list(l)`` the dicts inside l, without an event."""
    scrubber = EventScrubber()
    d = {"password": "p", "nested": {"token": "t"}}
    scrubber.scrub_dict(d)
    assert {"password": FILTERED, "nested": {"token": "t"}} == d

    items: list[Any] = [{"token": "t"}, "text", [{"auth": 1}]]
    scrubber.scrub_list(items)
    assert [{"token": FILTERED}, "text", [{"auth": 1}]] == items

    EventScrubber(recursive=True).scrub_list(items)
    assert [{"token": FILTERED}, "text", [{"auth": FILTERED}]] == items


def test_each_part_can_be_scrubbed_on_its_own() -> None:
    """The per-part methods (``scrub_extra``, ``scrub_user`` ...) each scrub only their part."""
    scrubber = EventScrubber()
    event: dict[str, Any] = {
        "extra": {"token": "t"},
        "user": {"token": "t"},
        "spans": [{"data": {"token": "t"}}],
    }
    scrubber.scrub_user(event)
    assert ({"token": "t"}, {"token": FILTERED}) == (event["extra"], event["user"])
    scrubber.scrub_extra(event)
    scrubber.scrub_spans(event)
    assert {"token": FILTERED} == event["extra"] == event["spans"][0]["data"]
    for method in ("scrub_request", "scrub_breadcrumbs", "scrub_frames", "scrub_contexts"):
        getattr(scrubber, method)({})


# -- what Sentry receives


def test_sentry_accepts_a_scrubbed_event_and_keeps_the_notes() -> None:
    """Relay's normalizer flags nothing in a scrubbed, serialized event and keeps the "!config" remarks."""
    event = frames_event({"password": "p"})
    event.update(
        event_id="a" * 32,
        platform="python",
        user={"id": "1", "ip_address": "1.2.3.4", "email": "a@b.c"},
        extra={"token": "t"},
        request={"headers": {"Authorization": "x"}, "cookies": {"sessionid": "s"}},
        contexts={"db": {"password": "p"}},
        breadcrumbs={"values": [{"message": "m", "data": {"auth": "a"}}]},
    )
    wire = serialize_event(scrubbed(event))
    check_event(wire)

    processing = pytest.importorskip("sentry_relay.processing")
    normalized = processing.StoreNormalizer(remove_other=True).normalize_event(
        raw_event=json.dumps(wire).encode("utf-8")
    )
    remarks = json.dumps(normalized["_meta"])
    assert 5 <= remarks.count('["!config", "s"]')
    assert "ip_address" not in normalized["user"] or normalized["user"]["ip_address"] is None


@pytest.fixture
def client_with_scrubber_option() -> Iterator[None]:
    options = sentry_sdk.Client(default_integrations=False).options
    if "event_scrubber" not in options:
        pytest.skip("the client has no event_scrubber option yet, so it does not run the scrubber")
    yield


@pytest.mark.usefixtures("client_with_scrubber_option")
def test_events_captured_through_the_sdk_are_scrubbed() -> None:
    """With default options a captured event has its password filtered and its user's IP address removed."""
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, default_integrations=False)
    sentry_sdk.set_user({"id": 1, "ip_address": "1.2.3.4"})
    sentry_sdk.set_extra("password", "hunter2")
    sentry_sdk.capture_message("hello")
    (event,) = transport.events
    assert FILTERED == event["extra"]["password"]
    assert "ip_address" not in event["user"]
    assert SUBSTITUTED == event["_meta"]["extra"]["password"]


@pytest.mark.usefixtures("client_with_scrubber_option")
def test_the_event_scrubber_option_takes_a_configured_scrubber() -> None:
    """``init(event_scrubber=EventScrubber(denylist=[...], recursive=True))`` is the scrubber used."""
    transport = CapturingTransport()
    sentry_sdk.init(
        transport=transport,
        default_integrations=False,
        event_scrubber=EventScrubber(denylist=["pin"], recursive=True),
    )
    sentry_sdk.set_extra("card", {"pin": 1234, "password": "kept"})
    sentry_sdk.capture_message("hello")
    (event,) = transport.events
    assert {"pin": FILTERED, "password": "kept"} == event["extra"]["card"]
