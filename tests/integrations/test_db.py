"""Database queries as ``query`` breadcrumbs and ``db`` spans: sqlite3 (stdlib) and SQLAlchemy.

Real sqlite3 databases (files in ``tmp_path`` and ``:memory:``), real SQLAlchemy engines on them.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest
from frameworks import require

import sentry_sdk
from sentry_sdk.integrations.sqlalchemy import SqlalchemyIntegration
from sentry_sdk.testing import CapturingTransport

sqlalchemy = require("sqlalchemy")

from sqlalchemy import orm  # noqa: E402 - only once require() found SQLAlchemy
from sqlalchemy.dialects import registry  # noqa: E402
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite  # noqa: E402

SECRET = "s3cret-parameter-value"  # bound as a query parameter: must never be in an event


def _init(**options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    sentry_sdk.init(
        transport=transport,
        default_integrations=True,
        auto_enabling_integrations=False,
        integrations=[SqlalchemyIntegration()],
        **options,
    )
    return transport


def _transaction(transport: CapturingTransport) -> dict[str, Any]:
    (event,) = [e for e in transport.events if e.get("type") == "transaction"]
    return event


def _db_spans(transport: CapturingTransport) -> list[dict[str, Any]]:
    return [s for s in _transaction(transport)["spans"] if s["op"] == "db"]


def _query_crumbs(event: dict[str, Any]) -> list[dict[str, Any]]:
    crumbs: list[dict[str, Any]] = event.get("breadcrumbs", {}).get("values", [])
    return [c for c in crumbs if c.get("category") == "query"]


# -- sqlite3 --------------------------------------------------------------------------------------


def _sqlite_workload(conn: sqlite3.Connection) -> list[Any]:
    """Every way of running SQL on a connection; what each gives back, as the program sees it."""
    seen: list[Any] = []
    conn.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)")
    cursor = conn.execute("INSERT INTO item (name) VALUES (?)", ("a",))
    seen.append(("execute", cursor.rowcount, cursor.lastrowid, type(cursor).__name__))
    cursor = conn.executemany("INSERT INTO item (name) VALUES (?)", [("b",), ("c",)])
    seen.append(("executemany", cursor.rowcount, cursor.lastrowid))
    cursor = conn.cursor()
    cursor.execute("UPDATE item SET name = upper(name) WHERE id > ?", (1,))
    seen.append(("cursor.execute", cursor.rowcount, cursor.lastrowid))
    cursor.executemany("INSERT INTO item (name) VALUES (:name)", [{"name": "d"}])
    seen.append(("cursor.executemany", cursor.rowcount, cursor.lastrowid))
    cursor.executescript("INSERT INTO item (name) VALUES ('e'); INSERT INTO item (name) VALUES ('f');")
    seen.append(("cursor.executescript", cursor.rowcount))
    conn.executescript("CREATE TABLE other (x); DROP TABLE other;")
    rows = conn.execute("SELECT id, name FROM item ORDER BY id").fetchall()
    seen.append(("rows", rows, [d[0] for d in conn.execute("SELECT * FROM item").description]))
    conn.row_factory = sqlite3.Row
    row = conn.execute("SELECT name FROM item WHERE id = ?", (1,)).fetchone()
    seen.append(("row_factory", type(row).__name__, row["name"], conn.cursor().row_factory is sqlite3.Row))
    conn.row_factory = None
    with conn:  # the context manager commits (or rolls back) as it does untraced
        conn.execute("DELETE FROM item WHERE id = 6")
    try:
        with conn:
            conn.execute("DELETE FROM item WHERE id = 5")
            raise KeyError("rolled back")
    except KeyError:
        pass
    seen.append(("after transactions", conn.execute("SELECT count(*) FROM item").fetchone()))
    seen.append(("total_changes", conn.total_changes, conn.in_transaction))
    return seen


_WORKLOAD_SQL = [
    "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)",
    "INSERT INTO item (name) VALUES (?)",
    "INSERT INTO item (name) VALUES (?)",
    "UPDATE item SET name = upper(name) WHERE id > ?",
    "INSERT INTO item (name) VALUES (:name)",
    "INSERT INTO item (name) VALUES ('e'); INSERT INTO item (name) VALUES ('f');",
    "CREATE TABLE other (x); DROP TABLE other;",
    "SELECT id, name FROM item ORDER BY id",
    "SELECT * FROM item",
    "SELECT name FROM item WHERE id = ?",
    "DELETE FROM item WHERE id = 6",
    "DELETE FROM item WHERE id = 5",
    "SELECT count(*) FROM item",
]


def test_sqlite3_queries_in_a_transaction_are_db_spans_and_give_the_same_results(tmp_path: Path) -> None:
    """execute / executemany / executescript, on the connection and on a cursor: one ``db`` span
    each, the SQL as written (placeholders, no values), db.system sqlite, db.name the file, origin
    auto.db.sqlite3, db.executemany for executemany. What the program sees is what it sees untraced."""
    untraced = _sqlite_workload(sqlite3.connect(tmp_path / "untraced.db"))

    transport = _init(traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="job"):
        conn = sqlite3.connect(tmp_path / "traced.db")
        traced = _sqlite_workload(conn)
        conn.close()

    assert untraced == traced
    assert isinstance(conn, sqlite3.Connection)
    spans = _db_spans(transport)
    assert _WORKLOAD_SQL == [s["description"] for s in spans]
    assert {"auto.db.sqlite3"} == {s["origin"] for s in spans}
    assert {"sqlite"} == {s["data"]["db.system"] for s in spans}
    assert {str(tmp_path / "traced.db")} == {s["data"]["db.name"] for s in spans}
    assert [2, 4] == [i for i, s in enumerate(spans) if s["data"].get("db.executemany") is True]
    assert all("status" not in s for s in spans)


def test_a_query_under_an_ended_transaction_makes_no_span() -> None:
    """A span still current after its transaction ended (as a worker thread may inherit one) gets
    no children: they could never be sent. The breadcrumb is still left."""
    transport = _init(traces_sample_rate=1.0)
    transaction = sentry_sdk.start_transaction(name="job")
    transaction.finish()
    sentry_sdk.get_current_scope().span = transaction
    sqlite3.connect(":memory:").execute("SELECT 1")
    sentry_sdk.capture_message("after")
    (sent, event) = transport.events
    assert [] == sent["spans"]
    assert ["SELECT 1"] == [c["message"] for c in _query_crumbs(event)]


def test_an_in_memory_database_is_named_memory() -> None:
    transport = _init(traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="job"):
        sqlite3.connect(":memory:").execute("SELECT 1")
    (span,) = _db_spans(transport)
    assert ("SELECT 1", ":memory:") == (span["description"], span["data"]["db.name"])


def _failure(conn: sqlite3.Connection, sql: str) -> tuple[Any, ...]:
    with pytest.raises(sqlite3.Error) as info:
        conn.execute(sql)
    exc = info.value
    return type(exc), str(exc), exc.args, getattr(exc, "sqlite_errorname", None)


def test_a_failing_sqlite3_query_raises_as_untraced_and_its_span_is_internal_error() -> None:
    """The program gets the same exception (type, message, error name); the span records the failure."""
    untraced = _failure(sqlite3.connect(":memory:"), "SELEC 1")

    transport = _init(traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="job"):
        traced = _failure(sqlite3.connect(":memory:"), "SELEC 1")

    assert untraced == traced
    assert sqlite3.OperationalError is traced[0]
    (span,) = _db_spans(transport)
    assert ("SELEC 1", "internal_error") == (span["description"], span["status"])


def test_without_a_transaction_each_query_is_a_breadcrumb_and_parameters_never_appear() -> None:
    """No transaction: no span, a ``query`` breadcrumb per query (type default, the SQL as message)
    on the next event. The parameters' values are nowhere in what is sent."""
    transport = _init()
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE account (name TEXT, password TEXT)")
    conn.execute("INSERT INTO account VALUES (?, ?)", ("ann", SECRET))
    conn.executemany("INSERT INTO account VALUES (:n, :p)", [{"n": "bob", "p": SECRET}])
    assert (SECRET,) == conn.execute("SELECT password FROM account WHERE name = ?", ("ann",)).fetchone()
    sentry_sdk.capture_message("after the queries")

    (event,) = transport.events
    crumbs = _query_crumbs(event)
    assert [
        "CREATE TABLE account (name TEXT, password TEXT)",
        "INSERT INTO account VALUES (?, ?)",
        "INSERT INTO account VALUES (:n, :p)",
        "SELECT password FROM account WHERE name = ?",
    ] == [c["message"] for c in crumbs]
    assert {"default"} == {c["type"] for c in crumbs}
    assert {"db.paramstyle": "qmark", "db.executemany": True} == crumbs[2]["data"]
    assert SECRET not in json.dumps(event)
    assert "spans" not in event


