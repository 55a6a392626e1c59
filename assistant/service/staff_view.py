"""What the Staff tab lists: recent turns grouped by conversation with their time, searchable by the
shopper's words, a turn id or a product; and products picked by a searchable title (never a silent first
match)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

from assistant.index import ProductIndex
from assistant.service.traces import TurnRecord

MAX_MATCHES = 20


@dataclass(frozen=True)
class TurnLine:
    """One turn as staff pick it: "14:02:31 · rain jacket for my son → 5 shown (3 exact)"."""

    turn_id: str
    label: str


@dataclass(frozen=True)
class ConversationTurns:
    """A conversation's turns, oldest first, and when it last had one."""

    conversation_id: str
    latest: float
    turns: list[TurnLine]

    @property
    def heading(self) -> str:
        name = self.conversation_id[:8] or "without a conversation"
        return f"{clock(self.latest)} · conversation {name} · {len(self.turns)} turn(s)"


def clock(seconds: float) -> str:
    """A turn's time as staff read it: today's as 14:02:31, older ones with the date (UTC)."""
    if not seconds:
        return "--:--:--"
    when = time.gmtime(seconds)
    same_day = time.strftime("%Y-%m-%d", when) == time.strftime("%Y-%m-%d", time.gmtime())
    return time.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M", when)


def turn_label(record: TurnRecord) -> str:
    shown = len(record.result.candidates)
    exact = min(record.result.matched, shown)
    outcome = "asked a question" if record.clarify and not shown else \
        f"{shown} shown" + (f" ({exact} exact)" if exact != shown else "")
    message = " ".join(record.message.split())
    return f"{clock(record.created)} · {message[:70]}{'…' if len(message) > 70 else ''} → {outcome}"


def matches(record: TurnRecord, query: str) -> bool:
    """Whether a turn holds `query` in its message, need, turn id, conversation id or shown products."""
    query = query.strip().lower()
    if not query:
        return True
    fields = [record.message, record.request.need, record.turn_id, record.conversation_id,
              *(f"{c.product.id} {c.product.title}" for c in record.result.candidates)]
    return any(query in text.lower() for text in fields if text)


def group_turns(records: Sequence[TurnRecord], query: str = "") -> list[ConversationTurns]:
    """Turns that match `query`, grouped by conversation, the latest conversation first."""
    groups: dict[str, list[TurnRecord]] = {}
    for record in records:
        if matches(record, query):
            groups.setdefault(record.conversation_id, []).append(record)
    out = [ConversationTurns(cid, max(r.created for r in turns),
                             [TurnLine(r.turn_id, turn_label(r)) for r in sorted(turns, key=lambda r: r.created)])
           for cid, turns in groups.items()]
    return sorted(out, key=lambda g: -g.latest)


def turn_choices(records: Sequence[TurnRecord], query: str = "") -> list[tuple[str, str]]:
    """(label, turn id) for a dropdown: each turn under its conversation's heading, latest first."""
    return [(f"{group.heading} ▸ {line.label}", line.turn_id) for group in group_turns(records, query)
            for line in reversed(group.turns)]


def product_choices(index: ProductIndex, text: str, shown: Sequence[str] = (), limit: int = MAX_MATCHES
                    ) -> list[tuple[str, str]]:
    """(label, product id) of the products whose id or title holds `text` (the turn's shown ones first), for
    staff to choose from; empty text lists the shown ones. Never more than `limit`."""
    needle = (text or "").strip().lower()
    order = [*shown, *(p.id for p in index.products)]
    out: list[tuple[str, str]] = []
    for pid in dict.fromkeys(order):
        position = index.position_of(pid)
        if position is None:
            continue
        product = index.products[position]
        if (not needle and pid in shown) or (needle and (needle == pid.lower() or needle in product.title.lower())):
            out.append((f"{product.title} [{pid}]" + (" · shown" if pid in shown else ""), pid))
            if len(out) == limit:
                break
    return out
