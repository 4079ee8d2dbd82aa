"""sqlite3: queries on the connections ``sqlite3.connect`` opens are breadcrumbs and ``db`` spans.

Part of the stdlib integration. Each ``execute``, ``executemany`` and ``executescript`` (on a
cursor, or the connection's shortcuts) leaves a ``query`` breadcrumb and, inside a running span,
is a ``db`` span (``db.system`` ``"sqlite"``, ``db.name`` the database as passed to ``connect``:
its file name or ``":memory:"``; origin ``auto.db.sqlite3``), as :mod:`._db` records them. The
query parameters are never recorded.

``Connection`` and ``Cursor`` are C types whose methods cannot be patched, so ``connect`` is
wrapped instead, while the current client has the stdlib integration enabled: it opens the
connection with a ``factory`` subclassing ``sqlite3.Connection`` (or the program's own factory,
subclassed on the fly), whose cursors are likewise subclasses of ``sqlite3.Cursor`` (or of the
program's cursor factory). ``isinstance`` checks, results, ``rowcount``, ``lastrowid``,
``row_factory``, exceptions and use as a context manager are as without the SDK; the type name is
kept too, only ``type(conn) is sqlite3.Connection`` is no longer true.

Not recorded: connections opened before ``init`` (or while the integration is not enabled),
``connect`` reached through a reference taken before ``init`` (``from sqlite3 import connect``),
factories that are not classes derived from ``Connection`` or ``Cursor``, and cursors made by
calling ``sqlite3.Cursor(conn)`` directly.
"""

from __future__ import annotations

import functools
import os

from .._log import report_internal_error
from ..hub import Hub
from ._db import Database, finish_query, in_query, start_query

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any

__all__ = ["patch_sqlite3"]

ORIGIN = "auto.db.sqlite3"
# The stdlib integration's identifier: looked up by name, as importing that module here would be
# circular (it imports this one).
_INTEGRATION = "stdlib"
# Where a traced connection keeps its Database (a slot: plain connections take no attributes).
_DATABASE_ATTR = "_sentry_database"
# connect()'s positional parameters before 'factory', and before 'uri'.
_FACTORY_INDEX = 5
_URI_INDEX = 7

# The sqlite3 module, and the traced subclass of its Cursor, once patched.
_sqlite3: Any = None
_cursor_class: Any = None


def _enabled() -> bool:
    client = Hub.current.client
    return client is not None and client.get_integration(_INTEGRATION) is not None


def patch_sqlite3(module: ModuleType) -> None:
    """Wrap ``module.connect`` (and ``sqlite3.dbapi2.connect``, the same function) to trace queries."""
    global _sqlite3, _cursor_class
    _sqlite3 = module
    _cursor_class = _traced_cursor_class(module.Cursor)
    original: Any = module.connect

    @functools.wraps(original)
    def connect(*args: Any, **kwargs: Any) -> Any:
        traced = None
        if _enabled():
            try:
                traced = _traced_arguments(args, kwargs)
            except Exception:
                report_internal_error()
        if traced is None:
            return original(*args, **kwargs)
        conn = original(*traced[0], **traced[1])
        try:
            database = Database("sqlite", _database_name(args, kwargs), paramstyle="qmark")
            setattr(conn, _DATABASE_ATTR, database)
        except Exception:
            report_internal_error()
        return conn

    setattr(module, "connect", connect)
    dbapi2 = getattr(module, "dbapi2", None)
    # SQLAlchemy and others call it from there ('from sqlite3 import dbapi2').
    if dbapi2 is not None and getattr(dbapi2, "connect", None) is original:
        setattr(dbapi2, "connect", connect)