def test_parameters_stay_out_of_spans_even_with_send_default_pii() -> None:
    transport = _init(traces_sample_rate=1.0, send_default_pii=True)
    with sentry_sdk.start_transaction(name="job"):
        conn = sqlite3.connect(":memory:")
        conn.execute("SELECT ?", (SECRET,))
        sentry_sdk.capture_message("inside")
    assert 2 == len(transport.events)
    assert all(SECRET not in json.dumps(event) for event in transport.events)
    message = next(e for e in transport.events if e.get("type") != "transaction")
    (crumb,) = _query_crumbs(message)
    assert ("SELECT ?", {"db.paramstyle": "qmark"}) == (crumb["message"], crumb["data"])


class _Connection(sqlite3.Connection):
    def answer(self) -> int:
        return 42


class _Cursor(sqlite3.Cursor):
    def first(self) -> Any:
        return self.fetchone()[0]


def test_the_programs_own_factories_are_kept_and_traced() -> None:
    """A ``factory`` (keyword or positional) and a cursor factory: still the program's classes,
    their methods work, and queries on them are spans."""
    transport = _init(traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="job"):
        conn = sqlite3.connect(":memory:", factory=_Connection)
        positional = sqlite3.connect(":memory:", 5.0, 0, "DEFERRED", True, _Connection)
        assert isinstance(conn, _Connection) and isinstance(positional, _Connection)
        assert (42, "_Connection") == (conn.answer(), type(conn).__name__)
        cursor = conn.cursor(_Cursor)
        assert isinstance(cursor, _Cursor)
        assert 1 == cursor.execute("SELECT 1").first()
        assert 2 == positional.cursor(factory=_Cursor).execute("SELECT 2").first()
        positional.execute("SELECT 3")
    assert ["SELECT 1", "SELECT 2", "SELECT 3"] == [s["description"] for s in _db_spans(transport)]


