"""Catalog writes, by sub-domain: `products` (products and categories), `adjustments` (staff
stock changes), `reservations` (the protocol that holds an order's stock), `sweeper` (what
repairs them), on `stock` (the stock row's conditional updates) and `clock` (catalog time).

The catalog runs on MongoDB in production, where neither `select_for_update` nor `atomic`
protects anything, so correctness never depends on a transaction:

* Every stock change is ONE conditional update of the SKU's Stock row, e.g.
  `filter(pk=sku, available__gte=n).update(available=F("available") - n, held=F("held") + n)`;
  the row count decides. Each such update keeps available + held + committed == stocked.
* Every reservation status change is a conditional update too (`filter(status="held")`), so
  two callers racing to release (or commit, or expire) one hold change the counters once.
* A reservation row and its stock counters are two writes. The row is always written first,
  with `settling_since` set, and cleared once the counters follow. A writer that dies in
  between leaves a marked row; after CATALOG_SETTLE_GRACE_SECONDS the sweeper settles such rows
  and recomputes the SKU's counters from its reservation rows (stock_reconcile), which are the
  truth for what is held and committed.
"""
