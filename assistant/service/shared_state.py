"""What a turn needs from earlier turns, in one place for every serving replica: open conversations, staff
traces and the forgotten customers, in the PostgreSQL database of postgres_store.py (`shopper_store =
"postgresql"`), sealed with the installation's `DataCipher` as the shopper-data rows are.

Nothing is cached in a replica: every turn reads its conversation afresh (one row by primary key), so two
replicas answering alternate turns of one conversation each see the other's turns. Two turns of one
conversation answered at the same moment by two replicas both run; the later save wins (`version` counts
saves). `session_state` picks these or the in-process stores of sessions.py and traces.py.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import zlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from assistant.core.config import Settings
from assistant.privacy.keys import DataCipher, forgotten, remember_forgotten
from assistant.service.postgres_store import Postgres
from assistant.service.sessions import ConversationStore, Conversations, new_conversation_id
from assistant.service.trace_codec import decode_record, encode_record
from assistant.service.traces import TRACE_LIMIT, TraceStore, TurnRecord, TurnTraces
from assistant.understand import Conversation

TRIM_EVERY = 50  # adds between trims of the shared trace table to its newest `limit` turns
EXPIRE_EVERY_SECONDS = 3600.0


def _seal(cipher: DataCipher, document: dict) -> bytes:
    """Sealed, compressed JSON (a trace holds a score per catalog product and the hard filters' reasons)."""
    packed = zlib.compress(json.dumps(document, ensure_ascii=False).encode("utf-8"), 6)
    return cipher.seal(base64.b64encode(packed).decode("ascii"))


def _open(cipher: DataCipher, sealed: bytes) -> dict:
    return json.loads(zlib.decompress(base64.b64decode(cipher.open(sealed))))


class SharedConversations(ConversationStore):
    """Conversations in the shared `conversations` table, by keyed tag of their id."""

    def __init__(self, db: Postgres, cipher: DataCipher, retention_days: float = 90.0) -> None:
        self.db, self.cipher, self.retention_days = db, cipher, retention_days
        self._expired_at = 0.0

    def open(self, conversation_id: str | None) -> tuple[str, Conversation]:
        self._expire()
        if conversation_id:
            rows, _ = self.db.execute("SELECT sealed FROM conversations WHERE tag = %s",
                                      (self.cipher.tag(conversation_id),))
            if rows:
                return conversation_id, Conversation.from_state(_open(self.cipher, bytes(rows[0][0])))
        return new_conversation_id(), Conversation()

    def save(self, conversation_id: str, conversation: Conversation, customer: str = "") -> None:
        self.db.execute(
            "INSERT INTO conversations (tag, version, updated, customer, sealed) VALUES (%s, 1, %s, %s, %s) "
            "ON CONFLICT (tag) DO UPDATE SET version = conversations.version + 1, updated = EXCLUDED.updated, "
            "customer = EXCLUDED.customer, sealed = EXCLUDED.sealed",
            (self.cipher.tag(conversation_id), time.time(), customer, _seal(self.cipher, conversation.to_state())))

    def close(self, conversation_id: str | None) -> None:
        if conversation_id:
            self.db.execute("DELETE FROM conversations WHERE tag = %s", (self.cipher.tag(conversation_id),))

    def close_customer(self, customer: str) -> int:
        """Delete the conversations whose latest turn was this customer's; returns how many went."""
        return self.db.execute("DELETE FROM conversations WHERE customer = %s", (customer,))[1]

    def _expire(self) -> None:
        now = time.time()
        if now - self._expired_at > EXPIRE_EVERY_SECONDS:
            self._expired_at = now
            self.db.execute("DELETE FROM conversations WHERE updated < %s", (now - self.retention_days * 86400.0,))


class SharedTraces(TraceStore):
    """The newest `limit` turn records of all replicas, in the shared `traces` table."""

    def __init__(self, db: Postgres, cipher: DataCipher, limit: int = TRACE_LIMIT) -> None:
        self.db, self.cipher, self.limit = db, cipher, limit
        self._adds = 0
        self._lock = threading.Lock()

    def add(self, record: TurnRecord) -> None:
        self.db.execute(
            "INSERT INTO traces (turn, created, customer, sealed) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (turn) DO UPDATE SET customer = EXCLUDED.customer, sealed = EXCLUDED.sealed",
            (record.turn_id, time.time(), record.customer or "", _seal(self.cipher, encode_record(record))))
        with self._lock:
            self._adds += 1
            trim = self._adds % TRIM_EVERY == 0
        if trim:
            self.db.execute("DELETE FROM traces WHERE id <= (SELECT id FROM traces ORDER BY id DESC "
                            "OFFSET %s LIMIT 1)", (self.limit,))

    def find(self, turn_id: str) -> TurnRecord | None:
        rows, _ = self.db.execute("SELECT sealed FROM traces WHERE turn = %s", (turn_id,))
        return decode_record(_open(self.cipher, bytes(rows[0][0]))) if rows else None

    def recent(self, limit: int = 30) -> list[TurnRecord]:
        rows, _ = self.db.execute("SELECT sealed FROM traces ORDER BY id DESC LIMIT %s", (int(limit),))
        return [decode_record(_open(self.cipher, bytes(sealed))) for sealed, in rows]

    def drop_customer(self, customer: str) -> list[TurnRecord]:
        rows, _ = self.db.execute("DELETE FROM traces WHERE customer = %s RETURNING sealed", (customer,))
        return [decode_record(_open(self.cipher, bytes(sealed))) for sealed, in rows]


class ForgottenList(ABC):
    """Pseudonyms of the customers who asked to be forgotten."""

    @abstractmethod
    def all(self) -> set[str]:
        """Every forgotten pseudonym."""

    @abstractmethod
    def add(self, pseudonym: str) -> None:
        """Forget one more customer."""


class LocalForgotten(ForgottenList):
    """`forgotten.txt` under the state folder (privacy/keys.py), which the offline jobs read too."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)

    def all(self) -> set[str]:
        return forgotten(self.state_dir)

    def add(self, pseudonym: str) -> None:
        remember_forgotten(self.state_dir, pseudonym)


class SharedForgotten(LocalForgotten):
    """The local file and the shared `forgotten` table: a customer forgotten on one replica is forgotten
    on all at their next turn, and the file of the replica that was asked still feeds the offline jobs."""

    def __init__(self, state_dir: Path, db: Postgres) -> None:
        super().__init__(state_dir)
        self.db = db

    def all(self) -> set[str]:
        rows, _ = self.db.execute("SELECT pseudonym FROM forgotten")
        return super().all() | {pseudonym for pseudonym, in rows}

    def add(self, pseudonym: str) -> None:
        super().add(pseudonym)
        self.db.execute("INSERT INTO forgotten (pseudonym) VALUES (%s) ON CONFLICT DO NOTHING", (pseudonym,))


@dataclass
class SessionState:
    """What turns share with later turns: conversations, staff traces, the forgotten customers."""

    conversations: ConversationStore
    traces: TraceStore
    forgotten: ForgottenList


def session_state(settings: Settings) -> SessionState:
    """In-process stores (`shopper_store = "sqlite"`, the default), or the shared database's."""
    if settings.shopper_store == "postgresql":
        from assistant.privacy.keys import data_cipher
        db, cipher = Postgres(settings.postgres_dsn), data_cipher(settings.state_dir)
        return SessionState(SharedConversations(db, cipher, settings.retention_days), SharedTraces(db, cipher),
                            SharedForgotten(settings.state_dir, db))
    return SessionState(Conversations(), TurnTraces(), LocalForgotten(settings.state_dir))


def forgotten_customers(settings: Settings) -> set[str]:
    """Every forgotten pseudonym: `forgotten.txt`, and with the shared store every replica's (for offline jobs)."""
    if settings.shopper_store == "postgresql":
        return SharedForgotten(settings.state_dir, Postgres(settings.postgres_dsn)).all()
    return LocalForgotten(settings.state_dir).all()
