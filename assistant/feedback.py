"""Shopper feedback (thumbs up / down, "bought it") in SQLite, fed back as interaction events.

Customer ids are stored only as pseudonyms (privacy.py); no message text is stored unless the store
turns `log_messages` on. `as_events` turns feedback into (customer, product, event, timestamp, value)
rows for the next CF fit: a thumbs up counts as a click, "bought it" as a purchase, and a thumbs down
is kept for the conversation's exclusions but adds no positive weight.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

KINDS = ("up", "down", "bought")
EVENT_FOR_KIND = {"up": "click", "bought": "purchase"}
SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    customer TEXT NOT NULL,        -- pseudonym, or "" for an anonymous shopper
    conversation TEXT NOT NULL,
    turn TEXT NOT NULL,
    product TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('up', 'down', 'bought')),
    message TEXT                   -- only when the store turns message logging on
)
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


class FeedbackStore:
    """A small SQLite store, safe to share between threads."""

    def __init__(self, path: str | Path, log_messages: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.log_messages = log_messages
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False)
        with self._lock, self._db:
            self._db.execute(SCHEMA)

    def add(self, customer: str, conversation: str, turn: str, product: str, kind: str,
            message: str | None = None) -> Feedback:
        """Record feedback; `customer` must already be a pseudonym (or "")."""
        if kind not in KINDS:
            raise ValueError(f"feedback kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if not product or len(product) > 128 or len(conversation) > 64 or len(turn) > 64:
            raise ValueError("product, conversation and turn ids must be short non-empty strings")
        item = Feedback(time.time(), customer, conversation, turn, product, kind,
                        message if self.log_messages else None)
        with self._lock, self._db:
            self._db.execute("INSERT INTO feedback (created, customer, conversation, turn, product, kind, message) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (item.created, item.customer, item.conversation, item.turn, item.product, item.kind,
                              item.message))
        return item

    def recent(self, limit: int = 50) -> list[Feedback]:
        """The latest feedback, newest first."""
        with self._lock:
            rows = self._db.execute("SELECT created, customer, conversation, turn, product, kind, message "
                                    "FROM feedback ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [Feedback(*row) for row in rows]

    def declined(self, conversation: str) -> set[str]:
        """Products the shopper turned down in a conversation."""
        with self._lock:
            rows = self._db.execute("SELECT product FROM feedback WHERE conversation = ? AND kind = 'down'",
                                    (conversation,)).fetchall()
        return {row[0] for row in rows}

    def as_events(self) -> list[tuple[str, str, str, float, float]]:
        """Feedback of known customers as interaction rows for the next CF fit."""
        with self._lock:
            rows = self._db.execute("SELECT customer, product, kind, created FROM feedback "
                                    "WHERE customer != '' AND kind IN ('up', 'bought')").fetchall()
        return [(customer, product, EVENT_FOR_KIND[kind], created, 1.0 if kind == "bought" else float("nan"))
                for customer, product, kind, created in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
