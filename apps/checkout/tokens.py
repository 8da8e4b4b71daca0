"""The secret cart token of a guest cart: handed out once at creation, stored as its SHA-256
(a database dump yields no usable token), compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

HEADER = "X-Cart-Token"


def cart_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cart_token_new() -> tuple[str, str]:
    """A new token and the hash to store."""
    token = secrets.token_urlsafe(32)
    return token, cart_token_hash(token)


def cart_token_matches(*, token_hash: str, token: str | None) -> bool:
    if not token or not token_hash:
        return False
    return hmac.compare_digest(token_hash, cart_token_hash(token))
