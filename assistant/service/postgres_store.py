"""The PostgreSQL backend that serving replicas share: shopper-data rows (`PostgresRecords`, the same
`RecordStore` interface as the SQLite file) and the tables of shared_state.py (open conversations, staff
traces, forgotten customers).

Every table holds what SQLite holds: times, pseudonyms, keyed tags and sealed bytes, never text in the
clear. psycopg 3 is imported when a backend is made (`pip install 'psycopg[binary]'`); each object keeps
one connection (autocommit, one statement or one transaction at a time under a lock) and reconnects once
when the server dropped it. Any database error becomes `SharedStoreError` (one of `STORE_ERRORS`).
"""

from __future__ import annotations

import threading
from typing import Any, Sequence

from assistant.service.record_store import RecordStore, Row, SharedStoreError, where_clause

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS records (
        id BIGSERIAL PRIMARY KEY,
        created DOUBLE PRECISION NOT NULL,
        record TEXT NOT NULL CHECK (record IN ('feedback', 'turn')),
        customer TEXT NOT NULL,
        conversation TEXT NOT NULL,
        sealed BYTEA NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS records_customer ON records (customer)",
    "CREATE INDEX IF NOT EXISTS records_conversation ON records (conversation)",
    "CREATE INDEX IF NOT EXISTS records_created ON records (created)",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BYTEA NOT NULL)",
    """CREATE TABLE IF NOT EXISTS conversations (
        tag TEXT PRIMARY KEY,
        version BIGINT NOT NULL,
        updated DOUBLE PRECISION NOT NULL,
        customer TEXT NOT NULL,
        sealed BYTEA NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS conversations_customer ON conversations (customer)",
    "CREATE INDEX IF NOT EXISTS conversations_updated ON conversations (updated)",
    """CREATE TABLE IF NOT EXISTS traces (
        turn TEXT PRIMARY KEY,
        id BIGSERIAL UNIQUE,
        created DOUBLE PRECISION NOT NULL,
        customer TEXT NOT NULL,
        sealed BYTEA NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS traces_customer ON traces (customer)",
    "CREATE TABLE IF NOT EXISTS forgotten (pseudonym TEXT PRIMARY KEY)",
)
SCHEMA_LOCK = 0x416973_6C65  # advisory lock: replicas starting together create the tables one at a time


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ImportError("PostgreSQL support needs psycopg - install it with pip install 'psycopg[binary]'") from None
    return psycopg


def describe_dsn(dsn: str) -> str:
    """The database a DSN names, without its password (for messages and logs)."""
    try:
        info = _psycopg().conninfo.conninfo_to_dict(dsn)
    except Exception:
        return "postgresql (unreadable DSN)"
    return f"postgresql://{info.get('user', '')}@{info.get('host', '')}:{info.get('port', '')}/{info.get('dbname', '')}"


class Postgres:
    """One connection to the shared database, used by one thread at a time; the tables made on first use."""

    def __init__(self, dsn: str) -> None:
        if not dsn:
            raise SharedStoreError("shopper_store = postgresql needs postgres_dsn (set AISLE_POSTGRES_DSN)")
        self._psycopg = _psycopg()
        self.dsn = dsn
        self.name = describe_dsn(dsn)
        self._lock = threading.Lock()
        self._conn: Any = None
        self.transaction(list(SCHEMA), schema=True)

    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed:
            self._conn = self._psycopg.connect(self.dsn, autocommit=True, connect_timeout=10)
        return self._conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> tuple[list[tuple], int]:
        """Run one statement; returns (its rows, or [] when it returns none; its row count)."""
        return self.transaction([(sql, args)])[-1]

    def transaction(self, statements: list[tuple[str, Sequence[Any]] | str],
                    schema: bool = False) -> list[tuple[list[tuple], int]]:
        """Run statements in one transaction; a dropped connection is reopened and the whole tried once more."""
        psycopg = self._psycopg
        with self._lock:
            for attempt in (1, 2):
                try:
                    conn = self._connection()
                    out = []
                    with conn.transaction():
                        if schema:
                            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                        for statement in statements:
                            sql, args = (statement, ()) if isinstance(statement, str) else statement
                            cursor = conn.execute(sql, args)
                            out.append((cursor.fetchall() if cursor.description else [], cursor.rowcount))
                    return out
                except psycopg.OperationalError as err:
                    self._drop()
                    if attempt == 2:
                        raise SharedStoreError(f"{self.name}: {err}".strip()) from None
                except psycopg.Error as err:
                    raise SharedStoreError(f"{self.name}: {type(err).__name__}: {err}".strip()) from None
        raise AssertionError("unreachable")

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass
        self._conn = None

    def close(self) -> None:
        with self._lock:
            self._drop()


class PostgresRecords(RecordStore):
    """Shopper-data rows in the `records` table of the shared database."""

    def __init__(self, dsn: str) -> None:
        self.db = Postgres(dsn)
        self.name = self.db.name

    def insert(self, record: str, created: float, customer: str, tag: str, sealed: bytes) -> None:
        self.db.execute("INSERT INTO records (created, record, customer, conversation, sealed) "
                        "VALUES (%s, %s, %s, %s, %s)", (created, record, customer, tag, sealed))

    def rows(self, record: str, tag: str | None = None, named_only: bool = False,
             limit: int | None = None) -> list[Row]:
        where, args = where_clause(record, tag, named_only, "%s")
        sql = f"SELECT created, customer, sealed FROM records WHERE {where} ORDER BY id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [(created, customer, bytes(sealed)) for created, customer, sealed in self.db.execute(sql, args)[0]]

    def counts(self, customer: str | None = None) -> dict[str, int]:
        where, args = ("WHERE customer = %s", (customer,)) if customer is not None else ("", ())
        rows, _ = self.db.execute(f"SELECT record, COUNT(*) FROM records {where} GROUP BY record", args)
        return {record: int(count) for record, count in rows}

    def delete_customer(self, customer: str) -> None:
        self.db.execute("DELETE FROM records WHERE customer = %s", (customer,))

    def delete_before(self, cutoff: float) -> int:
        return self.db.execute("DELETE FROM records WHERE created < %s", (cutoff,))[1]

    def meta(self, name: str) -> bytes | None:
        rows, _ = self.db.execute("SELECT value FROM meta WHERE name = %s", (name,))
        return bytes(rows[0][0]) if rows else None

    def set_meta(self, name: str, value: bytes) -> None:
        self.db.execute("INSERT INTO meta (name, value) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                        (name, value))

    def close(self) -> None:
        self.db.close()