def test_factories_that_are_not_classes_are_called_as_given_and_left_untraced() -> None:
    transport = _init(traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="job"):
        conn = sqlite3.connect(":memory:", factory=functools.partial(sqlite3.Connection))
        assert sqlite3.Connection is type(conn)
        conn.execute("SELECT 1")
        traced = sqlite3.connect(":memory:")
        cursor = traced.cursor(lambda c: sqlite3.Cursor(c))
        assert sqlite3.Cursor is type(cursor)
        cursor.execute("SELECT 2")
        traced.execute("SELECT 3")
    assert ["SELECT 3"] == [s["description"] for s in _db_spans(transport)]


def test_sqlite3_is_untouched_when_the_sdk_is_not_initialised() -> None:
    """Patched (an earlier init), but no client: connect gives sqlite3's own classes, which work."""
    _init()
    sentry_sdk.get_global_scope().set_client(None)
    assert sentry_sdk.Hub.current.client is None
    conn = sqlite3.connect(":memory:")
    assert sqlite3.Connection is type(conn)
    assert sqlite3.Cursor is type(conn.execute("SELECT 1"))
    assert [(1,)] == conn.execute("SELECT ?", (1,)).fetchall()


def test_sqlite3_is_untouched_without_the_stdlib_integration() -> None:
    _init()
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, default_integrations=False, traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="job"):
        conn = sqlite3.connect(":memory:")
        assert sqlite3.Connection is type(conn)
        conn.execute("SELECT 1")
    assert [] == _db_spans(transport)


