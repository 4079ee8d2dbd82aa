"""The options ``init()`` and ``Client()`` accept: their defaults, type checks and environment fallbacks.

Everything wrong with the configuration is reported here, at ``init``, with the option's name in
the message; nothing later has to cope with a value of the wrong type.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from ._dsn import Dsn
from ._log import logger
from .consts import (
    DEFAULT_MAX_BREADCRUMBS,
    DEFAULT_MAX_STACK_FRAMES,
    DEFAULT_QUEUE_BYTES,
    DEFAULT_SHUTDOWN_TIMEOUT,
)

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    _Check = Callable[[Any], bool]


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _is_body_size(v: Any) -> bool:
    return v in ("never", "small", "medium", "always")


def _is_opt_bool(v: Any) -> bool:
    return v is None or isinstance(v, bool)


def _is_opt_str(v: Any) -> bool:
    return v is None or isinstance(v, str)


def _is_opt_callable(v: Any) -> bool:
    return v is None or callable(v)


def _is_rate(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and 0.0 <= v <= 1.0


def _is_count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _is_opt_count(v: Any) -> bool:
    return v is None or _is_count(v)


def _is_positive(v: Any) -> bool:
    return _is_count(v) and v > 0


def _is_opt_positive(v: Any) -> bool:
    return v is None or _is_positive(v)


def _is_opt_str_dict(v: Any) -> bool:
    return v is None or (
        isinstance(v, dict) and all(isinstance(k, str) and isinstance(x, str) for k, x in v.items())
    )


def _is_opt_socket_options(v: Any) -> bool:
    return v is None or (
        isinstance(v, (list, tuple)) and all(isinstance(o, tuple) and len(o) == 3 for o in v)
    )


def _is_secret_option(v: Any) -> bool:
    return isinstance(v, bool) or _is_str_list(v)


def _is_opt_scrubber(v: Any) -> bool:
    return v is None or callable(getattr(v, "scrub_event", None))


def _is_opt_length(v: Any) -> bool:
    # Room for at least the "..." that marks a cut string.
    return v is None or (_is_count(v) and v >= 3)


def _is_seconds(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0


def _is_str_list(v: Any) -> bool:
    return isinstance(v, (list, tuple, set, frozenset)) and all(isinstance(x, str) for x in v)


def _is_opt_list(v: Any) -> bool:
    return v is None or isinstance(v, (list, tuple, set, frozenset))


def _is_error_filters(v: Any) -> bool:
    return isinstance(v, (list, tuple, set, frozenset)) and all(
        isinstance(x, str) or (isinstance(x, type) and issubclass(x, BaseException)) for x in v
    )


def _is_opt_rate(v: Any) -> bool:
    return v is None or _is_rate(v)


def _is_propagation_targets(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, (str, bytes)) or not isinstance(v, (list, tuple, set, frozenset)):
        return False
    return all(isinstance(t, str) or hasattr(t, "search") for t in v)


def _is_status_codes(v: Any) -> bool:
    if not isinstance(v, (set, frozenset, list, tuple, range)):
        return False
    return all(isinstance(c, int) and not isinstance(c, bool) for c in v)


def _is_experiments(v: Any) -> bool:
    if not isinstance(v, dict):
        return False
    spans = v.get("max_spans")
    return spans is None or (isinstance(spans, int) and not isinstance(spans, bool) and spans >= 0)


def _is_functions_to_trace(v: Any) -> bool:
    return isinstance(v, (list, tuple)) and all(
        isinstance(f, dict) and isinstance(f.get("qualified_name"), str) for f in v
    )


def _is_dsn(v: Any) -> bool:
    return v is None or isinstance(v, (str, Dsn))


def _any(v: Any) -> bool:
    return True


# name -> (default, check, what the check expects). These options are implemented.
_OPTIONS: dict[str, tuple[Any, _Check, str]] = {
    "dsn": (None, _is_dsn, "a DSN string or None"),
    "debug": (None, _is_opt_bool, "a bool"),
    "release": (None, _is_opt_str, "a string or None"),
    "environment": (None, _is_opt_str, "a string or None"),
    "server_name": (None, _is_opt_str, "a string or None"),
    "dist": (None, _is_opt_str, "a string or None"),
    "sample_rate": (1.0, _is_rate, "a number between 0 and 1"),
    "error_sampler": (None, _is_opt_callable, "a callable or None"),
    "max_breadcrumbs": (DEFAULT_MAX_BREADCRUMBS, _is_count, "a non-negative int"),
    "before_send": (None, _is_opt_callable, "a callable or None"),
    "before_send_transaction": (None, _is_opt_callable, "a callable or None"),
    "traces_sample_rate": (None, _is_opt_rate, "a number between 0 and 1, or None"),
    "traces_sampler": (None, _is_opt_callable, "a callable or None"),
    "enable_tracing": (None, _is_opt_bool, "a bool or None"),
    "propagate_traces": (True, _is_bool, "a bool"),
    "trace_propagation_targets": (
        [".*"],
        _is_propagation_targets,
        "a list of regular expressions (strings or compiled) or None",
    ),
    "strict_trace_continuation": (False, _is_bool, "a bool"),
    "trace_ignore_status_codes": (frozenset(), _is_status_codes, "a set of int HTTP status codes"),
    "functions_to_trace": ([], _is_functions_to_trace, "a list of {'qualified_name': str} dicts"),
    "org_id": (None, _is_opt_str, "an organization id string or None"),
    "_experiments": ({}, _is_experiments, "a dict (its 'max_spans': a non-negative int)"),
    "before_breadcrumb": (None, _is_opt_callable, "a callable or None"),
    "ignore_errors": ([], _is_error_filters, "a list of exception classes or names"),
    "in_app_include": ([], _is_str_list, "a list of module names"),
    "in_app_exclude": ([], _is_str_list, "a list of module names"),
    "project_root": (None, _is_opt_str, "a directory path or None"),
    "include_local_variables": (True, _is_bool, "a bool"),
    "include_source_context": (True, _is_bool, "a bool"),
    "attach_stacktrace": (False, _is_bool, "a bool"),
    "send_default_pii": (None, _is_opt_bool, "a bool"),
    "event_scrubber": (None, _is_opt_scrubber, "an EventScrubber or None"),
    "send_client_reports": (True, _is_bool, "a bool"),
    "spool_dir": (None, _is_opt_str, "a directory path or None"),
    "scrub_secrets": (True, _is_secret_option, "True, False or a list of regular expressions"),
    "cert_file": (None, _is_opt_str, "a file path or None"),
    "key_file": (None, _is_opt_str, "a file path or None"),
    "proxy_headers": (None, _is_opt_str_dict, "a dict of header names to values, or None"),
    "keep_alive": (False, _is_bool, "a bool"),
    "socket_options": (None, _is_opt_socket_options, "a list of (level, option, value) tuples, or None"),
    "max_value_length": (None, _is_opt_length, "an int of at least 3, or None"),
    "custom_repr": (None, _is_opt_callable, "a callable or None"),
    "max_stack_frames": (DEFAULT_MAX_STACK_FRAMES, _is_count, "a non-negative int"),
    "shutdown_timeout": (DEFAULT_SHUTDOWN_TIMEOUT, _is_seconds, "a non-negative number of seconds"),
    "transport": (None, _any, "a Transport, Transport subclass, callable or None"),
    "transport_queue_size": (None, _is_opt_positive, "a positive int or None"),
    "transport_queue_bytes": (DEFAULT_QUEUE_BYTES, _is_positive, "a positive int"),
    "http_proxy": (None, _is_opt_str, "a proxy URL, '' or None"),
    "https_proxy": (None, _is_opt_str, "a proxy URL, '' or None"),
    "ca_certs": (None, _is_opt_str, "a file path or None"),
    "integrations": ([], _is_opt_list, "a list of Integration instances"),
    "default_integrations": (True, _is_bool, "a bool"),
    "disabled_integrations": (None, _is_opt_list, "a list of Integration classes or instances"),
    "auto_enabling_integrations": (True, _is_bool, "a bool"),
    "max_request_body_size": ("medium", _is_body_size, "one of 'never', 'small', 'medium', 'always'"),
}

# Options sentry-sdk 2.x accepts that we take without acting on them yet, so code written for it
# still starts. ``with_locals`` is the pre-2.0 name of ``include_local_variables``.
_ACCEPTED_ONLY = frozenset(
    """
    add_full_stack enable_backpressure_handling auto_session_tracking trace_lifecycle
    ignore_spans before_send_span instrumenter enable_db_query_source
    db_query_source_threshold_ms enable_http_request_source http_request_source_threshold_ms
    stream_gen_ai_spans profiles_sample_rate profiles_sampler profiler_mode profile_lifecycle
    profile_session_sample_rate enable_logs before_send_log enable_metrics before_send_metric
    spotlight request_bodies
    """.split()
)

_RELEASE_ENV_VARS = (
    "HEROKU_BUILD_COMMIT",
    "HEROKU_SLUG_COMMIT",
    "SOURCE_VERSION",
    "CODEBUILD_RESOLVED_SOURCE_VERSION",
    "CIRCLE_SHA1",
    "GAE_DEPLOYMENT_ID",
    "K_REVISION",
)


def _git_head() -> str | None:
    import subprocess  # only needed at init, and only without SENTRY_RELEASE

    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            timeout=2,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    head = out.stdout.decode("ascii", "replace").strip()
    return head if out.returncode == 0 and head else None


def default_release() -> str | None:
    """The release sentry-sdk would pick: ``SENTRY_RELEASE``, the git HEAD, then CI variables."""
    release = os.environ.get("SENTRY_RELEASE") or _git_head()
    if release:
        return release
    for name in _RELEASE_ENV_VARS:
        if os.environ.get(name):
            return os.environ[name]
    return None


def _env_bool(name: str) -> bool | None:
    value = os.environ.get(name, "").strip().lower()
    if value in ("1", "true", "t", "yes", "y", "on"):
        return True
    if value in ("0", "false", "f", "no", "n", "off"):
        return False
    return None


def resolve_options(dsn: Any = None, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Validate user options and fill in defaults; raises ``TypeError``/``ValueError`` naming the option."""
    given = dict(options or {})
    if dsn is not None:
        if "dsn" in given:
            raise TypeError("dsn given both positionally and as a keyword")
        given["dsn"] = dsn
    if "with_locals" in given:
        with_locals = given.pop("with_locals")
        given.setdefault("include_local_variables", with_locals)

    rv: dict[str, Any] = {}
    for name, value in given.items():
        if name in _OPTIONS:
            _, check, expected = _OPTIONS[name]
            if not check(value):
                raise TypeError(f"sentry_sdk option {name!r} must be {expected}, got {value!r}")
        elif name in _ACCEPTED_ONLY:
            logger.debug("option %r is accepted for compatibility but has no effect yet", name)
        else:
            raise TypeError(f"unknown sentry_sdk option {name!r}")
        rv[name] = value
    for name, (default, _, _) in _OPTIONS.items():
        if name not in rv:
            if isinstance(default, (list, dict)):
                default = type(default)(default)  # each client gets its own container
            rv[name] = default

    if rv["dsn"] is None:
        rv["dsn"] = os.environ.get("SENTRY_DSN") or None
    elif rv["dsn"] == "":
        rv["dsn"] = None  # an explicit empty DSN turns sending off, even when SENTRY_DSN is set
    if rv["dsn"] is not None:
        rv["dsn"] = str(Dsn(rv["dsn"]))  # raises BadDsn (a ValueError) naming what is wrong
    if rv["debug"] is None:
        rv["debug"] = bool(_env_bool("SENTRY_DEBUG"))
    if rv["release"] is None:
        rv["release"] = default_release()
    if rv["environment"] is None:
        rv["environment"] = os.environ.get("SENTRY_ENVIRONMENT") or "production"
    if rv["server_name"] is None:
        import socket

        try:
            rv["server_name"] = socket.gethostname()
        except OSError:
            rv["server_name"] = None
    if rv["project_root"] is None:
        try:
            rv["project_root"] = os.getcwd()
        except OSError:
            rv["project_root"] = None
    rv["send_default_pii"] = bool(rv["send_default_pii"])
    return rv


__all__ = ["default_release", "resolve_options"]
