"""What the assistant keeps about shoppers — feedback and a log of chat turns — encrypted at rest.

One SQLite file, `state_dir/shopper-data.sqlite` (default), or a PostgreSQL database that serving replicas
share (`shopper_store = "postgresql"`; record_store.py holds the interface both implement). In the clear are
only what retention, forgetting and per-conversation lookups need: the time, the customer's pseudonym
(privacy/keys.py; "" for an anonymous shopper), a keyed tag of the conversation id, and whether the row is
feedback or a turn. Everything else (product, kind of feedback, turn id, segment, shown products, message
text) is sealed by `privacy.DataCipher`. Message text is kept only when the store turns `log_messages` on,
and then scrubbed of personal data first (pii.py). Rows older than `retention_days` are deleted when the
store opens and at most hourly while it serves.

Feedback becomes interaction events for the next CF fit (`as_events`): a thumbs up counts as a click,
"bought it" as a purchase; a thumbs down hides the product for the conversation but adds no weight.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.core.config import Settings
from assistant.core.errors import AisleError
from assistant.privacy.pii import scrub
from assistant.privacy.keys import DataCipher, DataKeyError
from assistant.service.record_store import FILE_NAME, RecordStore, SharedStoreError, SQLiteRecords, shopper_data_path

__all__ = ["FILE_NAME", "KINDS", "STORE_ERRORS", "Feedback", "ShopperData", "StoreUnavailable", "TurnLog",
           "describe_store", "open_records", "open_shopper_data", "shopper_data_path"]
KINDS = ("up", "down", "bought")
EVENT_FOR_KIND = {"up": "click", "bought": "purchase"}
EXPIRE_EVERY_SECONDS = 3600.0
# What a damaged, locked or full shopper-data store, or a wrong data key, raises.
STORE_ERRORS = (sqlite3.Error, OSError, DataKeyError, SharedStoreError)


class StoreUnavailable(AisleError, RuntimeError):
    """Feedback could not be stored (the shopper-data store is damaged, locked, full, or the key is wrong)."""


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

    def __init__(self, store: RecordStore | str | Path, cipher: DataCipher, log_messages: bool = False,
                 retention_days: float = 90.0) -> None:
        self.store = store if isinstance(store, RecordStore) else SQLiteRecords(store)
        self.cipher = cipher
        self.log_messages = log_messages
        self.retention_days = retention_days
        self._check_key()
        self._expired_at = 0.0
        self.expire()

    def _check_key(self) -> None:
        """Refuse a key other than the one the store was first written with (rows sealed under two keys
        would make every later read fail); DataKeyError says so at once."""
        self.store.set_meta("key_check", self.cipher.seal("aisle shopper data"))
        try:
            self.cipher.open(self.store.meta("key_check"))
        except DataKeyError:
            self.store.close()
            raise DataKeyError(f"{self.store.name} was written with another data key; set AISLE_DATA_KEY (or "
                               f"restore data.key) to the key it was written with") from None

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
        self.store.insert(record, created, customer, self.cipher.tag(conversation), self.cipher.seal(payload))
        if created - self._expired_at > EXPIRE_EVERY_SECONDS:
            self.expire()

    # ------------------------------------------------------------------ reading

    def _rows(self, record: str, conversation: str | None = None, named_only: bool = False,
              limit: int | None = None) -> list[tuple[float, str, Any]]:
        tag = None if conversation is None else self.cipher.tag(conversation)
        return [(created, customer, self.cipher.open(sealed))
                for created, customer, sealed in self.store.rows(record, tag, named_only, limit)]

    def recent(self, limit: int = 50) -> list[Feedback]:
        """The latest feedback, newest first."""
        return [Feedback(created, customer, p["conversation"], p["turn"], p["product"], p["kind"], p["message"])
                for created, customer, p in self._rows("feedback", limit=limit)]

    def turns(self, limit: int = 50) -> list[TurnLog]:
        """The latest logged turns, newest first."""
        return [TurnLog(created, customer, p["conversation"], p["turn"], p["segment"], tuple(p["shown"]),
                        p["message"])
                for created, customer, p in self._rows("turn", limit=limit)]

    def declined(self, conversation: str) -> set[str]:
        """Products the shopper turned down in a conversation."""
        rows = self._rows("feedback", conversation)
        return {p["product"] for _, _, p in rows if p["kind"] == "down"}

    def as_events(self) -> list[tuple[str, str, str, float, float]]:
        """Feedback of known customers as interaction rows (customer, product, event, time, value) for CF."""
        rows = self._rows("feedback", named_only=True)
        return [(customer, p["product"], EVENT_FOR_KIND[p["kind"]], created,
                 1.0 if p["kind"] == "bought" else float("nan"))
                for created, customer, p in reversed(rows) if p["kind"] in EVENT_FOR_KIND]

    def counts(self, customer: str | None = None) -> dict[str, int]:
        """Stored rows by kind (of one customer, when given)."""
        return {"feedback": 0, "turn": 0, **self.store.counts(customer)}

    # ------------------------------------------------------------------ deleting

    def forget(self, customer: str) -> dict[str, int]:
        """Delete every row of one customer (by pseudonym); returns how many of each kind went."""
        if not customer:
            raise ValueError("forget needs a customer pseudonym")
        removed = self.counts(customer)
        self.store.delete_customer(customer)
        return removed

    def expire(self, now: float | None = None) -> int:
        """Delete rows older than the retention period; returns how many went."""
        now = time.time() if now is None else now
        self._expired_at = now
        return self.store.delete_before(now - self.retention_days * 86400.0)

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
        self.store.close()


def open_shopper_data(settings: Settings) -> ShopperData:
    """The installation's encrypted store of feedback and turn logs (older plain feedback imported once)."""
    from assistant.privacy.keys import data_cipher
    store = ShopperData(open_records(settings), data_cipher(settings.state_dir),
                        log_messages=settings.log_messages, retention_days=settings.retention_days)
    plain = Path(settings.state_dir) / "feedback.sqlite"  # written unencrypted by versions before 0.2
    if plain.is_file():
        store.import_plain_feedback(plain)
        store.expire()
    return store


def open_records(settings: Settings) -> RecordStore:
    """The installation's row store: the SQLite file (default) or the PostgreSQL database replicas share."""
    if settings.shopper_store == "postgresql":
        from assistant.service.postgres_store import PostgresRecords
        return PostgresRecords(settings.postgres_dsn)
    return SQLiteRecords(shopper_data_path(settings))


def describe_store(settings: Settings) -> str:
    """The configured row store, for messages: the SQLite file, or the database without its password."""
    if settings.shopper_store == "postgresql":
        from assistant.service.postgres_store import describe_dsn
        return describe_dsn(settings.postgres_dsn)
    return str(shopper_data_path(settings))


def has_shopper_data(settings: Settings) -> bool:
    """Whether there may be stored feedback to read: the SQLite file exists, or the store is the shared database."""
    return settings.shopper_store == "postgresql" or shopper_data_path(settings).is_file()
