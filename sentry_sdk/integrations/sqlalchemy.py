"""SQLAlchemy: every statement an engine runs is a ``query`` breadcrumb and, in a trace, a ``db`` span.

Three of SQLAlchemy's own events are listened to on the ``Engine`` class, so every engine is
covered, created before or after ``init``; nothing of SQLAlchemy's is patched. For each statement
sent to the database (Core or ORM alike): a breadcrumb (category ``query``, the SQL as its message)
and, inside a running span, a ``db`` span with the SQL as its description, ``db.system`` the
dialect's name (``"postgresql"``, ``"sqlite"``...), ``db.name``, ``server.address`` and
``server.port`` from the engine's URL, and ``db.executemany`` for a statement run over many rows;
origin ``auto.db.sqlalchemy``. A statement that fails ends its span with status ``internal_error``,
and the exception goes on to the program as it would without the SDK.

The SQL is recorded as SQLAlchemy sends it, with its placeholders: the parameters bound to them
are never recorded (they are where passwords and personal data go). A statement run through the
``sqlite3`` driver is recorded once, here, not a second time by the stdlib integration.

SQLAlchemy 1.4 or newer; it is imported only when the program imports it.
"""

from __future__ import annotations

from .._log import report_internal_error
from ..hub import Hub
from . import DidNotEnable, Integration
from ._db import Database, finish_query, start_query
from ._versions import parse_version

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["SqlalchemyIntegration"]

MINIMUM_VERSION = (1, 4)
ORIGIN = "auto.db.sqlalchemy"
# Where a statement's OpenQuery waits on its execution context, between the events around it.
_QUERY_ATTR = "_sentry_query"


class SqlalchemyIntegration(Integration):
    """Records the statements of every SQLAlchemy engine as breadcrumbs and ``db`` spans."""

    identifier = "sqlalchemy"

    @staticmethod
    def setup_once() -> None:
        try:
            import sqlalchemy
            from sqlalchemy import event
            from sqlalchemy.engine import Engine
        except ImportError:
            raise DidNotEnable("SQLAlchemy is not installed") from None
        version = str(getattr(sqlalchemy, "__version__", ""))
        if parse_version(version) < MINIMUM_VERSION:
            raise DidNotEnable(f"SQLAlchemy {version} found; 1.4 or newer is required")
        event.listen(Engine, "before_cursor_execute", _before_cursor_execute)
        event.listen(Engine, "after_cursor_execute", _after_cursor_execute)
        event.listen(Engine, "handle_error", _handle_error)


def _enabled() -> bool:
    client = Hub.current.client
    return client is not None and client.get_integration(SqlalchemyIntegration) is not None


def _before_cursor_execute(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    try:
        # Without an execution context (a few of SQLAlchemy's internal statements) there is nowhere
        # to keep the query until it ends: the driver-level integration, if any, records it instead.
        if context is None or not _enabled():
            return
        dialect = conn.dialect
        url = conn.engine.url
        database = Database(dialect.name, url.database, url.host, url.port, dialect.paramstyle)
        query = start_query(statement, database, cursor, ORIGIN, bool(executemany))
        if query is not None:
            setattr(context, _QUERY_ATTR, query)
    except Exception:
        report_internal_error()


def _after_cursor_execute(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    _finish(context, False)


def _handle_error(exception_context: Any) -> None:
    try:
        _finish(exception_context.execution_context, True)
    except Exception:
        report_internal_error()


def _finish(context: Any, failed: bool) -> None:
    try:
        query = getattr(context, _QUERY_ATTR, None)
        if query is not None:
            # Taken off at once: the same context runs several statements (batched INSERTs), and
            # an error after the statement ran must not end its span a second time.
            setattr(context, _QUERY_ATTR, None)
            finish_query(query, failed)
    except Exception:
        report_internal_error()
