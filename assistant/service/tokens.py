"""Constant-time token checks for the staff and storefront tokens."""

from __future__ import annotations

import hmac


def token_matches(configured: str, given: str | None) -> bool:
    """Constant-time comparison; an empty configured token matches nothing."""
    if not configured or not isinstance(given, str):
        return False
    # "surrogatepass": a lone surrogate (valid JSON, "\ud800") is a wrong token, not an encoding error
    return hmac.compare_digest(configured.encode("utf-8", "surrogatepass"), given.encode("utf-8", "surrogatepass"))
