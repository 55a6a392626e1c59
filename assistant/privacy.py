"""Keyed pseudonymisation of customer ids: the one place a raw customer id is turned into a stored one.

The key comes from `AISLE_PSEUDONYM_KEY`, or from a key file created on first use (mode 0600) under the
state folder (default `.aisle/`, git-ignored). The same key always maps an id to the same pseudonym, so
a returning customer is recognised; without the key a pseudonym cannot be linked back to the id.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_ENV = "AISLE_PSEUDONYM_KEY"
KEY_FILE = "pseudonym.key"
PREFIX = "c_"


class Pseudonymizer:
    """HMAC-SHA256 of a customer id under a secret key, shortened to 20 hex digits."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a pseudonymisation key must be at least 16 bytes")
        self._key = key

    def __call__(self, customer_id: str) -> str:
        """The stored pseudonym of a raw customer id (idempotent on pseudonyms it made)."""
        text = str(customer_id).strip()
        if self.is_pseudonym(text):
            return text
        digest = hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()
        return PREFIX + digest[:20]

    @staticmethod
    def is_pseudonym(text: str) -> bool:
        return len(text) == len(PREFIX) + 20 and text.startswith(PREFIX) and all(
            c in "0123456789abcdef" for c in text[len(PREFIX):])


def load_key(state_dir: Path) -> bytes:
    """The key from the environment, else from `state_dir/pseudonym.key` (created on first use)."""
    env = os.environ.get(KEY_ENV)
    if env:
        return env.encode("utf-8")
    path = Path(state_dir) / KEY_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")


def pseudonymizer(state_dir: Path) -> Pseudonymizer:
    """The installation's pseudonymizer."""
    return Pseudonymizer(load_key(state_dir))
