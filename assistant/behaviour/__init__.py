"""Stage 3: collaborative-filtering (behavioural) models fitted on interaction logs."""
