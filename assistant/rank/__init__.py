"""Stage 5: segments, attribute values, hard filters and hybrid ranking."""
