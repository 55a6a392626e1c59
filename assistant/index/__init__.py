"""Stage 2: embeddings, the vector index and the published index on disk."""
