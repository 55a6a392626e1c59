"""Keys, pseudonyms, encryption at rest and PII scrubbing (used by ingest and service)."""
