"""Settings owned by apps.orders (read from the environment). Star-imported by base.py."""

from config.env import env

# Stock is held this long while placement runs; a confirmed order holds it until shipment.
ORDERS_RESERVATION_TTL_SECONDS = env.int("ORDERS_RESERVATION_TTL_SECONDS", default=15 * 60)
# A pending order untouched this long is stuck mid-saga: recovery drives it on or compensates.
ORDERS_SAGA_STUCK_AFTER_SECONDS = env.int("ORDERS_SAGA_STUCK_AFTER_SECONDS", default=120)
# A payment whose outcome is unknown is waited for (reconciliation) this long, then compensated.
ORDERS_PAYMENT_UNKNOWN_GIVE_UP_SECONDS = env.int("ORDERS_PAYMENT_UNKNOWN_GIVE_UP_SECONDS", default=60 * 60)
# Capture at placement instead of at shipment.
ORDERS_CAPTURE_ON_PLACEMENT = env.bool("ORDERS_CAPTURE_ON_PLACEMENT", default=False)
# A staff action's claim on an order goes stale after this long (its process died).
ORDERS_ACTION_CLAIM_SECONDS = env.int("ORDERS_ACTION_CLAIM_SECONDS", default=300)

ORDERS_BEAT_SCHEDULE: dict = {
    "orders-recover-stuck": {"task": "orders.recover_stuck", "schedule": 60.0},
}
