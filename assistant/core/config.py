"""Settings from `aisle.toml` and environment variables.

Order of precedence: environment variable > `aisle.toml` (in the working folder, or the file named by
`AISLE_CONFIG`) > the defaults below.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "AISLE_"


@dataclass(frozen=True)
class FusionSettings:
    """How the hybrid ranker fuses its sources; chosen on the labelled request set (docs/ranking.md)."""

    method: str = "weighted"  # "weighted" (normalised weighted sum) or "rrf" (reciprocal rank fusion)
    content: float = 0.65
    cf: float = 0.03
    attributes: float = 0.2
    content_pool: int = 150
    cf_pool: int = 100
    prior_pool: int = 30
    diversity: float = 0.05  # MMR penalty on similarity to what is already chosen (0 = off)
    # At most ceil(share · k) of the top k from the top popularity decile (None = off; docs/fairness.md).
    max_popular_share: float | None = None


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on what one read of data files (a catalog, interaction logs, customer files) may hold, so a
    crafted file (a gzip bomb, a million-column header, a deeply nested JSON row) is a clean rejection within
    bounded memory and time. Defaults and what happens past each: docs/catalog.md, "Limits"."""

    max_file_bytes: int = 2 * 1024**3  # one file's size after gunzip (2 GiB)
    max_rows: int = 10_000_000  # rows of all files of one read together
    max_columns: int = 1_000  # columns of a CSV header / Parquet file, keys of a JSONL object
    max_row_chars: int = 1_048_576  # one CSV line or JSONL row (1 Mi characters)
    max_json_depth: int = 32  # nesting of [ and { in one JSONL row


def _read_limits(value: Any, where: str) -> ReadLimits:
    """A `[limits]` table (or its env values) as ReadLimits: known keys only, each a whole number ≥ 1."""
    if not isinstance(value, dict):
        raise ValueError(f"{where}: setting 'limits' must be a table")
    known = {f.name for f in fields(ReadLimits)}
    checked: dict[str, int] = {}
    for key, raw in value.items():
        if key not in known:
            raise ValueError(f"{where}: unknown setting limits.{key}; known: {', '.join(sorted(known))}")
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
            raise ValueError(f"{where}: limits.{key} must be a whole number ≥ 1, not {raw!r}")
        checked[key] = raw
    return ReadLimits(**checked)


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one Aisle installation."""

    index_dir: Path = Path("index")
    index_name: str = "demo"
    # MiniLM is the default: on an English product-search set it scored NDCG@10 0.78 vs 0.66 for USE
    # (../shared/MODELS.md); the demo store is English. "use" serves multilingual / Chinese stores.
    embedder: str = "minilm"
    batch_size: int = 64
    threads: int = 2
    # Above this many products the vector index is approximate (HNSW) instead of exact.
    ann_threshold: int = 50_000
    keep_builds: int = 3
    # A running server re-checks the checksums of its published index and CF model this often (seconds).
    verify_seconds: float = 60.0
    # Private state: the pseudonymisation key file (never commit this folder).
    state_dir: Path = Path(".aisle")
    # Chosen by `aisle eval cf` on the demo store: see docs/collaborative.md.
    cf_model: str = "blend"
    # The language model that reranks and explains: "qwen" (default), "smollm2", a path to a .gguf file or
    # a model folder, or "none" to answer without the LLM stage.
    llm_model: str = "qwen"
    llm_int8: bool = True
    rerank_top_n: int = 8
    # Blend of the LLM's P(Yes) with the hybrid score. 0 by measurement: on the labelled set every weight
    # from 0.05 to 1.0 lowered NDCG@5 (docs/llm.md), so the LLM writes the reasons but does not rerank.
    llm_weight: float = 0.0
    reason_tokens: int = 32  # a 22-word sentence fits; 40 cost 0.35 s more a turn (docs/llm.md)
    # Staff and admin views and API endpoints need this token (AISLE_STAFF_TOKEN); empty means they are off.
    staff_token: str = field(default="", repr=False)
    # The store's backend sends this (AISLE_STOREFRONT_TOKEN) with a signed-in shopper's customer id; without
    # it a customer id is refused, so an anonymous caller cannot read a customer's profile (docs/security.md).
    storefront_token: str = field(default="", repr=False)
    # Largest catalog upload accepted by the web server (API and Admin tab), counted as it streams in.
    max_upload_bytes: int = 200 * 1024 * 1024
    # Store shopper message text (scrubbed of personal data) with feedback and turn logs. Off: only ids,
    # the kind of feedback and the shown products are stored — encrypted either way (docs/security.md).
    log_messages: bool = False
    # Feedback and turn logs older than this many days are deleted.
    retention_days: float = 90.0
    # A store's own segments file (default: the one shipped in the package).
    segments_file: Path | None = None
    # Score fusion of the hybrid ranker (see docs/ranking.md for how it was chosen).
    fusion: FusionSettings = field(default_factory=lambda: FusionSettings())
    column_map: dict[str, str] = field(default_factory=dict)
    # Bounds on catalog and log files ([limits] table, or AISLE_LIMITS_MAX_ROWS ...; docs/catalog.md).
    limits: ReadLimits = field(default_factory=lambda: ReadLimits())

    def with_overrides(self, **changes: Any) -> "Settings":
        """A copy with the given fields changed (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _coerce(name: str, value: Any) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    if kind in ("Path", "Path | None"):
        return Path(value)
    if kind == "FusionSettings":
        if not isinstance(value, dict):
            raise ValueError("setting 'fusion' must be a table")
        return FusionSettings(**value)
    if kind == "ReadLimits":
        return _read_limits(value, "settings")
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("1", "true", "yes", "on")
    if kind.startswith("dict"):
        if not isinstance(value, dict):
            raise ValueError(f"setting {name!r} must be a table")
        return {str(k): str(v) for k, v in value.items()}
    return str(value)


def load_settings(path: str | Path | None = None) -> Settings:
    """Read settings: defaults, then the TOML file (if any), then AISLE_* environment variables."""
    values: dict[str, Any] = {}
    config_path = Path(path or os.environ.get("AISLE_CONFIG", "aisle.toml"))
    if config_path.is_file():
        with open(config_path, "rb") as handle:
            data = tomllib.load(handle)
        known = {f.name for f in fields(Settings)}
        for key, value in data.items():
            if key not in known:
                raise ValueError(f"{config_path}: unknown setting {key!r}; known: {', '.join(sorted(known))}")
            values[key] = _coerce(key, value)
    for f in fields(Settings):
        env = os.environ.get(ENV_PREFIX + f.name.upper())
        if env is not None and f.name not in ("column_map", "fusion", "limits"):
            values[f.name] = _coerce(f.name, env)
    limit_env: dict[str, Any] = {}
    for f in fields(ReadLimits):
        text = os.environ.get(f"{ENV_PREFIX}LIMITS_{f.name.upper()}")
        if text is not None:
            try:
                limit_env[f.name] = int(text.strip().replace("_", ""))
            except ValueError:
                raise ValueError(f"{ENV_PREFIX}LIMITS_{f.name.upper()} must be a whole number, "
                                 f"not {text!r}") from None
    if limit_env:
        from_env = _read_limits(limit_env, "environment (AISLE_LIMITS_*)")
        values["limits"] = replace(values.get("limits", ReadLimits()),
                                   **{k: getattr(from_env, k) for k in limit_env})
    return Settings(**values)
