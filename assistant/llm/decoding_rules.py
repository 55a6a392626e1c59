"""What one row of a decode may write next: its allowed tokens and whole words, its banned words, no repeats.

`RowRules.next_token(logits, produced)` is the row's greedy choice under its rules, from the logits of one
position: `generate` calls it for each row's next token, and for each drafted token it checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from assistant.llm.bans import BannedTokens
from assistant.llm.words import WordConstraint, last_word

REPEAT_NGRAM = 3  # a row may not write the same run of this many tokens twice (see forbid_repeats)


@dataclass(frozen=True)
class RowRules:
    """One row's rules. `allowed`: a bool mask over the vocabulary (None: any token); `words`: the whole words
    it may write (with `allowed`); `banned`: token sequences it may not complete; `text` and `is_word` decode."""

    text: Callable[[Sequence[int]], str]
    is_word: Callable[[int], bool]
    allowed: Any = None
    words: WordConstraint | None = None
    banned: BannedTokens | None = None

    def next_token(self, logits: Any, produced: Sequence[int]) -> int:
        """The best token after `produced` these rules let the row write; `logits` (one position's) may be
        changed in place."""
        if self.allowed is not None:
            logits = logits.masked_fill(~self.allowed[: logits.shape[-1]], float("-inf"))
            if self.words is not None:
                self._keep_whole_words(logits, produced)
        if self.banned is not None:
            self.banned.forbid(logits, produced)
        forbid_repeats(logits, produced, self.is_word)
        return int(logits.argmax())

    def _keep_whole_words(self, logits: Any, produced: Sequence[int]) -> None:
        """Forbid the tokens that would make a Latin word not among the allowed words (their tokens alone let
        the model spell "high-performance" out of pieces)."""
        import torch

        keep = self.words.tokens(last_word(self.text(produced)))
        if keep:  # never nothing: then the row keeps its token set
            index = torch.tensor(keep, dtype=torch.long)
            kept = logits[index].clone()
            logits[:] = float("-inf")
            logits[index] = kept


def forbid_repeats(logits: Any, produced: Sequence[int], is_word: Callable[[int], bool]) -> None:
    """Forbid, in place, a word token that would repeat a run of REPEAT_NGRAM tokens the row already wrote
    ("is a good pick because it is a good brand"): the check rejects such a sentence, so the model is steered
    to another word. Digits and punctuation may repeat ("$24.99 ... $39.99")."""
    if len(produced) < REPEAT_NGRAM:
        return
    tail = list(produced[len(produced) - REPEAT_NGRAM + 1:])
    for i in range(len(produced) - REPEAT_NGRAM + 1):
        if list(produced[i:i + REPEAT_NGRAM - 1]) == tail and is_word(produced[i + REPEAT_NGRAM - 1]):
            logits[produced[i + REPEAT_NGRAM - 1]] = float("-inf")