def test_a_traced_connection_records_nothing_once_no_client_wants_it() -> None:
    """Whether to record is decided per query: a connection made earlier just runs its queries."""
    first = _init()
    conn = sqlite3.connect(":memory:")
    second = CapturingTransport()
    sentry_sdk.init(transport=second, default_integrations=False)
    conn.execute("SELECT 1")
    sentry_sdk.capture_message("later")
    (event,) = second.events
    assert [] == _query_crumbs(event) and [] == first.events


# -- SQLAlchemy -----------------------------------------------------------------------------------


def _sqlalchemy_spans(transport: CapturingTransport) -> list[dict[str, Any]]:
    spans = _db_spans(transport)
    ours = [s for s in spans if s["origin"] == "auto.db.sqlalchemy"]
    # SQLAlchemy runs a few statements of its own straight on the driver when it first connects
    # (sqlite3 spans, rightly); a statement of the program's is never recorded by both layers.
    below = {s["description"] for s in spans if s["origin"] == "auto.db.sqlite3"}
    assert not below & {s["description"] for s in ours}
    assert all(d.startswith("PRAGMA") for d in below), below
    return ours


def test_sqlalchemy_core_statements_are_one_db_span_each(tmp_path: Path) -> None:
    """Core on a sqlite file: a span per statement with SQLAlchemy's SQL, db.system sqlite, db.name
    the file, origin auto.db.sqlalchemy; never a second sqlite3 span for the same statement."""
    transport = _init(traces_sample_rate=1.0)
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'core.db'}")
    metadata = sqlalchemy.MetaData()
    item = sqlalchemy.Table(
        "item",
        metadata,
        sqlalchemy.Column("id", sqlalchemy.Integer, primary_key=True),
        sqlalchemy.Column("name", sqlalchemy.String(20)),
    )
    with sentry_sdk.start_transaction(name="job"):
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(item.insert().values(name=SECRET))
            conn.execute(item.insert(), [{"name": "b"}, {"name": "c"}])
            names = conn.execute(sqlalchemy.select(item.c.name).order_by(item.c.id)).scalars().all()
    assert [SECRET, "b", "c"] == names

    spans = _sqlalchemy_spans(transport)
    descriptions = [s["description"] for s in spans]
    assert any(d.startswith("PRAGMA main.table_info") for d in descriptions)
    assert any(d.startswith("\nCREATE TABLE item") for d in descriptions)
    inserts = [s for s in spans if s["description"] == "INSERT INTO item (name) VALUES (?)"]
    assert [None, True] == [s["data"].get("db.executemany") for s in inserts]
    assert "SELECT item.name \nFROM item ORDER BY item.id" == descriptions[-1]
    assert {"sqlite"} == {s["data"]["db.system"] for s in spans}
    assert {str(tmp_path / "core.db")} == {s["data"]["db.name"] for s in spans}
    assert SECRET not in json.dumps(transport.events)
    engine.dispose()


