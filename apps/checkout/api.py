"""The only module other apps may import from apps.checkout.

Functions take and return primitives or frozen dataclasses, never models or querysets."""

from __future__ import annotations

from uuid import UUID

from apps.checkout.services.merge import carts_merge
from apps.checkout.types import CartMergeOutcome, CartMergeResult

__all__ = [
    "CartMergeOutcome",
    "CartMergeResult",
    "carts_merge_on_sign_in",
]


def carts_merge_on_sign_in(*, user_id: int, cart_id: UUID | str, cart_token: str) -> CartMergeOutcome:
    """At sign-in with a guest cart (its id and secret token): its lines go into the customer's
    open cart of the same currency, or it becomes the customer's cart if they have none there.
    Idempotent: calling it again returns ALREADY_DONE with the same cart. A wrong token, an
    unknown or expired cart, or another customer's cart is NOT_FOUND, and nothing changes."""
    return carts_merge(user_id=user_id, cart_id=cart_id, cart_token=cart_token)
