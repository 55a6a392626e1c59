"""Publishing a catalog as a new index build, and knowing when the published one is already current."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Callable

from assistant.core.config import Settings
from assistant.core.money import normalise_currency
from assistant.index import BuildSummary, Progress, ProductIndex, build_index, published_path, read_manifest
from assistant.index.embedding import Embedder, backend_for_model, choose_backend, make_embedder
from assistant.index.vector_index import VectorIndex
from assistant.ingest.catalog import CatalogReport, Product, catalog_hash, read_catalog
from assistant.index.manifest import REPORT
from assistant.service.cross_lingual import CROSS_LINGUAL_FILE, cross_lingual_vectors
from assistant.understand.enrich import enrich_products
from assistant.understand.store import PROFILE_FILE, PROFILE_VERSION, StoreProfile, build_profile


def publish_products(settings: Settings, products: list[Product], report: CatalogReport,
                     progress: Progress | None = None,
                     embedder_for: Callable[[str, list[Product]], Embedder] | None = None,
                     index_builder: Callable[..., VectorIndex] | None = None) -> BuildSummary:
    """Embed what changed among already-validated products and publish a new build of the configured index
    (the embedder as configured; for "auto", chosen by the products' titles), with its store profile.
    `embedder_for(backend, products)` gives the embedder of the enriched products instead of the packaged
    model loaded here, and `index_builder` builds the vector index (both: the Spark build)."""
    backend = build_backend(settings, products)
    products, inferred = enrich_products(products)
    embedder = (make_embedder(backend, threads=settings.threads) if embedder_for is None
                else embedder_for(backend, products))
    for name, count in inferred.items():
        if count:
            report.notes.append(f"{count} product(s) had no {name}: read from the title (marked inferred)")
    profile = build_profile(products, settings.currency, report.currency)
    extra = {PROFILE_FILE: profile.to_json()}
    if settings.cross_lingual and backend == "minilm":
        extra[CROSS_LINGUAL_FILE] = cross_lingual_vectors(products, _published(settings), settings.threads,
                                                          settings.batch_size)
    return build_index(products, report, embedder, settings.index_dir, settings.index_name,
                       ann_threshold=settings.ann_threshold, index_kind=settings.index_kind,
                       ivfpq_threshold=settings.ivfpq_threshold, batch_size=settings.batch_size,
                       keep_builds=settings.keep_builds, progress=progress, threads=settings.threads,
                       extra_files=extra, **({"index_builder": index_builder} if index_builder else {}))


def _published(settings: Settings) -> ProductIndex | None:
    """The published build of the configured index, when there is a good one (for reusing its vectors)."""
    from assistant.index import IndexCorrupt, load_build

    folder = published_path(settings.index_dir, settings.index_name)
    if folder is None:
        return None
    try:
        return load_build(folder)
    except IndexCorrupt:
        return None


def build_backend(settings: Settings, products: list[Product]) -> str:
    """The embedder backend a build of these products uses: the configured one, or for "auto" the one the
    titles call for (`choose_backend`)."""
    return choose_backend(settings.embedder, (p.title for p in products))


def index_is_current(settings: Settings, products: list[Product]) -> bool:
    """True when the published index holds exactly these products, built by the embedder that a build of them
    would use now."""
    folder = published_path(settings.index_dir, settings.index_name)
    if folder is None:
        return False
    manifest = read_manifest(folder)
    try:
        same_embedder = backend_for_model(manifest["embedder"]["model_id"]) == build_backend(settings, products)
    except (KeyError, ValueError):
        return False
    wants_cross_lingual = settings.cross_lingual and build_backend(settings, products) == "minilm"
    if wants_cross_lingual and CROSS_LINGUAL_FILE not in manifest.get("extra_files", ()):
        return False
    # The index holds the products as enriched when published (see publish_products).
    return same_embedder and manifest.get("catalog_hash") == catalog_hash(enrich_products(products)[0])


def ensure_demo_index(settings: Settings, progress: Progress | None = None) -> BuildSummary | None:
    """Build (or refresh) the demo store's index unless the published one already matches it."""
    from assistant.demo import catalog_path

    products, report = read_catalog([catalog_path()])
    if index_is_current(settings, products):
        return None
    return publish_products(settings, products, report, progress)


def store_profile(index: ProductIndex, currency: str = "") -> StoreProfile:
    """The store profile of an index build: the one built with it, else (a build older than profiles)
    built from its products now. A `currency` setting wins over the one the profile holds."""
    data = index.extra_file(PROFILE_FILE)
    stored = json.loads(data) if data is not None else {}
    if stored.get("version") == PROFILE_VERSION:
        profile = StoreProfile.from_dict(stored)
    else:  # older than profiles, or profiled by an older Aisle: profile its products now
        report = json.loads((index.path / REPORT).read_text(encoding="utf-8")) if (index.path / REPORT).is_file() else {}
        profile = build_profile(index.products, None, report.get("currency"))
    chosen = normalise_currency(currency)
    if chosen and chosen != profile.currency:
        profile = replace(profile, currency=chosen, currency_source="setting")
    return profile
