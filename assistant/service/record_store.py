"""Where shopper data rows live: the one small interface (`RecordStore`) and its SQLite backend.

A row is (time, kind of record, customer pseudonym, keyed conversation tag, sealed bytes): the store never
sees anything in the clear but what retention, forgetting and per-conversation lookups need; sealing and
opening is `ShopperData`'s job. `SQLiteRecords` is today's single file (the default); the PostgreSQL backend
that serving replicas share is in postgres_store.py. `open_records` picks one from the settings.
"""

from __future__ import annotations

import sqlite3
import threading
from abc import ABC, abstractmethod
from pathlib import Path

from assistant.core.config import Settings
from assistant.core.errors import AisleError

FILE_NAME = "shopper-data.sqlite"
RECORDS = ("feedback", "turn")
Row = tuple[float, str, bytes]  # (created, customer, sealed)


class SharedStoreError(AisleError, RuntimeError):
    """The shared shopper-data store (PostgreSQL) cannot be reached or refused a statement."""


class RecordStore(ABC):
    """Sealed shopper-data rows, newest first on reading; safe to share between threads."""

    name: str  # what messages call it: a file path, or the database without its password

    @abstractmethod
    def insert(self, record: str, created: float, customer: str, tag: str, sealed: bytes) -> None:
        """Add one row (`record` is "feedback" or "turn")."""

    @abstractmethod
    def rows(self, record: str, tag: str | None = None, named_only: bool = False,
             limit: int | None = None) -> list[Row]:
        """Rows of one kind, newest first: of one conversation tag, of known customers only, at most `limit`."""

    @abstractmethod
    def counts(self, customer: str | None = None) -> dict[str, int]:
        """Rows by kind (of one customer, when given); kinds with no row are left out."""

    @abstractmethod
    def delete_customer(self, customer: str) -> None:
        """Delete every row of one customer pseudonym."""

    @abstractmethod
    def delete_before(self, cutoff: float) -> int:
        """Delete rows created before `cutoff` (seconds since the epoch); returns how many went."""

    @abstractmethod
    def meta(self, name: str) -> bytes | None:
        """A stored value of the store itself (the data-key check), None when unset."""

    @abstractmethod
    def set_meta(self, name: str, value: bytes) -> None:
        """Store a value of the store itself unless one is already set (the first writer wins)."""

    @abstractmethod
    def close(self) -> None:
        """Release the file or connection."""


SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    record TEXT NOT NULL CHECK (record IN ('feedback', 'turn')),
    customer TEXT NOT NULL,        -- pseudonym, or "" for an anonymous shopper
    conversation TEXT NOT NULL,    -- keyed tag of the conversation id, not the id
    sealed BLOB NOT NULL           -- everything else, encrypted
);
CREATE INDEX IF NOT EXISTS records_customer ON records (customer);
CREATE INDEX IF NOT EXISTS records_conversation ON records (conversation);
CREATE INDEX IF NOT EXISTS records_created ON records (created);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
"""


def where_clause(record: str, tag: str | None, named_only: bool, mark: str) -> tuple[str, tuple]:
    """The WHERE of a `rows` read, with `mark` as the parameter placeholder ("?" or "%s")."""
    if record not in RECORDS:
        raise ValueError(f"record must be one of {', '.join(RECORDS)}, got {record!r}")
    where, args = [f"record = {mark}"], [record]
    if tag is not None:
        where.append(f"conversation = {mark}")
        args.append(tag)
    if named_only:
        where.append("customer != ''")
    return " AND ".join(where), tuple(args)


class SQLiteRecords(RecordStore):
    """One SQLite file (mode 0600), deleted rows overwritten (`secure_delete`)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = str(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False)
        self.path.chmod(0o600)
        with self._lock, self._db:
            # Deleted rows (forget, retention) are overwritten, not left in free pages of the file.
            self._db.execute("PRAGMA secure_delete = ON")
            self._db.executescript(SQLITE_SCHEMA)

    def insert(self, record: str, created: float, customer: str, tag: str, sealed: bytes) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT INTO records (created, record, customer, conversation, sealed) "
                             "VALUES (?, ?, ?, ?, ?)", (created, record, customer, tag, sealed))

    def rows(self, record: str, tag: str | None = None, named_only: bool = False,
             limit: int | None = None) -> list[Row]:
        where, args = where_clause(record, tag, named_only, "?")
        sql = f"SELECT created, customer, sealed FROM records WHERE {where} ORDER BY id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            return [(created, customer, bytes(sealed)) for created, customer, sealed in
                    self._db.execute(sql, args).fetchall()]

    def counts(self, customer: str | None = None) -> dict[str, int]:
        where, args = ("WHERE customer = ?", (customer,)) if customer is not None else ("", ())
        with self._lock:
            return dict(self._db.execute(f"SELECT record, COUNT(*) FROM records {where} GROUP BY record",
                                         args).fetchall())

    def delete_customer(self, customer: str) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM records WHERE customer = ?", (customer,))

    def delete_before(self, cutoff: float) -> int:
        with self._lock, self._db:
            return self._db.execute("DELETE FROM records WHERE created < ?", (cutoff,)).rowcount

    def meta(self, name: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else bytes(row[0])

    def set_meta(self, name: str, value: bytes) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)", (name, value))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def shopper_data_path(settings: Settings) -> Path:
    """Where the encrypted feedback and turn logs of an installation live (the SQLite backend)."""
    return Path(settings.state_dir) / FILE_NAME
