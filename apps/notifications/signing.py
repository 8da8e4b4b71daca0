"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

The signed content is "<webhook-id>.<webhook-timestamp>.<body>", HMAC-SHA256 keyed with the
base64-decoded part of the "whsec_" secret; the header lists "v1,<base64 signature>" for every
secret in force, space-separated (during a rotation, the new and the old one)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def secret_generate() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_in_force: list[str], msg_id: str, timestamp: str, body: bytes) -> str:
    return " ".join(signature(secret, msg_id, timestamp, body) for secret in secrets_in_force)
