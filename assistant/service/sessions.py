"""Open chat conversations, kept server-side by id (the browser holds only the id)."""

from __future__ import annotations

import threading
import uuid
from abc import ABC, abstractmethod
from collections import OrderedDict

from assistant.understand import Conversation

CONVERSATION_LIMIT = 1_000  # open chat conversations kept in memory


def new_conversation_id() -> str:
    return uuid.uuid4().hex[:16]


class ConversationStore(ABC):
    """Where open conversations live: in this process (`Conversations`) or in a store that serving replicas
    share (shared_state.py). A turn opens its conversation, changes it, then saves it."""

    @abstractmethod
    def open(self, conversation_id: str | None) -> tuple[str, Conversation]:
        """The conversation with this id, or a new one (with a new id) when it is None or unknown."""

    @abstractmethod
    def save(self, conversation_id: str, conversation: Conversation, customer: str = "") -> None:
        """Keep a conversation's turns (`customer`: the pseudonym of its latest turn, "" when anonymous)."""

    @abstractmethod
    def close(self, conversation_id: str | None) -> None:
        """Forget a conversation ("start over", or its customer was forgotten)."""


class Conversations(ConversationStore):
    """The `limit` most recently used conversations, in memory; the oldest is dropped first."""

    def __init__(self, limit: int = CONVERSATION_LIMIT) -> None:
        self.limit = limit
        self._open: OrderedDict[str, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def open(self, conversation_id: str | None) -> tuple[str, Conversation]:
        """The conversation with this id, or a new one (with a new id) when it is None or unknown."""
        with self._lock:
            if conversation_id not in self._open:
                conversation_id = new_conversation_id()
                self._open[conversation_id] = Conversation()
                while len(self._open) > self.limit:
                    self._open.popitem(last=False)
            self._open.move_to_end(conversation_id)
            return conversation_id, self._open[conversation_id]

    def save(self, conversation_id: str, conversation: Conversation, customer: str = "") -> None:
        """Nothing to do: the conversation `open` gave is the one kept."""

    def close(self, conversation_id: str | None) -> None:
        with self._lock:
            self._open.pop(conversation_id or "", None)
