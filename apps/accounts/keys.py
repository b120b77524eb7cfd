"""API key format: ``tl_<prefix>_<secret>``.

The prefix (8 base62 characters) is stored in clear and shown in lists so people can tell keys
apart; the whole key is stored only as its SHA-256. Lookups go by prefix, then compare hashes
in constant time.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string

ALPHABET = string.ascii_letters + string.digits
KEY_RE = re.compile(r"^tl_([A-Za-z0-9]{8})_([A-Za-z0-9]{32})$")


def _random(n: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def generate() -> tuple[str, str, str]:
    """Returns (full key, prefix, hash)."""
    prefix = _random(8)
    key = f"tl_{prefix}_{_random(32)}"
    return key, prefix, hash_key(key)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse(key: str) -> str | None:
    """The prefix of a well-formed key, else None."""
    match = KEY_RE.match(key.strip())
    return match.group(1) if match else None


def matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(key), stored_hash)