def test_sqlalchemy_orm_session_statements_are_db_spans() -> None:
    """ORM: a declarative model, a Session adding and querying: its INSERT and SELECT are spans."""

    class Base(orm.DeclarativeBase):
        pass

    class User(Base):
        __tablename__ = "user_account"
        id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
        name: orm.Mapped[str] = orm.mapped_column(sqlalchemy.String(30))

    engine = sqlalchemy.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    transport = _init(traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="request"):
        with orm.Session(engine) as session:
            session.add_all([User(name="ann"), User(name="bob")])
            session.commit()
            names = session.scalars(sqlalchemy.select(User.name).where(User.id > 0).order_by(User.id)).all()
    assert ["ann", "bob"] == names

    spans = _sqlalchemy_spans(transport)
    *inserts, select = [s["description"] for s in spans]
    # SQLAlchemy decides how to batch the rows (one INSERT ... RETURNING each, here).
    assert inserts and all(d.startswith("INSERT INTO user_account (name) VALUES (?)") for d in inserts)
    assert select.startswith("SELECT user_account.name \nFROM user_account \nWHERE user_account.id > ?")
    assert {("db", "sqlite")} == {(s["op"], s["data"]["db.system"]) for s in spans}
    engine.dispose()


def test_a_failing_sqlalchemy_statement_propagates_unchanged_and_its_span_is_internal_error() -> None:
    """SQLAlchemy's own exception (wrapping sqlite3's) reaches the program; one span, failed."""
    engine = sqlalchemy.create_engine("sqlite://")
    with engine.connect() as conn, pytest.raises(sqlalchemy.exc.OperationalError) as untraced:
        conn.execute(sqlalchemy.text("SELECT * FROM missing"))
    transport = _init(traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="job"):
        with engine.connect() as conn, pytest.raises(sqlalchemy.exc.OperationalError) as traced:
            conn.execute(sqlalchemy.text("SELECT * FROM missing"))
        with engine.connect() as conn:
            assert 1 == conn.execute(sqlalchemy.text("SELECT 1")).scalar()  # the engine still works
    assert str(untraced.value) == str(traced.value)
    assert isinstance(traced.value.orig, sqlite3.OperationalError)
    failed, ok = _sqlalchemy_spans(transport)
    assert ("SELECT * FROM missing", "internal_error") == (failed["description"], failed["status"])
    assert ("SELECT 1", None) == (ok["description"], ok.get("status"))
    engine.dispose()


def test_sqlalchemy_on_sqlite_leaves_one_breadcrumb_per_statement() -> None:
    """Without a transaction: one ``query`` breadcrumb per statement, SQLAlchemy's, none from
    sqlite3 for the same statement; no parameter values."""
    engine = sqlalchemy.create_engine("sqlite://")
    with engine.connect() as conn:  # the first connection's own statements happen here, untraced
        conn.execute(sqlalchemy.text("SELECT 0"))
    transport = _init()
    with engine.connect() as conn:
        conn.execute(sqlalchemy.text("SELECT :value"), {"value": SECRET})
        conn.execute(sqlalchemy.text("SELECT 2"))
    sentry_sdk.capture_message("after")
    (event,) = transport.events
    assert [("SELECT ?", "qmark"), ("SELECT 2", "qmark")] == [
        (c["message"], c["data"]["db.paramstyle"]) for c in _query_crumbs(event)
    ]
    assert SECRET not in json.dumps(event)
    engine.dispose()


class _ServerDialect(SQLiteDialect_pysqlite):
    """sqlite under another name, taking (and ignoring) a server in its URL: a stand-in for a
    client-server database, which these tests cannot run."""

    name = "exampledb"
    supports_statement_cache = True

    def create_connect_args(self, url: Any) -> Any:
        return super().create_connect_args(sqlalchemy.engine.URL.create("sqlite", database=url.database))


def test_the_dialect_and_the_urls_server_are_the_spans_data(tmp_path: Path) -> None:
    """db.system is the dialect's name; server.address and server.port come from the URL; the
    URL's password is never recorded."""
    registry.register("exampledb", __name__, "_ServerDialect")
    engine = sqlalchemy.create_engine(f"exampledb://user:{SECRET}@db.example.org:6543/{tmp_path / 'x.db'}")
    transport = _init(traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="job"):
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT 1"))
    (span,) = [s for s in _sqlalchemy_spans(transport) if s["description"] == "SELECT 1"]
    assert {
        "db.system": "exampledb",
        "db.name": str(tmp_path / "x.db"),
        "server.address": "db.example.org",
        "server.port": 6543,
        "db.paramstyle": "qmark",
    } == span["data"]
    assert SECRET not in json.dumps(transport.events)
    engine.dispose()


