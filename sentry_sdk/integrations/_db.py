"""Database queries of the program: a ``query`` breadcrumb for each, and a ``db`` span in a trace.

Shared by the integrations of database drivers (``sqlite3``) and of the libraries above them
(SQLAlchemy). Every query leaves a breadcrumb (category ``query``, its message the SQL as given to
the driver). Inside a running span (a transaction) it is also a child span: op ``db``, the SQL as
its description, and what is known of the database as data: ``db.system``, ``db.name``,
``server.address`` and ``server.port``, with ``db.executemany`` for one statement run over many
rows; a query that raises ends its span with status ``internal_error``. Without a running span no
span object is made, so that a program that does not trace pays for a breadcrumb only.

Query parameters are never recorded, in breadcrumbs or spans, whatever ``send_default_pii`` says:
they are where passwords, tokens and personal data go. The SQL is kept as written, with its
placeholders, so the values bound to them stay out of it.

A library above a driver reports a query once: while its query is open, the driver-level layer
leaves that query's cursor alone (:func:`in_query`), so SQLAlchemy on ``sqlite3`` makes one span
and one breadcrumb per statement, not two.
"""

from __future__ import annotations

from contextvars import ContextVar

from .._log import report_internal_error
from ..api import get_current_span
from ..consts import OP, SPANDATA
from ..hub import Hub

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .._tracing.spans import Span

__all__ = ["Database", "OpenQuery", "finish_query", "in_query", "start_query"]

DB_EXECUTEMANY = "db.executemany"
DB_PARAMSTYLE = "db.paramstyle"

# The driver cursor of the query being recorded in this thread or task, if any. A cursor rather
# than a flag: should a library's "query done" hook never run (another hook raised before it), the
# stale value silences only that one cursor, not every later query of the thread.
_open_on: ContextVar[object] = ContextVar("sentry_db_query_cursor", default=None)


class Database:
    """What a query's span says of its database: ``system`` is ``db.system`` (``"sqlite"``,
    ``"postgresql"``...); ``paramstyle`` the DB-API placeholder style of its SQL."""

    __slots__ = ("address", "name", "paramstyle", "port", "system")

    def __init__(
        self,
        system: str,
        name: str | None = None,
        address: str | None = None,
        port: int | None = None,
        paramstyle: str | None = None,
    ) -> None:
        self.system = system
        self.name = name
        self.address = address
        self.port = port
        self.paramstyle = paramstyle


class OpenQuery:
    """A query started with :func:`start_query`, to be passed to :func:`finish_query`."""

    __slots__ = ("previous", "span")

    def __init__(self, span: Span | None, previous: object) -> None:
        self.span = span
        self.previous = previous


def in_query(cursor: object) -> bool:
    """Whether a query on ``cursor`` is being recorded already (by a library above the driver)."""
    return _open_on.get() is cursor


def start_query(
    sql: str, database: Database, cursor: object, origin: str, executemany: bool = False
) -> OpenQuery | None:
    """Record the start of a query on ``cursor``: its breadcrumb, and its span inside a running span.

    The caller checked that its integration is enabled; ``None`` if recording failed (reported).
    """
    try:
        data: dict[str, Any] = {}
        if database.paramstyle is not None:
            data[DB_PARAMSTYLE] = database.paramstyle
        if executemany:
            data[DB_EXECUTEMANY] = True
        # Added when the query starts, so that a query that fails or hangs is in the error's trail.
        Hub.current.add_breadcrumb(message=sql, category="query", data=data)
        span = None
        parent = get_current_span()
        if parent is not None and _sendable(parent):
            span = parent.start_child(op=OP.DB, name=sql, origin=origin)
            span.update_data(data)  # copied: the breadcrumb holds on to its own dict
            span.set_data(SPANDATA.DB_SYSTEM, database.system)
            if database.name:
                span.set_data(SPANDATA.DB_NAME, database.name)
            if database.address:
                span.set_data(SPANDATA.SERVER_ADDRESS, database.address)
            if database.port is not None:
                span.set_data(SPANDATA.SERVER_PORT, database.port)
        query = OpenQuery(span, _open_on.get())
        _open_on.set(cursor)
        return query
    except Exception:
        report_internal_error()
        return None


def _sendable(parent: Span) -> bool:
    """Whether a child of ``parent`` could still be sent: not when unsampled, nor when its
    transaction has ended (a worker thread that inherited a span long gone, say)."""
    if parent.sampled is False:
        return False
    transaction = parent.containing_transaction
    return transaction is None or transaction.timestamp is None


def finish_query(query: OpenQuery, failed: bool) -> None:
    """End a query started with :func:`start_query`: it succeeded, or raised (``failed``)."""
    try:
        _open_on.set(query.previous)
        span = query.span
        if span is not None:
            if failed:
                span.set_status("internal_error")
            span.finish()
    except Exception:
        report_internal_error()
