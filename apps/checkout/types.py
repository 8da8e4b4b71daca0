"""Checkout's types that apps.checkout.api hands to other apps (it re-exports them). This module
imports nothing of the app."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from uuid import UUID


class CartMergeResult(enum.Enum):
    ADOPTED = "adopted"  # the customer had no open cart in that currency: the guest cart became theirs
    MERGED = "merged"  # the guest cart's lines went into the customer's open cart, the guest cart closed
    ALREADY_DONE = "already_done"  # an earlier call merged or adopted it: nothing more to do
    NOT_FOUND = "not_found"  # no such open guest cart for that token (or another customer's): nothing done


@dataclass(frozen=True)
class CartMergeOutcome:
    result: CartMergeResult
    cart_id: UUID | None  # the customer's cart that now holds the lines (None: NOT_FOUND)
