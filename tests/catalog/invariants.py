"""What must hold for a SKU's stock after any sequence of operations, crashes and repairs
included: computed from the rows, independently of the code under test."""

from django.db.models import Sum

from apps.catalog.models import Reservation, Stock


def _units(sku: str, status: str) -> int:
    return Reservation.objects.filter(sku=sku, status=status).aggregate(n=Sum("quantity", default=0))["n"]


def stock_state(sku: str) -> dict:
    stock = Stock.objects.get(pk=sku)
    return {"stocked": stock.stocked, "on_hand": stock.on_hand, "available": stock.available,
            "held": stock.held, "committed": stock.committed}


def assert_stock_consistent(sku: str, *, stocked: int) -> dict:
    """The counters balance, agree with the reservation rows, and `stocked` units exist."""
    state = stock_state(sku)
    assert state["stocked"] == stocked
    assert state["available"] >= 0
    assert state["available"] + state["held"] + state["committed"] == stocked
    assert state["on_hand"] == state["available"] + state["held"]
    assert state["held"] == _units(sku, Reservation.Status.HELD)
    assert state["committed"] == _units(sku, Reservation.Status.COMMITTED)
    assert not Reservation.objects.filter(sku=sku, settling_since__isnull=False).exists()
    return state