def _traced_arguments(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
    """``connect``'s arguments with a traced factory in place of the given one; ``None`` if the
    given factory cannot be traced (the call then goes through as it is)."""
    if len(args) > _FACTORY_INDEX:
        factory = _traced_connection_class(args[_FACTORY_INDEX])
        if factory is None:
            return None
        return (*args[:_FACTORY_INDEX], factory, *args[_FACTORY_INDEX + 1 :]), kwargs
    factory = _traced_connection_class(kwargs.get("factory", _sqlite3.Connection))
    if factory is None:
        return None
    return args, {**kwargs, "factory": factory}


def _database_name(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    database = args[0] if args else kwargs.get("database")
    if not isinstance(database, (str, bytes, os.PathLike)):
        return None
    name = os.fsdecode(database)
    uri = args[_URI_INDEX] if len(args) > _URI_INDEX else kwargs.get("uri", False)
    if uri:
        name = name.partition("?")[0]  # a URI's query holds options, never the database's name
    return name


# -- the traced classes ---------------------------------------------------------------------------


def _traced_cursor_class(factory: Any) -> type | None:
    """The traced subclass of a cursor factory; ``None`` for a factory that is not a Cursor class."""
    if isinstance(factory, type) and issubclass(factory, _sqlite3.Cursor):
        return factory if issubclass(factory, _CursorTracing) else _subclass(_CursorTracing, factory)
    return None


def _traced_connection_class(factory: Any) -> type | None:
    """The traced subclass of a connection factory; ``None`` for one that is not a Connection class."""
    if isinstance(factory, type) and issubclass(factory, _sqlite3.Connection):
        return factory if issubclass(factory, _ConnectionTracing) else _subclass(_ConnectionTracing, factory)
    return None


# The traced subclasses made so far, by (mixin, base): a few (sqlite3's own classes and the
# program's factories), bounded all the same in case a program makes factory classes on the fly.
_subclasses: dict[tuple[type, type], type] = {}
_MAX_SUBCLASSES = 64


def _subclass(tracing: type, base: type) -> type:
    rv = _subclasses.get((tracing, base))
    if rv is None:
        namespace: dict[str, Any] = {
            # Slots only: instances take no more attributes than the program's class allows.
            "__slots__": (_DATABASE_ATTR,) if tracing is _ConnectionTracing else (),
            # Named as the class it traces, so reprs and error messages read as without the SDK.
            "__module__": base.__module__,
            "__qualname__": base.__qualname__,
            "__doc__": base.__doc__,
        }
        rv = type(base.__name__, (tracing, base), namespace)
        if len(_subclasses) >= _MAX_SUBCLASSES:
            _subclasses.clear()
        _subclasses[(tracing, base)] = rv
    return rv


def _start(cursor: Any, args: tuple[Any, ...], executemany: bool) -> Any:
    """The OpenQuery of a query about to run on ``cursor``, or ``None`` when it is not recorded."""
    try:
        if not args or not isinstance(args[0], str) or not _enabled() or in_query(cursor):
            return None  # a wrong call is left to sqlite3 to refuse
        database = getattr(cursor.connection, _DATABASE_ATTR, None) or Database("sqlite", paramstyle="qmark")
        return start_query(args[0], database, cursor, ORIGIN, executemany)
    except Exception:
        report_internal_error()
        return None


def _run(cursor: Any, run: Callable[..., Any], args: tuple[Any, ...], executemany: bool) -> Any:
    query = _start(cursor, args, executemany)
    if query is None:
        return run(*args)
    try:
        rv = run(*args)
    except BaseException:
        finish_query(query, True)
        raise
    finish_query(query, False)
    return rv


class _CursorTracing:
    """Mixed into a ``sqlite3.Cursor`` class: its three ways of running SQL are recorded."""

    __slots__ = ()

    def execute(self, *args: Any) -> Any:
        return _run(self, super().execute, args, False)  # type: ignore[misc]

    def executemany(self, *args: Any) -> Any:
        return _run(self, super().executemany, args, True)  # type: ignore[misc]

    def executescript(self, *args: Any) -> Any:
        return _run(self, super().executescript, args, False)  # type: ignore[misc]


class _ConnectionTracing:
    """Mixed into a ``sqlite3.Connection`` class: its cursors are traced, and so its shortcuts."""

    __slots__ = ()

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        traced = None
        try:
            if len(args) + len(kwargs) <= 1 and set(kwargs) <= {"factory"}:
                traced = _traced_cursor_class(args[0] if args else kwargs.get("factory", _sqlite3.Cursor))
        except Exception:
            report_internal_error()
        if traced is None:
            return super().cursor(*args, **kwargs)  # type: ignore[misc]
        return super().cursor(traced)  # type: ignore[misc]

    # sqlite3's shortcuts open a plain cursor in C, bypassing cursor(): a traced one is opened the
    # same way here, through Connection.cursor itself (not an override of the program's).

    def execute(self, *args: Any) -> Any:
        return _sqlite3.Connection.cursor(self, _cursor_class).execute(*args)

    def executemany(self, *args: Any) -> Any:
        return _sqlite3.Connection.cursor(self, _cursor_class).executemany(*args)

    def executescript(self, *args: Any) -> Any:
        return _sqlite3.Connection.cursor(self, _cursor_class).executescript(*args)
