"""Grounding a request in the served catalog: a parsed word becomes a hard filter only where the catalog can
support it, and what it could not support is said in plain words (`Request.grounding`).

- A colour is a filter only when the store's colour attribute is filled well enough (MIN_FILL) and the colour's
  family exists there: "blue" takes the blue family ("Navy Blue", "navy", "Blue"); "navy" takes the store's navy
  values, or the blue family when it has none (said so). A colour the store has no family for is dropped from
  the filters and kept as a search word ("silver ring" in a store without silver items).
- A size is a filter only when the store sells that size.
- The store's currency goes with the request, so every price shown is written in it.
"""

from __future__ import annotations

from dataclasses import replace

from assistant.understand.request import Request
from assistant.understand.store import StoreProfile
from assistant.understand.vocabulary import Vocabulary, load_vocabulary


def ground(request: Request, profile: StoreProfile, vocab: Vocabulary | None = None) -> Request:
    """`request` with its filters grounded in the catalog of `profile` (see the module docstring)."""
    vocab = vocab or load_vocabulary()
    notes: list[str] = []
    extra_words: list[str] = []
    colors, values = [], []
    filterable = profile.filled("color")
    for shade in request.colors:
        family = vocab.color_family(shade)
        found, by_family = profile.values_for_color(shade, family) if filterable else ((), False)
        if not found:
            notes.append(f"no {shade} items in this store's colour data: '{shade}' was searched as a word"
                         if filterable else f"this store's products have no colour data: '{shade}' was searched "
                         "as a word")
            extra_words.append(shade)
            continue
        if by_family:
            notes.append(f"no {shade} items: showing the {family} colour family")
        colors.append(shade)
        values.extend(found)
    excluded, excluded_values = [], []
    for shade in request.exclude_colors:
        found, _ = profile.values_for_color(shade, vocab.color_family(shade)) if filterable else ((), False)
        if found:
            excluded.append(shade)
            excluded_values.extend(found)
        else:
            notes.append(f"'not {shade}' removes nothing: no {shade} items in this store's colour data")
    sizes = tuple(s for s in request.sizes if s in profile.sizes or not profile.sizes)
    if len(sizes) < len(request.sizes):
        missing = [s for s in request.sizes if s not in sizes]
        notes.append(f"size {', '.join(missing)} is not sold here")
    need = " ".join(dict.fromkeys((request.need + " " + " ".join(extra_words)).split()))
    return replace(request, colors=tuple(colors), color_values=tuple(dict.fromkeys(values)),
                   exclude_colors=tuple(excluded), exclude_color_values=tuple(dict.fromkeys(excluded_values)),
                   sizes=sizes, need=need, currency=profile.currency, grounding=tuple(notes))
