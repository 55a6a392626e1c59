"""Token sequences decoding may not complete: one row's banned words, applied to the next token's logits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence


@dataclass(frozen=True)
class BannedTokens:
    """One row's banned token sequences: one-token words, and longer ones by the token before their last."""

    always: tuple[int, ...]
    after: dict[int, tuple[tuple[int, ...], ...]]

    @classmethod
    def of(cls, sequences: Iterable[Sequence[int]]) -> "BannedTokens":
        always, after = set(), {}
        for sequence in sequences:
            if len(sequence) == 1:
                always.add(sequence[0])
            elif sequence:
                after.setdefault(sequence[-2], []).append(tuple(sequence))
        return cls(tuple(sorted(always)), {k: tuple(v) for k, v in after.items()})


def ban_next(logits, bans: Sequence[BannedTokens], produced: Sequence[Sequence[int]], done) -> None:
    """Forbid, in place, each unfinished row's next token where it would complete one of its banned sequences
    (the sequence's other tokens are the row's last ones)."""
    for row, banned in enumerate(bans):
        if bool(done[row]):
            continue
        if banned.always:
            logits[row, list(banned.always)] = float("-inf")
        tail = produced[row]
        for sequence in banned.after.get(tail[-1], ()) if tail else ():
            if list(tail[len(tail) - len(sequence) + 1:]) == list(sequence[:-1]):
                logits[row, sequence[-1]] = float("-inf")
