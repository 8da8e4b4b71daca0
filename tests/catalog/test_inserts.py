"""apps.catalog.inserts is the one place that uses Django's private insert API (the manager's
_insert and the instances' _state). These tests run it against the real database, so that a
Django (or MongoDB backend) upgrade that changes what it relies on fails here."""

import uuid

import pytest
from django.db import IntegrityError, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.catalog.inserts import rows_insert, rows_written_before
from apps.catalog.models import ReservationEvent

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "catalog"])  # autocommit, as in production


def event(sku, *, event_id=None):
    return ReservationEvent(id=event_id or uuid.uuid4(), reservation_id=uuid.uuid4(), order_id=uuid.uuid4(),
                            sku=sku, quantity=2, from_status="", to_status="pending", created_at=timezone.now())


def stored():
    return list(ReservationEvent.objects.order_by("sku").values_list("id", "sku", "quantity", "to_status"))


def test_every_row_is_written_in_one_statement_and_nothing_else():
    rows = [event("A-LAMP"), event("B-MUG"), event("C-TEA")]

    with CaptureQueriesContext(connections["catalog"]) as captured:
        rows_insert(ReservationEvent, rows)

    assert len(captured.captured_queries) == 1  # nothing read back
    assert stored() == [(row.id, row.sku, 2, "pending") for row in rows]


def test_the_insert_runs_in_autocommit_without_a_transaction_around_it():
    connection = connections["catalog"]
    if connection.vendor == "mongodb":
        pytest.skip("atomic() sends nothing to MongoDB")
    in_autocommit = []

    def spy(execute, sql, params, many, context):
        in_autocommit.append(transaction.get_autocommit(using="catalog"))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        rows_insert(ReservationEvent, [event("A-LAMP"), event("B-MUG")])

    assert in_autocommit == [True]  # bulk_create() would add a BEGIN and a COMMIT round trip


def test_nothing_is_sent_for_no_rows():
    with CaptureQueriesContext(connections["catalog"]) as captured:
        rows_insert(ReservationEvent, [])

    assert captured.captured_queries == []


def test_written_rows_are_saved_instances_of_their_database_so_a_later_save_updates_them():
    rows = [event("A-LAMP"), event("B-MUG")]

    rows_insert(ReservationEvent, rows)

    assert [(row._state.adding, row._state.db) for row in rows] == [(False, "catalog")] * 2
    rows[0].note = "checked"
    with CaptureQueriesContext(connections["catalog"]) as captured:
        rows[0].save()
    assert len(captured.captured_queries) == 1  # one update: not an insert of a duplicate
    assert ReservationEvent.objects.count() == 2
    assert ReservationEvent.objects.get(pk=rows[0].pk).note == "checked"


def test_a_duplicate_stops_the_insert_and_the_rows_written_before_it_are_named():
    existing = event("B-MUG")
    rows_insert(ReservationEvent, [existing])
    rows = [event("A-LAMP"), event("B-MUG", event_id=existing.id), event("C-TEA")]

    with pytest.raises(IntegrityError) as raised:
        rows_insert(ReservationEvent, rows)
    written = rows_written_before(raised.value, rows)

    # SQL: one statement, rolled back. MongoDB: an ordered insert_many, up to the duplicate.
    assert written == (rows[:1] if connections["catalog"].vendor == "mongodb" else [])
    assert {row_id for row_id, *_ in stored()} == {existing.id} | {row.id for row in written}
