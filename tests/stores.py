"""The demo store's profile and vocabulary, for tests that parse messages as the served demo store does."""

from __future__ import annotations

from assistant.demo import catalog_path
from assistant.ingest.catalog import read_catalog
from assistant.understand.store import build_profile, store_vocabulary

DEMO_PRODUCTS, DEMO_REPORT = read_catalog([catalog_path()])
DEMO_PROFILE = build_profile(DEMO_PRODUCTS, None, DEMO_REPORT.currency)
DEMO_VOCAB = store_vocabulary(DEMO_PROFILE)