def test_an_engine_created_before_init_is_traced(run_script: Callable[[str], CompletedProcess[str]]) -> None:
    """In a fresh interpreter: an engine made and used before ``init`` records its statements after."""
    result = run_script(
        "import json\n"
        "import sqlalchemy\n"
        "import sentry_sdk\n"
        "from sentry_sdk.testing import CapturingTransport\n"
        "engine = sqlalchemy.create_engine('sqlite://')\n"
        "with engine.connect() as conn:\n"
        "    conn.execute(sqlalchemy.text('SELECT 1'))\n"
        "transport = CapturingTransport()\n"
        "sentry_sdk.init(transport=transport, traces_sample_rate=1.0)\n"
        "with sentry_sdk.start_transaction(name='job'):\n"
        "    with engine.connect() as conn:\n"
        "        conn.execute(sqlalchemy.text('SELECT 2'))\n"
        "(event,) = transport.events\n"
        "print(json.dumps([[s['description'], s['origin']] for s in event['spans']]))\n"
    )
    assert 0 == result.returncode, result.stderr
    assert [["SELECT 2", "auto.db.sqlalchemy"]] == json.loads(result.stdout)


def test_sqlalchemy_imported_before_init_is_auto_enabled() -> None:
    sentry_sdk.init(transport=CapturingTransport())
    assert "sqlalchemy" in sentry_sdk.get_client().integrations


def test_init_does_not_import_sqlalchemy(run_script: Callable[[str], CompletedProcess[str]]) -> None:
    """In a fresh interpreter ``init`` leaves SQLAlchemy unimported; the program's import enables it."""
    result = run_script(
        "import sys\n"
        "import sentry_sdk\n"
        "sentry_sdk.init()\n"
        "print('sqlalchemy' in sys.modules)\n"
        "import sqlalchemy\n"
        "print('sqlalchemy' in sentry_sdk.get_client().integrations)\n"
    )
    assert 0 == result.returncode, result.stderr
    assert ["False", "True"] == result.stdout.split()


def test_the_integration_module_does_not_import_sqlalchemy(
    run_script: Callable[[str], CompletedProcess[str]],
) -> None:
    result = run_script(
        "import sys\nimport sentry_sdk.integrations.sqlalchemy\nprint('sqlalchemy' in sys.modules)\n"
    )
    assert 0 == result.returncode, result.stderr
    assert "False" == result.stdout.strip()


def test_setup_needs_sqlalchemy_1_4(monkeypatch: pytest.MonkeyPatch) -> None:
    """An older SQLAlchemy: DidNotEnable, naming the version found."""
    from sentry_sdk.integrations import DidNotEnable

    monkeypatch.setattr(sqlalchemy, "__version__", "1.3.24")
    with pytest.raises(DidNotEnable, match=r"SQLAlchemy 1\.3\.24 found; 1\.4 or newer"):
        SqlalchemyIntegration.setup_once()


def test_sqlite3_alone_needs_no_sqlalchemy() -> None:
    """The sqlite3 patch lives in the stdlib integration: SQLAlchemy disabled, sqlite3 still records."""
    transport = CapturingTransport()
    sentry_sdk.init(
        transport=transport,
        traces_sample_rate=1.0,
        disabled_integrations=[SqlalchemyIntegration],
    )
    engine = sqlalchemy.create_engine("sqlite://")
    with sentry_sdk.start_transaction(name="job"):
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT 7"))
    spans = _db_spans(transport)
    assert [("SELECT 7", "auto.db.sqlite3")] == [
        (s["description"], s["origin"]) for s in spans if not s["description"].startswith("PRAGMA")
    ]
    assert "sqlalchemy" not in sentry_sdk.get_client().integrations
    assert sys.modules["sqlalchemy"] is sqlalchemy
    engine.dispose()
