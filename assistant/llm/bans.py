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

    def forbid(self, logits, produced: Sequence[int]) -> None:
        """Forbid, in place, the next tokens (one position's `logits`) that would complete a banned sequence
        after `produced` (the sequence's other tokens are the row's last ones)."""
        if self.always:
            logits[list(self.always)] = float("-inf")
        for sequence in self.after.get(produced[-1], ()) if produced else ():
            if list(produced[len(produced) - len(sequence) + 1:]) == list(sequence[:-1]):
                logits[sequence[-1]] = float("-inf")
