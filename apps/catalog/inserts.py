"""Many rows in one INSERT (one insert_many on MongoDB) and nothing else: the one place that
uses Django's private insert API, so that a Django upgrade that changes it breaks one module,
which tests/catalog/test_inserts.py checks against the real database.

Why not bulk_create(): it wraps the insert in atomic(), a BEGIN and a COMMIT round trip on
PostgreSQL that protect nothing here (one statement is atomic in SQL, and MongoDB's partial
insert is read back by rows_written_before). The reservation path counts its statements.

What it relies on (Django 5.2; save() and bulk_create() insert through the same calls):
* `Manager._insert(objs, fields=..., using=...)`: one INSERT of `objs`, without a transaction.
  Without `returning_fields` nothing is read back, so every row needs its primary key set.
* `Model._state.adding` and `._state.db`: what save() and bulk_create() set after an insert, so
  that a later save() of the row updates it on the database it was written to."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext

from django.db import IntegrityError, models, router, transaction


def rows_insert(model: type[models.Model], rows: Sequence[models.Model]) -> None:
    """Insert `rows` (instances of `model`, primary keys set) in one statement, outside any
    transaction. Raises IntegrityError if a row exists already (see rows_written_before)."""
    if not rows:
        return
    alias = router.db_for_write(model)
    # Inside a caller's transaction (only tests open one on this alias), a savepoint keeps a
    # duplicate from aborting it; outside, the one statement needs none.
    with transaction.atomic(using=alias) if transaction.get_connection(alias).in_atomic_block else nullcontext():
        model._base_manager._insert(rows, fields=model._meta.concrete_fields, using=alias)
    for row in rows:
        row._state.adding, row._state.db = False, alias


def rows_written_before(error: IntegrityError, rows: Sequence[models.Model]) -> list[models.Model]:
    """The rows that a rows_insert() which raised `error` wrote nonetheless. A SQL engine wrote
    none (one statement, rolled back). MongoDB inserts in order and stops at the duplicate: the
    rows before it are written, as pymongo's BulkWriteError (the error's cause) counts them."""
    written = getattr(error.__cause__, "details", None) or {}
    return list(rows[: written.get("nInserted", 0)])
