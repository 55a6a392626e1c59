"""Draft tokens for lookup decoding: what a row will likely write next, guessed by copying from its prompt.

A reason copies much of its facts (the product's name, its price, "within your $40 budget"), so after the
last tokens a row wrote, the tokens that followed them in its prompt are a good guess for its next ones.
`generate` checks a draft in the same forward pass as the row's next token and keeps the part the model
would have written anyway (greedy: in fp32 the text is the same with or without drafts; int8 scales
activations over all the tokens of a pass, so a near-tie can go the other way). A right guess saves a forward
pass, which on 2 cores costs about the same for one token or for eight (36-39 ms for
Qwen 0.5B int8). Only a row decoded alone gets drafts: in a batch of four, checking five drafted tokens a row
took a step from 35 to 68 ms, and all five streamed reasons from 3.3 to 3.9 s (benchmarks/llm.py --drafts).
"""

from __future__ import annotations

from typing import Sequence

DRAFT_TOKENS = 5  # at most this many guessed tokens checked per step
LONGEST_MATCH = 3  # the row's last tokens looked up, longest first


def draft_after(produced: Sequence[int], sources: Sequence[Sequence[int]], limit: int = DRAFT_TOKENS) -> list[int]:
    """Up to `limit` tokens that followed the longest run of `produced`'s last tokens (three, two, then one)
    in one of `sources` (searched in order; within a source, its last occurrence first). [] when none."""
    if limit <= 0 or not produced:
        return []
    for n in range(min(LONGEST_MATCH, len(produced)), 0, -1):
        tail = list(produced[-n:])
        for source in sources:
            for start in range(len(source) - n - 1, -1, -1):
                if list(source[start:start + n]) == tail:
                    return list(source[start + n:start + n + limit])
    return []
