import dataclasses
import uuid

import pytest
from django.db import transaction

from apps.common.messaging import events
from apps.common.messaging.events import DomainEvent, event_record
from apps.common.models import OutboxEvent


@dataclasses.dataclass(frozen=True, kw_only=True)
class ThingHappened(DomainEvent):
    event_type = "tests.thing_happened"
    thing_id: uuid.UUID
    amount: str

    def aggregate_id(self):
        return self.thing_id


@pytest.mark.django_db(transaction=True)
def test_an_event_exists_if_and_only_if_its_transaction_commits():
    kept, dropped = uuid.uuid4(), uuid.uuid4()
    with transaction.atomic():
        event_record(ThingHappened(thing_id=kept, amount="9.99"))
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        event_record(ThingHappened(thing_id=dropped, amount="1.00"))
        1 / 0  # noqa: B018 - the change fails after the event was written
    assert list(OutboxEvent.objects.values_list("aggregate_id", flat=True)) == [str(kept)]


@pytest.mark.django_db(transaction=True)
def test_the_envelope_carries_id_type_version_time_aggregate_data_and_trace():
    thing = uuid.uuid4()
    with transaction.atomic():
        row = event_record(ThingHappened(thing_id=thing, amount="9.99"),
                           traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    envelope = OutboxEvent.objects.get(pk=row.pk).envelope()
    assert set(envelope) == {"id", "type", "version", "occurred_at", "aggregate_id", "data", "traceparent"}
    assert envelope["type"] == "tests.thing_happened"
    assert envelope["data"] == {"thing_id": str(thing), "amount": "9.99"}
    assert envelope["traceparent"].startswith("00-0af7651916cd43dd")


@pytest.mark.django_db(transaction=True)
def test_recording_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the producer's transaction"):
        event_record(ThingHappened(thing_id=uuid.uuid4(), amount="1"))


@pytest.mark.django_db(transaction=True)
def test_the_relay_is_triggered_with_the_event_only_after_commit(monkeypatch):
    seen = []
    monkeypatch.setattr(events, "relay_after_commit", seen.append)
    with transaction.atomic():
        row = event_record(ThingHappened(thing_id=uuid.uuid4(), amount="1"))
        assert seen == []
    assert seen == [row.id]
