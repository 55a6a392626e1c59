"""Settings from `aisle.toml` and environment variables, checked as they load.

Order of precedence: environment variable > `aisle.toml` (in the working folder, or the file named by
`AISLE_CONFIG`) > the defaults below. A table's keys are set from the environment with a double underscore
(`AISLE_FUSION__CONTENT=0.5`); `AISLE_LIMITS_<NAME>` (one underscore) is kept for the `[limits]` table.

The dataclasses below are the settings every stage reads; their annotations carry the checks that
`load_settings` makes through pydantic-settings: a value of the wrong type (`content = "0.5"`), a key that
is not a setting, or a name outside its choices is a `ConfigError` that names the key or variable.
Constructing a dataclass in code checks nothing, as before.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Callable, Literal, get_args, get_type_hints

from pydantic import (AfterValidator, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, TypeAdapter,
                      ValidationError, create_model, with_config)
from pydantic_core import ErrorDetails
from pydantic_settings import (BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict,
                               SettingsError)

from assistant.core.errors import AisleError

ENV_PREFIX = "AISLE_"
ENV_NESTED_DELIMITER = "__"

# The names each stage's factory accepts (kept equal to them by tests/test_config.py).
FusionMethod = Literal["weighted", "rrf"]
ContentFusionMethod = Literal["minmax", "rrf"]
EmbedderName = Literal["auto", "minilm", "use", "hashing"]  # "auto": chosen by the catalog's language
ShopperStoreName = Literal["sqlite", "postgresql"]
IndexKind = Literal["auto", "flat", "hnsw", "ivfpq"]  # "auto": chosen by product count (docs/index.md)
CFModelName = Literal["auto", "popularity", "user_user", "item_item", "als", "bpr", "ease", "sequence", "blend"]
FUSION_METHODS: tuple[str, ...] = get_args(FusionMethod)
EMBEDDERS: tuple[str, ...] = get_args(EmbedderName)
CF_MODELS: tuple[str, ...] = get_args(CFModelName)
LLM_MODELS: tuple[str, ...] = ("qwen", "smollm2")  # packaged; also "none", or a path to local weights


class ConfigError(AisleError, ValueError):
    """A setting in `aisle.toml` or an `AISLE_*` variable that is not valid; the message names it.
    (A ValueError too, as the loader raised before.)"""


def _llm_model_name(name: str) -> str:
    """The rule of `make_language_model`: a packaged name, "none", or something that looks like a path."""
    looks_like_path = name.endswith(".gguf") or os.sep in name or name.startswith(("~", ".")) or os.path.exists(name)
    if name not in (*LLM_MODELS, "none") and not looks_like_path:
        raise ValueError(f"must be one of {', '.join((*LLM_MODELS, 'none'))}, or a path to a .gguf file or a "
                         "model folder")
    return name


LLMModelName = Annotated[StrictStr, AfterValidator(_llm_model_name)]


def _text_encoding(name: str) -> str:
    """"auto" or a codec Python knows (gb18030, big5, shift_jis, cp1252, latin-1 ...)."""
    import codecs
    if name != "auto":
        try:
            codecs.lookup(name)
        except LookupError:
            raise ValueError("must be \"auto\" or a Python codec name such as utf-8, gb18030, big5, shift_jis, "
                             "cp1252") from None
    return name


TextEncoding = Annotated[StrictStr, AfterValidator(_text_encoding)]
WholeNumber = Annotated[StrictInt, Field(ge=1)]  # a whole number ≥ 1


LEXICAL_DEFAULT = 0.3  # best content NDCG@10 and hybrid NDCG@5 on the demo labelled requests (docs/ranking.md)


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True)
class FusionSettings:
    """How the hybrid ranker fuses its sources; chosen on the labelled request set (docs/ranking.md)."""

    method: FusionMethod = "weighted"  # "weighted" (normalised weighted sum) or "rrf" (reciprocal rank fusion)
    content: StrictFloat = 0.65
    # Content score = (1 - lexical) · dense cosine + lexical · BM25, each min-max scaled over the catalog
    # ("minmax"), or by reciprocal ranks ("rrf"); 0 = dense only (docs/ranking.md, "Lexical + dense").
    lexical: StrictFloat = LEXICAL_DEFAULT
    lexical_fusion: ContentFusionMethod = "minmax"
    cf: StrictFloat = 0.03
    attributes: StrictFloat = 0.2
    content_pool: StrictInt = 150
    cf_pool: StrictInt = 100
    prior_pool: StrictInt = 30
    diversity: StrictFloat = 0.05  # MMR penalty on similarity to what is already chosen (0 = off)
    # At most ceil(share · k) of the top k from the top popularity decile (None = off; docs/fairness.md).
    max_popular_share: StrictFloat | None = None
    # Rank the pool with the learned preference model when one is fitted for the index (`aisle rank fit`);
    # off, or with none fitted or loadable, the weights above rank it (docs/ranking.md, "Learned preference model").
    preference: StrictBool = True


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True)
class ReadLimits:
    """Bounds on what one read of data files (a catalog, interaction logs, customer files) may hold, so a
    crafted file (a gzip bomb, a million-column header, a deeply nested JSON row) is a clean rejection within
    bounded memory and time. Defaults and what happens past each: docs/catalog.md, "Limits"."""

    max_file_bytes: WholeNumber = 2 * 1024**3  # one file's size after gunzip (2 GiB)
    max_rows: WholeNumber = 10_000_000  # rows of all files of one read together
    max_columns: WholeNumber = 1_000  # columns of a CSV header / Parquet file, keys of a JSONL object
    max_row_chars: WholeNumber = 1_048_576  # one CSV line or JSONL row (1 Mi characters)
    max_json_depth: WholeNumber = 32  # nesting of [ and { in one JSONL row


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True)
class Settings:
    """Everything configurable about one Aisle installation."""

    index_dir: Path = Path("index")
    index_name: StrictStr = "demo"
    # "auto" builds with MiniLM (English; NDCG@10 0.78 vs 0.66 for USE on an English product-search set,
    # ../shared/MODELS.md), or with "use" (multilingual) when most of the catalog's titles hold CJK ideographs
    # (Chinese) or most of their words are not English (index/embedding.py, choose_backend). The demo store
    # is English: MiniLM.
    embedder: EmbedderName = "auto"
    batch_size: StrictInt = 64
    threads: StrictInt = 2
    # The vector index: "auto" is exact (flat) up to ann_threshold products, HNSW above it, IVF-PQ above
    # ivfpq_threshold (~63 bytes a product instead of ~1.8 KB; its recall: docs/index.md).
    index_kind: IndexKind = "auto"
    ann_threshold: StrictInt = 50_000
    ivfpq_threshold: StrictInt = 1_000_000
    keep_builds: StrictInt = 3
    # A running server re-checks the checksums of its published index and CF model this often (seconds).
    verify_seconds: StrictFloat = 60.0
    # Private state: the pseudonymisation key file (never commit this folder).
    state_dir: Path = Path(".aisle")
    # Chosen by `aisle eval cf` on the demo store: see docs/collaborative.md.
    # "auto": `aisle cf fit` chooses the model and its settings on the store's own log (docs/collaborative.md).
    cf_model: CFModelName = "auto"
    # The language model that reranks and explains: "qwen" (default), "smollm2", a path to a .gguf file or
    # a model folder, or "none" to answer without the LLM stage.
    llm_model: LLMModelName = "qwen"
    llm_int8: StrictBool = True
    rerank_top_n: StrictInt = 8
    # Blend of the LLM's P(Yes) with the hybrid score. 0 by measurement: on the labelled set every weight
    # from 0.05 to 1.0 lowered NDCG@5 (docs/llm.md), so the LLM writes the reasons but does not rerank.
    llm_weight: StrictFloat = 0.0
    reason_tokens: StrictInt = 32  # a 22-word sentence fits; 40 cost 0.35 s more a turn (docs/llm.md)
    # Staff and admin views and API endpoints need this token (AISLE_STAFF_TOKEN); empty means they are off.
    staff_token: StrictStr = field(default="", repr=False)
    # The store's backend sends this (AISLE_STOREFRONT_TOKEN) with a signed-in shopper's customer id; without
    # it a customer id is refused, so an anonymous caller cannot read a customer's profile (docs/security.md).
    storefront_token: StrictStr = field(default="", repr=False)
    # Largest catalog upload accepted by the web server (API and Admin tab), counted as it streams in.
    max_upload_bytes: StrictInt = 200 * 1024 * 1024
    # Store shopper message text (scrubbed of personal data) with feedback and turn logs. Off: only ids,
    # the kind of feedback and the shown products are stored — encrypted either way (docs/security.md).
    log_messages: StrictBool = False
    # Feedback and turn logs older than this many days are deleted.
    retention_days: StrictFloat = 90.0
    # Where feedback, turn logs, open conversations and staff traces live: "sqlite" (one encrypted file under
    # state_dir; conversations and traces in the process) or "postgresql" (one database that every serving
    # replica shares, at `postgres_dsn`, best given as AISLE_POSTGRES_DSN; docs/replicas.md).
    shopper_store: ShopperStoreName = "sqlite"
    postgres_dsn: StrictStr = field(default="", repr=False)
    # A store's own segments file (default: the one shipped in the package).
    segments_file: Path | None = None
    # The store's rules placing a customer in a segment from the customer file's columns (age band, kids ...),
    # instead of its segment column (ingest/segment_rules.py; docs/collaborative.md, "Customer segments").
    segment_rules_file: Path | None = None
    # Score fusion of the hybrid ranker (see docs/ranking.md for how it was chosen).
    fusion: FusionSettings = field(default_factory=lambda: FusionSettings())
    column_map: dict[StrictStr, StrictStr] = field(default_factory=dict)
    # An English store's build also keeps multilingual (USE) vectors of its products, so words the parser's
    # glossary does not translate ("冷冻披萨") still find them (service/cross_lingual.py; ~5 s per 2,400 products).
    cross_lingual: StrictBool = True
    # The store's currency (an ISO code such as "INR", or a symbol such as "₹"); empty: the one the catalog
    # names (a price column "Price (INR)", or prices written "₹1,299"), else USD. Prices show in it everywhere.
    currency: StrictStr = ""
    # The text encoding of catalog files: "auto" (UTF-8, UTF-16 by BOM, else detected when confident and
    # noted in the load report; docs/catalog.md) or a Python codec name ("gb18030", "cp1252" ...).
    catalog_encoding: TextEncoding = "auto"
    # Bounds on catalog and log files ([limits] table, or AISLE_LIMITS__MAX_ROWS ...; docs/catalog.md).
    limits: ReadLimits = field(default_factory=lambda: ReadLimits())

    def with_overrides(self, **changes: Any) -> "Settings":
        """A copy with the given fields changed (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


# ---------------------------------------------------------------------------- loading


def load_settings(path: str | Path | None = None) -> Settings:
    """Read settings: defaults, then the TOML file (if any), then AISLE_* environment variables.

    Raises ConfigError, naming the key or variable, for a value of the wrong type, an unknown key or a name
    outside its choices."""
    config_path = Path(path or os.environ.get("AISLE_CONFIG", "aisle.toml"))
    data = _read_toml(config_path) if config_path.is_file() else {}
    try:  # the file alone first, so that its errors name the file and the key
        _adapter(Settings).validate_python(data)
    except ValidationError as err:
        raise ConfigError(_describe(err, lambda loc: f"{config_path}: {'.'.join(map(str, loc))}:")) from None
    try:  # then with the environment over it; each variable was already checked by _EnvironmentSource
        loaded = _settings_model()(**data)
    except ValidationError as err:
        raise ConfigError(_describe(err, lambda loc: f"settings: {'.'.join(map(str, loc))}:")) from None
    return Settings(**{f.name: getattr(loaded, f.name) for f in fields(Settings)})


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None


class _SettingsBase(BaseSettings):
    """What pydantic-settings reads: AISLE_* variables over the TOML file's values (given as init values)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter=ENV_NESTED_DELIMITER,
                                      case_sensitive=False, extra="forbid", enable_decoding=False)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return _EnvironmentSource(settings_cls), init_settings  # no .env or secrets files


@cache
def _settings_model() -> type[BaseSettings]:
    """A pydantic-settings model with the fields (annotations and defaults) of the Settings dataclass."""
    spec: dict[str, Any] = {}
    for f in fields(Settings):
        default = f.default if f.default is not MISSING else Field(default_factory=f.default_factory)
        spec[f.name] = (_hints(Settings)[f.name], default)
    return create_model("AisleSettings", __base__=_SettingsBase, **spec)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls, include_extras=True)


@cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


class _EnvironmentSource(EnvSettingsSource):
    """AISLE_* variables, each converted from text to its setting's type here (leniently: "0.5" is a number,
    "yes" is true), so an error names the variable while the model stays strict about the TOML file's
    typed values. A table's keys come from AISLE_<TABLE>__<KEY>, the limits also from AISLE_LIMITS_<KEY>."""

    def __call__(self) -> dict[str, Any]:
        try:
            raw = super().__call__()
        except SettingsError as err:
            raise ConfigError(f"environment: {err}") from None
        names: dict[tuple[str, ...], str] = {}
        self._add_old_limit_names(raw, names)
        return {name: self._converted(name, value, names) for name, value in raw.items()}

    def _add_old_limit_names(self, raw: dict[str, Any], names: dict[tuple[str, ...], str]) -> None:
        """AISLE_LIMITS_MAX_ROWS, the name before tables were set with a double underscore, still works."""
        for f in fields(ReadLimits):
            old = f"{ENV_PREFIX}LIMITS_{f.name.upper()}"
            text = self.env_vars.get(old.lower())
            if text is None:
                continue
            limits = raw.setdefault("limits", {})
            if not isinstance(limits, dict):
                continue  # AISLE_LIMITS itself is set: reported as not a table
            new = _env_name(("limits", f.name))
            if f.name in limits and limits[f.name] != text:
                raise ConfigError(f"{old} and {new} are both set, to different values ({text!r}, "
                                  f"{limits[f.name]!r}); set one")
            limits[f.name] = text
            names[("limits", f.name)] = old

    def _converted(self, name: str, value: Any, names: dict[tuple[str, ...], str]) -> Any:
        """One setting's value from text; a table's value key by key (only the keys set, so the rest of the
        TOML file's table stays)."""
        annotation = _hints(Settings)[name]
        table = annotation if is_dataclass(annotation) else None
        if table is None and not isinstance(value, dict):
            return _from_text(annotation, value, _env_name((name,)))
        if not isinstance(value, dict):
            raise ConfigError(f"{_env_name((name,))} cannot be set as a whole: set its keys, as "
                              f"{_env_name((name, '<key>'))}")
        if table is None:  # column_map: any keys, text values
            return {key: _from_text(StrictStr, text, _env_name((name, key))) for key, text in value.items()}
        known = _hints(table)
        converted = {}
        for key, text in value.items():
            variable = names.get((name, key), _env_name((name, key)))
            if key not in known or isinstance(text, dict):
                raise ConfigError(f"{variable} is not a setting; known: "
                                  + ", ".join(_env_name((name, k)) for k in known))
            converted[key] = _from_text(known[key], text, variable)
        return converted


