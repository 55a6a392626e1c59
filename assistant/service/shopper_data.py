"""What the assistant keeps about shoppers — feedback and a log of chat turns — encrypted at rest.

One SQLite file, `state_dir/shopper-data.sqlite`. In the clear are only what retention, forgetting and
per-conversation lookups need: the time, the customer's pseudonym (privacy/keys.py; "" for an anonymous
shopper), a keyed tag of the conversation id, and whether the row is feedback or a turn. Everything else
(product, kind of feedback, turn id, segment, shown products, message text) is sealed by
`privacy.DataCipher`. Message text is kept only when the store turns `log_messages` on, and then scrubbed
of personal data first (pii.py). Rows older than `retention_days` are deleted when the store opens and at
most hourly while it serves.

Feedback becomes interaction events for the next CF fit (`as_events`): a thumbs up counts as a click,
"bought it" as a purchase; a thumbs down hides the product for the conversation but adds no weight.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.core.config import Settings
from assistant.core.errors import AisleError
from assistant.privacy.pii import scrub
from assistant.privacy.keys import DataCipher, DataKeyError

FILE_NAME = "shopper-data.sqlite"
KINDS = ("up", "down", "bought")
EVENT_FOR_KIND = {"up": "click", "bought": "purchase"}
EXPIRE_EVERY_SECONDS = 3600.0
# What a damaged, locked or full shopper-data store, or a wrong data key, raises.
STORE_ERRORS = (sqlite3.Error, OSError, DataKeyError)


class StoreUnavailable(AisleError, RuntimeError):
    """Feedback could not be stored (the shopper-data store is damaged, locked, full, or the key is wrong)."""


SCHEMA = """
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


@dataclass(frozen=True)
class Feedback:
    """One piece of shopper feedback."""

    created: float
    customer: str
    conversation: str
    turn: str
    product: str
    kind: str
    message: str | None = None


@dataclass(frozen=True)
class TurnLog:
    """One logged chat turn: what was shown to whom (message text only when logging is on)."""

    created: float
    customer: str
    conversation: str
    turn: str
    segment: str
    shown: tuple[str, ...]
    message: str | None = None


