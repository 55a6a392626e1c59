"""Stage 4: the shopper's words and conversation -> a structured request."""