def _env_name(loc: tuple[str, ...]) -> str:
    return ENV_PREFIX + ENV_NESTED_DELIMITER.join(loc).upper()


def _from_text(annotation: Any, text: Any, variable: str) -> Any:
    try:
        return _adapter(annotation).validate_python(text, strict=False)
    except ValidationError as err:
        raise ConfigError(_describe(err, lambda loc: variable)) from None


def _describe(err: ValidationError, where: Callable[[tuple[int | str, ...]], str]) -> str:
    """pydantic's errors as Aisle's lines: `<where the value is> <what it must be> (got <value>)`."""
    return "\n".join(f"{where(e['loc'])} {_problem(e)}" for e in err.errors())


_PROBLEMS = {
    "int_type": "must be a whole number", "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number", "float_type": "must be a number", "float_parsing": "must be a number",
    "bool_type": "must be true or false", "bool_parsing": "must be true or false",
    "string_type": "must be a string", "path_type": "must be a path (a string)",
    "dict_type": "must be a table", "dataclass_type": "must be a table",
}


def _problem(error: ErrorDetails) -> str:
    kind, loc, got, ctx = error["type"], error["loc"], error.get("input"), error.get("ctx") or {}
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        table = _table_at(loc[:-1])
        return "is not a setting; known: " + ", ".join(_hints(table)) if table else "is not a setting"
    if kind == "literal_error":
        text = "must be one of " + ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
    elif kind == "greater_than_equal":
        text = f"must be at least {ctx['ge']}"
    elif kind == "value_error":
        text = str(ctx.get("error", error["msg"]))
    else:
        text = _PROBLEMS.get(kind) or error["msg"][:1].lower() + error["msg"][1:]
    return f"{text} (got {got!r})"


def _table_at(loc: tuple[int | str, ...]) -> type | None:
    """The dataclass whose keys are at `loc` (() is Settings itself), or None (as under column_map)."""
    table: Any = Settings
    for key in loc:
        table = _hints(table).get(str(key)) if is_dataclass(table) else None
    return table if is_dataclass(table) else None