class ShopperData:
    """The encrypted store; safe to share between threads."""

    def __init__(self, path: str | Path, cipher: DataCipher, log_messages: bool = False,
                 retention_days: float = 90.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.cipher = cipher
        self.log_messages = log_messages
        self.retention_days = retention_days
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False)
        self.path.chmod(0o600)
        with self._lock, self._db:
            # Deleted rows (forget, retention) are overwritten, not left in free pages of the file.
            self._db.execute("PRAGMA secure_delete = ON")
            self._db.executescript(SCHEMA)
        self._check_key()
        self._expired_at = 0.0
        self.expire()

    def _check_key(self) -> None:
        """Refuse a key other than the one the store was first written with (rows sealed under two keys
        would make every later read fail); DataKeyError says so at once."""
        with self._lock, self._db:
            row = self._db.execute("SELECT value FROM meta WHERE name = 'key_check'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta (name, value) VALUES ('key_check', ?)",
                                 (self.cipher.seal("aisle shopper data"),))
                return
        try:
            self.cipher.open(row[0])
        except DataKeyError:
            self._db.close()
            raise DataKeyError(f"{self.path} was written with another data key; set AISLE_DATA_KEY (or restore "
                               f"data.key) to the key it was written with") from None

    # ------------------------------------------------------------------ writing

    def add_feedback(self, customer: str, conversation: str, turn: str, product: str, kind: str,
                     message: str | None = None, created: float | None = None) -> Feedback:
        """Record feedback (now, unless `created` says when); `customer` must already be a pseudonym (or "")."""
        if kind not in KINDS:
            raise ValueError(f"feedback kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if not product or len(product) > 128 or len(conversation) > 64 or len(turn) > 64:
            raise ValueError("product, conversation and turn ids must be short non-empty strings")
        item = Feedback(time.time() if created is None else created, customer, conversation, turn, product, kind,
                        self._loggable(message))
        self._insert("feedback", item.created, customer, conversation,
                     {"conversation": conversation, "turn": turn, "product": product, "kind": kind,
                      "message": item.message})
        return item

    def log_turn(self, customer: str, conversation: str, turn: str, segment: str, shown: list[str],
                 message: str | None = None) -> TurnLog:
        """Record which products a turn showed (and, when logging is on, the scrubbed message)."""
        item = TurnLog(time.time(), customer, conversation, turn, segment, tuple(shown), self._loggable(message))
        self._insert("turn", item.created, customer, conversation,
                     {"conversation": conversation, "turn": turn, "segment": segment, "shown": list(shown),
                      "message": item.message})
        return item

    def _loggable(self, message: str | None) -> str | None:
        return scrub(message)[:2000] if self.log_messages and message else None

    def _insert(self, record: str, created: float, customer: str, conversation: str, payload: dict) -> None:
        sealed = self.cipher.seal(payload)
        with self._lock, self._db:
            self._db.execute("INSERT INTO records (created, record, customer, conversation, sealed) "
                             "VALUES (?, ?, ?, ?, ?)",
                             (created, record, customer, self.cipher.tag(conversation), sealed))
        if created - self._expired_at > EXPIRE_EVERY_SECONDS:
            self.expire()

    # ------------------------------------------------------------------ reading

    def _rows(self, where: str, args: tuple = (), limit: int | None = None) -> list[tuple[float, str, Any]]:
        sql = f"SELECT created, customer, sealed FROM records WHERE {where} ORDER BY id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [(created, customer, self.cipher.open(sealed)) for created, customer, sealed in rows]

    def recent(self, limit: int = 50) -> list[Feedback]:
        """The latest feedback, newest first."""
        return [Feedback(created, customer, p["conversation"], p["turn"], p["product"], p["kind"], p["message"])
                for created, customer, p in self._rows("record = 'feedback'", limit=limit)]

    def turns(self, limit: int = 50) -> list[TurnLog]:
        """The latest logged turns, newest first."""
        return [TurnLog(created, customer, p["conversation"], p["turn"], p["segment"], tuple(p["shown"]),
                        p["message"])
                for created, customer, p in self._rows("record = 'turn'", limit=limit)]

    def declined(self, conversation: str) -> set[str]:
        """Products the shopper turned down in a conversation."""
        rows = self._rows("record = 'feedback' AND conversation = ?", (self.cipher.tag(conversation),))
        return {p["product"] for _, _, p in rows if p["kind"] == "down"}

    def as_events(self) -> list[tuple[str, str, str, float, float]]:
        """Feedback of known customers as interaction rows (customer, product, event, time, value) for CF."""
        rows = self._rows("record = 'feedback' AND customer != ''")
        return [(customer, p["product"], EVENT_FOR_KIND[p["kind"]], created,
                 1.0 if p["kind"] == "bought" else float("nan"))
                for created, customer, p in reversed(rows) if p["kind"] in EVENT_FOR_KIND]

    def counts(self, customer: str | None = None) -> dict[str, int]:
        """Stored rows by kind (of one customer, when given)."""
        where, args = ("WHERE customer = ?", (customer,)) if customer is not None else ("", ())
        with self._lock:
            rows = self._db.execute(f"SELECT record, COUNT(*) FROM records {where} GROUP BY record", args).fetchall()
        return {"feedback": 0, "turn": 0, **dict(rows)}

    # ------------------------------------------------------------------ deleting

    def forget(self, customer: str) -> dict[str, int]:
        """Delete every row of one customer (by pseudonym); returns how many of each kind went."""
        if not customer:
            raise ValueError("forget needs a customer pseudonym")
        removed = self.counts(customer)
        with self._lock, self._db:
            self._db.execute("DELETE FROM records WHERE customer = ?", (customer,))
        return removed

    def expire(self, now: float | None = None) -> int:
        """Delete rows older than the retention period; returns how many went."""
        now = time.time() if now is None else now
        self._expired_at = now
        with self._lock, self._db:
            gone = self._db.execute("DELETE FROM records WHERE created < ?",
                                    (now - self.retention_days * 86400.0,)).rowcount
        return gone

    def import_plain_feedback(self, old: Path) -> int:
        """Move feedback from the unencrypted `feedback.sqlite` of earlier versions into this store, then
        delete the old file. Returns how many rows moved."""
        source = sqlite3.connect(str(old))
        try:
            rows = source.execute("SELECT created, customer, conversation, turn, product, kind, message "
                                  "FROM feedback ORDER BY id").fetchall()
        except sqlite3.DatabaseError:
            rows = []
        finally:
            source.close()
        for created, customer, conversation, turn, product, kind, message in rows:
            self.add_feedback(customer, conversation, turn, product, kind, message, created=created)
        old.unlink()
        return len(rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def shopper_data_path(settings: Settings) -> Path:
    """Where the encrypted feedback and turn logs of an installation live."""
    return Path(settings.state_dir) / FILE_NAME


def open_shopper_data(settings: Settings) -> ShopperData:
    """The installation's encrypted store of feedback and turn logs (older plain feedback imported once)."""
    from assistant.privacy.keys import data_cipher
    store = ShopperData(shopper_data_path(settings), data_cipher(settings.state_dir),
                        log_messages=settings.log_messages, retention_days=settings.retention_days)
    plain = Path(settings.state_dir) / "feedback.sqlite"  # written unencrypted by versions before 0.2
    if plain.is_file():
        store.import_plain_feedback(plain)
        store.expire()
    return store
