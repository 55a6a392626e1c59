"""Customer privacy: keyed pseudonyms, encryption at rest, and the list of forgotten customers.

- Pseudonyms: the one place a raw customer id is turned into a stored one (HMAC-SHA256 under a secret
  key). The same key always maps an id to the same pseudonym, so a returning customer is recognised;
  without the key a pseudonym cannot be linked back to the id.
- Encryption at rest: `DataCipher` (Fernet: AES-128-CBC + HMAC-SHA256, from `cryptography`) seals what
  the assistant stores about shoppers (feedback and turn logs, see shopper_data.py).
- Forgetting: `forget` adds a pseudonym to `forgotten.txt`; every reader of interaction logs drops the
  events of forgotten customers, so the next CF fit forgets them.

Keys come from the environment (`AISLE_PSEUDONYM_KEY`, `AISLE_DATA_KEY`), or from key files created on
first use (mode 0600) under the state folder (default `.aisle/`, git-ignored).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from assistant.core.errors import AisleError

KEY_ENV = "AISLE_PSEUDONYM_KEY"
KEY_FILE = "pseudonym.key"
DATA_KEY_ENV = "AISLE_DATA_KEY"
DATA_KEY_FILE = "data.key"
FORGOTTEN_FILE = "forgotten.txt"
PREFIX = "c_"


class DataKeyError(AisleError, RuntimeError):
    """Stored data cannot be opened with this installation's data key."""


class Pseudonymizer:
    """HMAC-SHA256 of a customer id under a secret key, shortened to 20 hex digits."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError(f"a pseudonymisation key ({KEY_ENV}) must be at least 16 bytes long")
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


def load_key(state_dir: Path, env_name: str = KEY_ENV, file_name: str = KEY_FILE) -> bytes:
    """A key from the environment variable, else from `state_dir/file_name` (created on first use, 0600)."""
    env = os.environ.get(env_name)
    if env:
        return env.encode("utf-8")
    path = Path(state_dir) / file_name
    if not path.is_file():
        # Written whole under a temporary name, then linked into place: a process or thread starting at the
        # same moment sees either no key file or the complete one, and the first link wins.
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{file_name}.{secrets.token_hex(8)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first; use theirs
        finally:
            temporary.unlink(missing_ok=True)
    return path.read_text().strip().encode("utf-8")


def pseudonymizer(state_dir: Path) -> Pseudonymizer:
    """The installation's pseudonymizer."""
    return Pseudonymizer(load_key(state_dir))


class DataCipher:
    """Seals JSON-able records for storage, and keyed tags for looking records up without storing ids."""

    def __init__(self, key: bytes) -> None:
        from cryptography.fernet import Fernet

        if len(key) < 16:
            raise ValueError("a data key must be at least 16 bytes")
        # Two independent keys from one secret: one seals, one tags.
        self._fernet = Fernet(base64.urlsafe_b64encode(hmac.new(key, b"aisle seal", hashlib.sha256).digest()))
        self._tag_key = hmac.new(key, b"aisle tag", hashlib.sha256).digest()

    def seal(self, record: Any) -> bytes:
        """Encrypt and authenticate a JSON-able record."""
        return self._fernet.encrypt(json.dumps(record, ensure_ascii=False).encode("utf-8"))

    def open(self, token: bytes) -> Any:
        """The record a `seal` made; DataKeyError when the key is wrong or the bytes were altered."""
        from cryptography.fernet import InvalidToken
        try:
            return json.loads(self._fernet.decrypt(bytes(token)))
        except (InvalidToken, TypeError, ValueError):
            raise DataKeyError(f"stored shopper data cannot be decrypted: the data key ({DATA_KEY_ENV} or "
                               f"{DATA_KEY_FILE}) is not the one it was written with, or the data was altered"
                               ) from None

    def tag(self, text: str) -> str:
        """A keyed, one-way tag of `text` (e.g. a conversation id) for lookups."""
        return hmac.new(self._tag_key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:24]


def data_cipher(state_dir: Path) -> DataCipher:
    """The installation's cipher for shopper data at rest."""
    key = load_key(state_dir, DATA_KEY_ENV, DATA_KEY_FILE)
    if len(key) < 16:
        raise DataKeyError(f"{DATA_KEY_ENV} must be at least 16 bytes long")
    return DataCipher(key)


def forgotten(state_dir: Path) -> set[str]:
    """Pseudonyms of the customers who asked to be forgotten."""
    path = Path(state_dir) / FORGOTTEN_FILE
    if not path.is_file():
        return set()
    return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def remember_forgotten(state_dir: Path, pseudonym: str) -> None:
    """Add a pseudonym to the forgotten list (kept so later reads of the source logs drop the customer)."""
    if pseudonym in forgotten(state_dir):
        return
    path = Path(state_dir) / FORGOTTEN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(pseudonym + "\n")
        handle.flush()
        os.fsync(handle.fileno())
