"""Stage 1: catalog and interaction files -> validated rows, products and logs."""
