"""`LanguageModel` interface and its transformers backend; `make_language_model(name)` is the one factory.

Where the weights come from, and how they are verified and converted once into a cache, is
assistant/llm/weights.py. Any failure to find, verify or load weights raises `ModelUnavailable`, so a caller
can answer without the LLM stage.

Importing this module is cheap: torch and transformers load inside the functions that use them.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from assistant.core.memory import release_freed_memory
from assistant.core.text import has_cjk
from assistant.llm.bans import BannedTokens
from assistant.llm.drafts import DRAFT_TOKENS, draft_after
from assistant.llm.decoding_rules import RowRules
from assistant.llm.spellings import SpellingIndex
from assistant.llm.words import WordConstraint
from assistant.llm.weights import (DEFAULT_MODEL, PACKAGED, ModelUnavailable, default_cache_dir, load_int8,
                                   model_names, resolve_weights)


class LanguageModel(ABC):
    """A causal language model. Subclasses implement `next_token_scores`, `generate` and `chat_prompt`."""

    #: Identifies the weights, their source and the numeric format (e.g. ``...#int8``).
    model_id: str = ""

    @abstractmethod
    def next_token_scores(self, prefix: str, suffixes: Sequence[str], options: Sequence[str]) -> np.ndarray:
        """Log-probabilities of each option's first token as the next token after ``prefix + suffix``.

        Returns float32 of shape (len(suffixes), len(options)). The prefix is shared by all suffixes and
        should hold the long common part of the prompt (it is encoded once).
        """

    @abstractmethod
    def generate(self, prompts: Sequence[str], max_new_tokens: int, prefix: str = "",
                 stop: Callable[[str], bool] | None = None,
                 on_done: Callable[[int, str], None] | None = None,
                 banned: Sequence[Sequence[str]] | None = None,
                 allowed: Sequence[Sequence[str] | None] | None = None) -> list[str]:
        """Greedy continuations of ``prefix + prompt`` for each prompt, decoded in one batch; each stops at
        its end-of-turn token, after `max_new_tokens`, or as soon as `stop(text so far)` is true. A shared
        `prefix` is encoded once and its KV cache reused by every row. `on_done(row, text)` is called as each
        row finishes, while the others are still being decoded (so a caller can show it at once).
        `banned[row]`: words that row may not write (as a word of its own, any capitalisation of its start);
        `allowed[row]`: the only words that row may write (None: any). No row repeats a run of words."""

    @abstractmethod
    def chat_prompt(self, system: str, user: str) -> str:
        """The model's chat template applied to one system and one user turn, ready for the assistant's reply."""


# --------------------------------------------------------------------------------------------------- backend

_WORD_PIECE = re.compile(r"[A-Za-z\u4e00-\u9fff]")
PREFIXES_KEPT = 4  # shared prompt prefixes whose KV cache is kept (one per language and prompt style)

class TransformersLM(LanguageModel):
    """A causal LM run with transformers on CPU, from a GGUF file (converted once) or a model folder."""

    def __init__(self, name: str = DEFAULT_MODEL, *, threads: int | None = None, quantize: bool = True,
                 cache_dir: str | os.PathLike[str] | None = None, batch_size: int = 1,
                 draft_tokens: int = DRAFT_TOKENS) -> None:
        try:
            import torch
            import transformers  # noqa: F401
        except ImportError as err:
            raise ModelUnavailable("the language model needs torch and transformers: "
                                   "pip install torch==2.13.0 transformers==5.24.0 gguf==0.19.0") from err
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if threads:
            torch.set_num_threads(threads)
        cache = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
        try:
            folder, model_id = resolve_weights(name, cache)
            self._load(folder, quantize)
        except ModelUnavailable:
            raise
        except ImportError as err:
            raise ModelUnavailable(f"cannot load language model {name!r}: {err}") from err
        except (OSError, ValueError, KeyError, RuntimeError, EOFError) as err:
            raise ModelUnavailable(f"cannot load language model {name!r}: {type(err).__name__}: {err}") from err
        self.model_id = model_id + ("#int8" if quantize else "#fp32")
        # Scoring batch size. 1 by default: with fbgemm's one activation scale per call a product's P(Yes)
        # moved by up to ±0.3 with its neighbours in a batch; int8_linear now scales each token on its own,
        # but batches were not measured again, and on 2 cores a batch of 1 with the prefix cache cost the same.
        self.batch_size = batch_size
        self.draft_tokens = draft_tokens  # guessed tokens checked per decoding step (drafts.py); 0: none
        self._lock = threading.Lock()  # one forward pass at a time: two would only fight over the cores
        self._prefixes: dict[tuple[int, ...], Any] = {}  # KV caches of recent shared prefixes (_prefix_cache)

    def _load(self, folder: Path, quantize: bool) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        if quantize and list(folder.glob("*.safetensors")):
            model = load_int8(folder)
        else:
            model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
            if quantize:
                from assistant.llm.int8_linear import quantize_linears
                model = quantize_linears(model)
        model.eval()
        release_freed_memory()  # the fp32 tensors read while quantising
        self.model = model
        self._decoder = model.get_decoder()
        self._head = model.get_output_embeddings()
        eos = {self.tokenizer.eos_token_id}
        config_eos = model.generation_config.eos_token_id
        eos.update(config_eos if isinstance(config_eos, (list, tuple)) else [config_eos])
        for marker in ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<end_of_turn>"):
            if marker in self.tokenizer.all_special_tokens or marker in self.tokenizer.get_vocab():
                eos.add(self.tokenizer.convert_tokens_to_ids(marker))
        self._eos = sorted(i for i in eos if isinstance(i, int) and i >= 0)
        pad = self.tokenizer.pad_token_id
        self._pad = pad if pad is not None else (self._eos[0] if self._eos else 0)

    # -- tokens

    @functools.lru_cache(maxsize=256)
    def _banned_tokens(self, words: tuple[str, ...]) -> "BannedTokens":
        """The token sequences that spell `words` as words of their own: " word" and " Word" (and the bare
        word for Chinese, which has no spaces)."""
        sequences: set[tuple[int, ...]] = set()
        for word in words:
            variants = {word} if has_cjk(word) else {" " + word, " " + word[:1].upper() + word[1:]}
            sequences.update(tuple(self.encode(v, first=False)) for v in variants)
            if has_cjk(word):  # and its other spellings: 著 + 名 where 著名 is forbidden
                sequences.update(self._spelling_index.spellings(word))
        return BannedTokens.of(s for s in sequences if s)

    @functools.cached_property
    def _token_texts(self) -> list[str]:
        """Each token's text on its own (decoded once, on first use)."""
        ids = [[token] for token in range(len(self.tokenizer))]
        backend = getattr(self.tokenizer, "backend_tokenizer", None)  # ~0.3 s for Qwen's 152k tokens, not 1.5
        return backend.decode_batch(ids) if backend is not None else self.tokenizer.batch_decode(ids)

    @functools.cached_property
    def _spelling_index(self) -> SpellingIndex:
        """The tokens, indexed by the Chinese characters they hold (built on the first Chinese ban)."""
        return SpellingIndex(self._token_texts)

    @functools.lru_cache(maxsize=256)
    def _word_constraint(self, words: tuple[str, ...]) -> WordConstraint:
        texts = self._token_texts
        return WordConstraint(words, {t: texts[t] for t in self._allowed_tokens(words) if t < len(texts)})

    @functools.lru_cache(maxsize=256)
    def _allowed_tokens(self, words: tuple[str, ...]) -> frozenset[int]:
        """Every token of `words` as written, lower-case and capitalised, with and without a leading space,
        and the end-of-turn tokens."""
        tokens: set[int] = set(self._eos)
        for word in words:
            for variant in {word, word.lower(), word[:1].upper() + word[1:]}:
                tokens.update(self.encode(variant, first=False))
                tokens.update(self.encode(" " + variant, first=False))
        return frozenset(tokens)

    def encode(self, text: str, first: bool) -> list[int]:
        """Token ids of `text`; special tokens (BOS) only at the start of a sequence, and never twice."""
        bos = self.tokenizer.bos_token
        add = first and not (bos and text.startswith(bos))
        return list(self.tokenizer(text, add_special_tokens=add)["input_ids"])

    def chat_prompt(self, system: str, user: str) -> str:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    # -- scoring

    def next_token_scores(self, prefix: str, suffixes: Sequence[str], options: Sequence[str]) -> np.ndarray:
        import torch

        if isinstance(suffixes, str) or isinstance(options, str):
            raise TypeError("suffixes and options must be lists of strings, not one string")
        if not options:
            raise ValueError("options must name at least one answer")
        option_ids = []
        for option in options:
            ids = self.encode(option, first=False)
            if not ids:
                raise ValueError(f"option {option!r} encodes to no token")
            option_ids.append(ids[0])
        if not suffixes:
            return np.zeros((0, len(options)), dtype=np.float32)
        prefix_ids = self.encode(prefix, first=True)
        suffix_ids = [self.encode(s, first=not prefix_ids) for s in suffixes]
        if not prefix_ids and not all(suffix_ids):
            raise ValueError("prefix and suffix are both empty: there is nothing to continue")
        wanted = torch.tensor(option_ids)
        out = np.empty((len(suffixes), len(options)), dtype=np.float32)
        with self._lock, torch.inference_mode():
            prefix_cache, prefix_last = None, None
            if prefix_ids:
                result = self._decoder(input_ids=torch.tensor([prefix_ids]), use_cache=True)
                prefix_cache, prefix_last = result.cache, result.last_hidden_state[0, -1]
            # Longest first, so each batch pads little; the output keeps input order.
            order = sorted(range(len(suffixes)), key=lambda i: -len(suffix_ids[i]))
            for start in range(0, len(order), self.batch_size):
                chunk = order[start:start + self.batch_size]
                hidden = self._suffix_hidden([suffix_ids[i] for i in chunk], prefix_cache, len(prefix_ids),
                                             prefix_last)
                logprobs = torch.log_softmax(self._head(hidden).float(), dim=-1)
                out[chunk] = logprobs[:, wanted].numpy()
        return out

    def _suffix_hidden(self, batch: list[list[int]], prefix_cache: Any, prefix_len: int, prefix_last: Any) -> Any:
        """Final hidden state at each suffix's last token, after the cached prefix; right padding."""
        import torch
        from transformers import DynamicCache

        width = max(len(ids) for ids in batch)
        if width == 0:  # every suffix empty: the prefix's own last position
            return prefix_last.expand(len(batch), -1)
        ids = torch.full((len(batch), width), self._pad, dtype=torch.long)
        mask = torch.zeros((len(batch), prefix_len + width), dtype=torch.long)
        mask[:, :prefix_len] = 1
        for row, suffix in enumerate(batch):
            ids[row, :len(suffix)] = torch.tensor(suffix, dtype=torch.long)
            mask[row, prefix_len:prefix_len + len(suffix)] = 1
        cache = None
        if prefix_cache is not None:
            # A fresh cache per batch holding the prefix once per row; the prefix's own tensors stay intact.
            cache = DynamicCache(
                [(k.expand(len(batch), -1, -1, -1), v.expand(len(batch), -1, -1, -1), *rest)
                 for k, v, *rest in prefix_cache], config=self.model.config)
        positions = (torch.arange(width) + prefix_len).unsqueeze(0).expand(len(batch), -1)
        result = self._decoder(input_ids=ids, attention_mask=mask, position_ids=positions, cache=cache,
                               use_cache=cache is not None)
        last = torch.tensor([len(s) - 1 for s in batch])
        hidden = result.last_hidden_state[torch.arange(len(batch)), last.clamp(min=0)]
        empty = last < 0
        if bool(empty.any()):
            hidden[empty] = prefix_last
        return hidden

    # -- generation

    def generate(self, prompts: Sequence[str], max_new_tokens: int, prefix: str = "",
                 stop: Callable[[str], bool] | None = None,
                 on_done: Callable[[int, str], None] | None = None,
                 banned: Sequence[Sequence[str]] | None = None,
                 allowed: Sequence[Sequence[str] | None] | None = None) -> list[str]:
        import torch
        from transformers import DynamicCache

        if isinstance(prompts, str):
            raise TypeError("prompts must be a list of strings, not one string")
        if max_new_tokens < 0:
            raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
        if not prompts or max_new_tokens == 0:
            return ["" for _ in prompts]
        prefix_ids = self.encode(prefix, first=True) if prefix else []
        encoded = [self.encode(p, first=not prefix_ids) for p in prompts]
        if not all(encoded):
            raise ValueError("every prompt must encode to at least one token")
        width = max(len(e) for e in encoded)
        ids = torch.full((len(encoded), width), self._pad, dtype=torch.long)
        mask = torch.zeros((len(encoded), width), dtype=torch.long)
        for row, e in enumerate(encoded):  # left padding: every prompt ends in the last column
            ids[row, width - len(e):] = torch.tensor(e, dtype=torch.long)
            mask[row, width - len(e):] = 1
        # After a shared prefix the pads sit between it and each row's own tokens: masked out, and the
        # row's positions continue from the prefix.
        positions = (mask.cumsum(-1) - 1).clamp(min=0) + len(prefix_ids)
        mask = torch.cat([torch.ones((len(encoded), len(prefix_ids)), dtype=torch.long), mask], dim=-1)
        done = torch.zeros(len(encoded), dtype=torch.bool)
        produced: list[list[int]] = [[] for _ in encoded]
        rules = self._row_rules(len(encoded), banned, allowed)
        cache = None
        with self._lock, torch.inference_mode():
            if prefix_ids:
                shared = self._prefix_cache(prefix_ids)
                cache = DynamicCache([(k.expand(len(encoded), -1, -1, -1).contiguous(),
                                       v.expand(len(encoded), -1, -1, -1).contiguous(), *rest)
                                      for k, v, *rest in shared], config=self.model.config)
            drafts: list[list[int]] = [[] for _ in encoded]
            prefill = True
            while True:
                result = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, cache=cache,
                                    use_cache=True, logits_to_keep=1 if prefill else ids.shape[1])
                cache = result.cache
                kept = torch.zeros(ids.shape, dtype=torch.long)  # the fed tokens that stay in each row's text
                for row in torch.nonzero(~done).flatten().tolist():
                    # Position j's logits follow fed token j: the row's last token, then its draft's tokens.
                    for j in range(len(drafts[row]) + 1):
                        token = rules[row].next_token(result.logits[row, j], produced[row])
                        produced[row].append(token)
                        kept[row, j] = 1
                        finished = token in self._eos or len(produced[row]) >= max_new_tokens
                        if not finished and stop is not None:
                            finished = stop(self._text(produced[row]))
                        if finished:
                            done[row] = True
                            if on_done is not None:
                                on_done(row, self._text(produced[row]))
                            break
                        if j == len(drafts[row]) or token != drafts[row][j]:
                            break  # a wrong guess: what followed it is thrown away
                if bool(done.all()):
                    break
                if prefill:
                    next_position = positions[:, -1] + 1
                else:  # a draft's rejected tokens stay in the cache, masked out
                    mask[:, mask.shape[1] - ids.shape[1]:] *= kept
                    next_position = positions[:, 0] + kept.sum(-1)
                prefill = False
                # Drafts for a row decoded alone (a streamed answer's first reason): with several rows, checking
                # drafts took a step from 35 to 68 ms on 2 cores, more than the right guesses saved.
                limit = min(self.draft_tokens, max_new_tokens - len(produced[0]) - 1) if len(encoded) == 1 else 0
                drafts = [draft_after(produced[0], [encoded[0], prefix_ids], limit)] if limit > 0 else [[] for _ in encoded]
                width = 1 + max(len(d) for d in drafts)
                ids = torch.full((len(encoded), width), self._pad, dtype=torch.long)
                for row, draft in enumerate(drafts):
                    ids[row, : 1 + len(draft)] = torch.tensor([produced[row][-1], *draft])
                positions = next_position.unsqueeze(-1) + torch.arange(width)
                mask = torch.cat([mask, torch.ones((len(encoded), width), dtype=torch.long)], dim=-1)
        return [self._text(tokens) for tokens in produced]

    def _row_rules(self, rows: int, banned, allowed) -> list[RowRules]:
        """Each row's decoding rules: its banned words, and its allowed words (held to whole words)."""
        import torch

        for name, given in (("banned", banned), ("allowed", allowed)):
            if given and len(given) != rows:
                raise ValueError(f"{name} has {len(given)} rows for {rows} prompts")
        width = max(len(self.tokenizer), int(getattr(self.model.config, "vocab_size", 0) or 0))
        out = []
        for row in range(rows):
            words = allowed[row] if allowed else None
            mask = None
            if words is not None:
                mask = torch.zeros(width, dtype=torch.bool)
                mask[list(self._allowed_tokens(tuple(words)))] = True
            out.append(RowRules(text=self._text, is_word=self._is_word, allowed=mask,
                                words=self._word_constraint(tuple(words)) if words is not None else None,
                                banned=self._banned_tokens(tuple(banned[row])) if banned else None))
        return out

    @functools.lru_cache(maxsize=4096)
    def _is_word(self, token: int) -> bool:
        return bool(_WORD_PIECE.search(self.tokenizer.decode([token])))

    def _prefix_cache(self, prefix_ids: list[int]) -> Any:
        """The KV cache of a shared prefix, kept for the next calls: the reason prompts' instructions are
        the same every turn (callers copy it, never extend it in place)."""
        import torch

        key = tuple(prefix_ids)
        if key not in self._prefixes:
            if len(self._prefixes) >= PREFIXES_KEPT:
                self._prefixes.pop(next(iter(self._prefixes)))
            self._prefixes[key] = self._decoder(input_ids=torch.tensor([prefix_ids]), use_cache=True).cache
        return self._prefixes[key]

    def _text(self, tokens: list[int]) -> str:
        if tokens and tokens[-1] in self._eos:
            tokens = tokens[:-1]
        return self.tokenizer.decode(tokens, skip_special_tokens=True)


# --------------------------------------------------------------------------------------------------- factory

_cache: dict[tuple[str, tuple[tuple[str, Any], ...]], LanguageModel] = {}
_cache_lock = threading.Lock()


def make_language_model(name: str = DEFAULT_MODEL, **options: Any) -> LanguageModel:
    """The language model `name` ("qwen", "smollm2", or a path to a .gguf file or model folder).

    Loaded lazily, once per process for each (name, options); `options` go to `TransformersLM`
    (threads, quantize, cache_dir, batch_size, draft_tokens). Raises `ModelUnavailable` when the weights are missing,
    corrupt or unloadable, and `ValueError` for a name that is neither known nor a path.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"language model name must be a non-empty string, got {name!r}")
    looks_like_path = name.endswith(".gguf") or os.sep in name or name.startswith(("~", ".")) or os.path.exists(name)
    if name not in PACKAGED and not looks_like_path:
        raise ValueError(f"unknown language model {name!r}; choose one of {', '.join(model_names())}, "
                         "or give a path to a .gguf file or a transformers model folder")
    key = (name, tuple(sorted((k, str(v)) for k, v in options.items())))
    with _cache_lock:
        if key not in _cache:
            _cache[key] = TransformersLM(name, **options)
        return _cache[key]
