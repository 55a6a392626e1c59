"""The words the parser knows (`Vocabulary`), loaded from the per-language TOML files under `vocab/`."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from assistant.understand.patterns import Patterns
from assistant.understand.request import LANGUAGES

if TYPE_CHECKING:
    from assistant.understand.dictionary import StoreDictionary

@dataclass(frozen=True, eq=False)
class Vocabulary:
    """The words the parser knows, merged over languages. Build with `load_vocabulary`."""

    languages: tuple[str, ...]
    colors: dict[str, str]  # phrase -> shade
    color_families: dict[str, str]  # shade -> family (a shade not listed is its own family)
    color_ignore: tuple[str, ...]
    sizes: dict[str, str]
    size_words: dict[str, str]
    size_known: frozenset[str]
    numbers: dict[str, int]
    ordinals: dict[str, int]
    audience: dict[str, str]
    audience_weak: dict[str, str]
    segments: dict[str, tuple[str, float]]
    categories: dict[str, tuple[str, ...]]
    brands: dict[str, str]  # lower-case alias -> brand name as written (the store's brands and well-known ones)
    exclude_terms: dict[str, str]
    negation: tuple[str, ...]
    negation_fillers: tuple[str, ...]
    budget: dict[str, tuple[str, ...]]
    operations: dict[str, tuple[str, ...]]
    clear: dict[str, str]
    age: dict[str, tuple[str, ...]]
    filler: tuple[str, ...]
    stopwords: frozenset[str]
    gloss: dict[str, str]
    brand_names: tuple[str, ...] = ()  # every brand as written, in file order
    # negation term -> the word that, just before it, makes a yes/no question instead ("有没有红色的" asks for red)
    negation_questions: dict[str, str] = field(default_factory=dict)

    brand_aliases: dict[str, str] = field(default_factory=dict)  # other names of well-known brands -> brand
    store_words: frozenset[str] = frozenset()  # a store's own words: an audience word among them stays a search word
    # Chinese words read in the store's own English words (a store whose titles are not Chinese), or None
    dictionary: "StoreDictionary | None" = None

    def color_family(self, shade: str) -> str:
        """The family of a shade ("navy" -> "blue"; "blue" -> "blue")."""
        return self.color_families.get(shade, shade)

    @functools.cached_property
    def patterns(self) -> Patterns:
        """The compiled regular expressions (built once per vocabulary)."""
        return Patterns(self)


def brand_spellings(name: str) -> set[str]:
    """The lower-case ways a brand is typed: "Loom & Lane" -> loom & lane, loom and lane, loom&lane."""
    lower = name.lower()
    return {lower, lower.replace("&", "and"), lower.replace(" & ", "&")}


def load_vocabulary(languages: Iterable[str] = LANGUAGES) -> Vocabulary:
    """Load and merge the vocabulary files of `languages` (cached)."""
    if isinstance(languages, str):
        languages = (languages,)
    languages = tuple(languages)
    unknown = [lang for lang in languages if lang not in LANGUAGES]
    if unknown or not languages:
        raise ValueError(f"languages: unknown or empty {list(languages)!r}; available: {', '.join(LANGUAGES)}")
    return _load_vocabulary(languages)


@functools.lru_cache(maxsize=8)
def _load_vocabulary(languages: tuple[str, ...]) -> Vocabulary:
    tables: dict[str, Any] = {}
    for lang in languages:
        with resources.files("assistant.understand.vocab").joinpath(f"{lang}.toml").open("rb") as fh:
            data = tomllib.load(fh)
        for name, table in data.items():
            merged = tables.setdefault(name, {})
            for key, value in table.items():
                if isinstance(value, list) and isinstance(merged.get(key), list):
                    merged[key] = merged[key] + value
                else:
                    merged[key] = value

    def get(name: str) -> dict[str, Any]:
        return {str(k).lower(): v for k, v in tables.get(name, {}).items()}

    def lists(name: str) -> dict[str, tuple[str, ...]]:
        return {k: tuple(str(x).lower() for x in v) for k, v in tables.get(name, {}).items()}

    brands: dict[str, str] = {}
    brand_table = tables.get("brands", {})
    brand_names = list(brand_table.get("known", []))
    for name in brand_names:
        for alias in brand_spellings(name):
            brands.setdefault(alias, name)
    filler = tables.get("filler", {})
    negation = tables.get("negation", {})
    return Vocabulary(
        languages=languages,
        colors=get("colors"),
        color_families=get("color_families"),
        color_ignore=tuple(t.lower() for t in tables.get("color_ignore", {}).get("terms", [])),
        sizes=get("sizes"),
        size_words=get("size_words"),
        size_known=frozenset(),  # a store's own sizes (see assistant/understand/store.py)
        numbers={k: int(v) for k, v in get("numbers").items()},
        ordinals={k: int(v) for k, v in get("ordinals").items()},
        audience=get("audience"),
        audience_weak=get("audience_weak"),
        segments={k: (str(v[0]), float(v[1])) for k, v in get("segments").items()},
        categories={},  # a store's own category cues (see assistant/understand/store.py)
        brands=brands,
        exclude_terms=get("exclude_terms"),
        negation=tuple(t.lower() for t in negation.get("terms", [])),
        negation_fillers=tuple(t.lower() for t in negation.get("fillers", [])),
        negation_questions={str(k).lower(): str(v).lower() for k, v in negation.get("questions", {}).items()},
        budget=lists("budget"),
        operations=lists("operations"),
        clear=get("clear"),
        age=lists("age"),
        filler=tuple(t.lower() for t in filler.get("phrases", [])),
        stopwords=frozenset(t.lower() for t in filler.get("stopwords", [])),
        gloss=get("gloss"),
        brand_names=tuple(dict.fromkeys(str(name) for name in brand_names)),
        brand_aliases={str(k).lower(): str(v) for k, v in tables.get("brand_aliases", {}).items()},
    )

