"""Stage 7: grounded one-line reasons, checked against product data."""
