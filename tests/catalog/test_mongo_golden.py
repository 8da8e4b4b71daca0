"""Golden MQL: what the catalog sends to MongoDB in production, without a MongoDB server.

A test-only alias uses the real engine, django_mongodb_backend, with the one seam its compilers
reach pymongo through, `connection.get_collection(name)` (and `connection.database` for the
schema editor), replaced by a recorder. The real services and views run unchanged, routed to
that alias; the recorder keeps every pymongo call (filter and update documents, aggregation
pipelines, inserted documents, collections and indexes) and answers with scripted results.
The expected calls below are the golden copies: a change in what the catalog sends to MongoDB
must change them on purpose.
"""

import copy
import uuid
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from bson import Decimal128
from django.conf import settings
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.utils import ConnectionHandler
from django.test.utils import override_settings
from django.utils import timezone
from django_mongodb_backend.base import DatabaseWrapper as MongoDatabaseWrapper
from pymongo.errors import BulkWriteError, DuplicateKeyError

from apps.catalog import api as catalog
from apps.catalog.services.reservations import reservation_id
from apps.catalog.services.sweeper import reservations_expire

ALIAS = "catalog_mongo_golden"
ORDER = uuid.UUID("0b6c1f3e-58a2-4b7e-9c11-2f7f2b9d6a01")
RESERVATION = reservation_id(order_id=ORDER, sku="LAMP").hex  # UUIDs are stored as 32 hex digits


class _Any:
    def __init__(self, name, check):
        self.name, self.check = name, check

    def __eq__(self, other):
        return self.check(other)

    def __repr__(self):
        return self.name


NOW = _Any("NOW", lambda value: isinstance(value, datetime))  # the clock at the call (ms precision)
NEW_ID = _Any("NEW_ID", lambda value: isinstance(value, str) and len(value) == 32)  # a fresh uuid4


class Recorder:
    """Stands in for pymongo's Database and Collections: records, never connects."""

    def __init__(self):
        self.calls = []
        self.aggregate_results = deque()  # one list of documents per aggregate() call
        self.matched = defaultdict(deque)  # collection -> matched counts of its update_many() calls
        self.insert_errors = defaultdict(deque)  # collection -> errors its insert_many() calls raise

    def collection(self, name):
        return _Collection(self, name)

    def create_collection(self, name):
        self.calls.append(("create_collection", name))

    def __getitem__(self, name):
        return self.collection(name)


class _Result:
    def __init__(self, **values):
        self.__dict__.update(values)


class _Collection:
    def __init__(self, recorder, name):
        self.recorder, self.name = recorder, name

    def _record(self, *call):
        self.recorder.calls.append((self.name, *copy.deepcopy(call)))

    def aggregate(self, pipeline, session=None):
        self._record("aggregate", pipeline)
        return iter(self.recorder.aggregate_results.popleft() if self.recorder.aggregate_results else [])

    def update_many(self, filter, update, session=None):
        self._record("update_many", filter, update)
        matched = self.recorder.matched[self.name]
        return _Result(matched_count=matched.popleft() if matched else 1)

    def insert_many(self, documents, session=None):
        self._record("insert_many", documents)
        if errors := self.recorder.insert_errors[self.name]:
            raise errors.popleft()
        return _Result(inserted_ids=[None] * len(documents))

    def create_indexes(self, models):
        self._record("create_indexes", [model.document for model in models])


@pytest.fixture
def mongo():
    """Route the catalog to a django_mongodb_backend alias whose pymongo calls are recorded."""
    recorder = Recorder()
    settings_dict = ConnectionHandler().configure_settings({"default": {
        "ENGINE": "django_mongodb_backend", "HOST": "mongodb://golden.invalid:27017/commerce_catalog",
        "NAME": "commerce_catalog"}})["default"]
    connection = MongoDatabaseWrapper(settings_dict, alias=ALIAS)
    connection.get_collection = recorder.collection
    connection.__dict__["database"] = recorder  # the schema editor's create_collection()
    connections[ALIAS] = connection
    try:
        with override_settings(DATABASE_APPS_ALIAS={**settings.DATABASE_APPS_ALIAS, "catalog": ALIAS}):
            yield recorder
        assert connection.connection is None, "nothing may reach a MongoDB server"
    finally:
        del connections[ALIAS]


def naive(moment):
    """What pymongo returns for a stored datetime: naive UTC."""
    return timezone.make_naive(moment, UTC) if timezone.is_aware(moment) else moment


def held_row_document(quantity=2):
    at = naive(timezone.now())
    return {"id": RESERVATION, "order_id": ORDER.hex, "sku": "LAMP", "quantity": quantity, "status": "held",
            "expires_at": None, "settling_since": None, "created_at": at, "updated_at": at}


def event(from_status, to_status, note=""):
    return events((from_status, to_status, note))


def events(*transitions):
    """LAMP's events, in one insert: (from, to, note) each."""
    return ("catalog_reservationevent", "insert_many", [{
        "id": NEW_ID, "reservation_id": RESERVATION, "order_id": ORDER.hex, "sku": "LAMP", "quantity": 2,
        "from_status": from_status, "to_status": to_status, "note": note, "created_at": NOW}
        for from_status, to_status, note in transitions])


# The conditional update that decides a reservation: units are taken only if available.
TAKE_TWO = ("catalog_stock", "update_many",
            {"$and": [{"available": {"$gte": 2}}, {"sku": "LAMP"}]},
            [{"$set": {"available": {"$subtract": ["$available", {"$literal": 2}]},
                       "held": {"$add": ["$held", {"$literal": 2}]},
                       "version": {"$add": ["$version", {"$literal": 1}]},
                       "updated_at": {"$literal": NOW}}}])


def test_reserve_compiles_to_a_row_insert_then_one_conditional_stock_update(mongo):
    outcome = catalog.stock_reserve(order_id=ORDER, lines=[catalog.StockLine(sku="LAMP", quantity=2)],
                                    ttl=timedelta(minutes=15))

    assert outcome.reserved is True
    assert mongo.calls == [
        # First write, with nothing read before: the row, pending, marked with the time it
        # started settling (a duplicate would say the order has the line already).
        ("catalog_reservation", "insert_many", [{
            "id": RESERVATION, "order_id": ORDER.hex, "sku": "LAMP", "quantity": 2, "status": "pending",
            "expires_at": NOW, "settling_since": NOW, "created_at": NOW, "updated_at": NOW}]),
        # Second write: the units, in one conditional update.
        TAKE_TWO,
        # Third write: pending -> held, only where the row is still ours (nobody released it).
        ("catalog_reservation", "update_many",
         {"$and": [{"id": {"$in": (RESERVATION,)}}, {"settling_since": NOW}, {"status": "pending"}]},
         [{"$set": {"status": {"$literal": "held"}, "settling_since": {"$literal": None},
                    "updated_at": {"$literal": NOW}}}]),
        # The audit trail of both steps in one insert.
        events(("", "pending", ""), ("pending", "held", "")),
    ]
    inserted, hold = mongo.calls[0][2][0], mongo.calls[2][2]
    assert hold["$and"][1]["settling_since"] == inserted["settling_since"]  # the mark is the token
    assert timedelta(minutes=14) < inserted["expires_at"] - inserted["created_at"] <= timedelta(minutes=15)


def test_each_more_line_adds_one_conditional_stock_update_and_nothing_else(mongo):
    mongo.matched["catalog_reservation"].append(2)  # the hold matches both rows

    outcome = catalog.stock_reserve(order_id=ORDER, lines=[catalog.StockLine(sku="LAMP", quantity=2),
                                                           catalog.StockLine(sku="MUG", quantity=1)])

    assert outcome.reserved is True
    assert [(collection, operation) for collection, operation, *_ in mongo.calls] == [
        ("catalog_reservation", "insert_many"),  # both rows
        ("catalog_stock", "update_many"),  # LAMP's units
        ("catalog_stock", "update_many"),  # MUG's units
        ("catalog_reservation", "update_many"),  # both holds
        ("catalog_reservationevent", "insert_many"),  # the four events
    ]
    rows, hold, logged = mongo.calls[0][2], mongo.calls[3][2], mongo.calls[4][2]
    assert [row["sku"] for row in rows] == ["LAMP", "MUG"]
    assert sorted(hold["$and"][0]["id"]["$in"]) == sorted(row["id"] for row in rows)
    assert mongo.calls[1][2] == TAKE_TWO[2]
    assert mongo.calls[2][2] == {"$and": [{"available": {"$gte": 1}}, {"sku": "MUG"}]}
    assert [(entry["sku"], entry["from_status"], entry["to_status"]) for entry in logged] == [
        ("LAMP", "", "pending"), ("MUG", "", "pending"), ("LAMP", "pending", "held"), ("MUG", "pending", "held")]


def test_a_row_written_meanwhile_stops_the_insert_and_only_the_rows_before_it_are_ours(mongo):
    """Another call for the same order wrote MUG's row before our insert, which MongoDB performs
    in order up to the duplicate: LAMP's row is ours, MUG's is the other's."""
    mug = reservation_id(order_id=ORDER, sku="MUG").hex
    duplicate = {"index": 1, "code": 11000, "errmsg": "E11000 duplicate key error collection: catalog_reservation"}
    mongo.insert_errors["catalog_reservation"].extend([
        BulkWriteError({"nInserted": 1, "writeErrors": [duplicate]}),
        DuplicateKeyError(duplicate["errmsg"], 11000)])
    mongo.aggregate_results.extend([[{**held_row_document(quantity=1), "id": mug, "sku": "MUG"}]])

    outcome = catalog.stock_reserve(order_id=ORDER, lines=[catalog.StockLine(sku="LAMP", quantity=2),
                                                           catalog.StockLine(sku="MUG", quantity=1)])

    assert outcome.reserved is True  # MUG is held for the order already
    calls = [(collection, operation) for collection, operation, *_ in mongo.calls]
    assert calls == [
        ("catalog_reservation", "insert_many"),  # LAMP written, MUG a duplicate
        ("catalog_reservation", "insert_many"),  # MUG alone: the duplicate again
        ("catalog_reservation", "aggregate"),  # MUG read back: held for the order
        ("catalog_stock", "update_many"),
        ("catalog_reservation", "update_many"),
        ("catalog_reservationevent", "insert_many"),
    ]
    assert mongo.calls[3] == TAKE_TWO  # only LAMP's units are taken
    assert mongo.calls[4][2]["$and"][0] == {"id": {"$in": (RESERVATION,)}}
    assert [(entry["sku"], entry["to_status"]) for entry in mongo.calls[5][2]] == [("LAMP", "pending"),
                                                                                  ("LAMP", "held")]


def test_a_short_reserve_takes_nothing_and_releases_its_row(mongo):
    mongo.matched["catalog_stock"].append(0)  # the conditional update matches no document

    outcome = catalog.stock_reserve(order_id=ORDER, lines=[catalog.StockLine(sku="LAMP", quantity=2)])

    assert (outcome.reserved, outcome.short_skus) == (False, ("LAMP",))
    assert mongo.calls[1:] == [
        TAKE_TWO,
        ("catalog_reservation", "update_many",
         {"$and": [{"id": RESERVATION}, {"settling_since": NOW}, {"status": "pending"}]},
         [{"$set": {"status": {"$literal": "released"}, "settling_since": {"$literal": None},
                    "updated_at": {"$literal": NOW}}}]),
        events(("", "pending", ""), ("pending", "released", "not enough stock")),
    ]


def test_release_compiles_to_a_conditional_status_change_then_the_stock_give_back(mongo):
    mongo.aggregate_results.append([held_row_document()])

    catalog.stock_release(order_id=ORDER)

    assert mongo.calls == [
        ("catalog_reservation", "aggregate",
         [{"$match": {"$and": [{"order_id": ORDER.hex}, {"status": {"$in": ("held", "pending")}}]}}]),
        # Only a held row changes: a second releaser matches nothing and gives nothing back.
        ("catalog_reservation", "update_many",
         {"$and": [{"id": RESERVATION}, {"status": "held"}]},
         [{"$set": {"status": {"$literal": "released"}, "updated_at": {"$literal": NOW},
                    "settling_since": {"$literal": NOW}}}]),
        ("catalog_stock", "update_many", {"sku": "LAMP"},
         [{"$set": {"available": {"$add": ["$available", {"$literal": 2}]},
                    "held": {"$subtract": ["$held", {"$literal": 2}]},
                    "version": {"$add": ["$version", {"$literal": 1}]},
                    "updated_at": {"$literal": NOW}}}]),
        ("catalog_reservation", "update_many",
         {"$and": [{"id": RESERVATION}, {"settling_since": NOW}]},
         [{"$set": {"settling_since": {"$literal": None}}}]),
        event("held", "released", "released by the order"),
    ]


def test_a_release_that_lost_the_race_changes_no_stock(mongo):
    mongo.aggregate_results.append([held_row_document()])
    mongo.matched["catalog_reservation"].append(0)  # another releaser changed the status first

    catalog.stock_release(order_id=ORDER)

    assert [call[:2] for call in mongo.calls] == [("catalog_reservation", "aggregate"),
                                                  ("catalog_reservation", "update_many")]


def test_the_sweeper_finds_due_holds_with_one_indexed_query(mongo):
    now = timezone.now()

    reservations_expire(now=now)

    assert mongo.calls == [("catalog_reservation", "aggregate", [
        {"$match": {"$and": [
            {"$and": [{"expires_at": {"$lt": naive(now)}},
                      {"$and": [{"expires_at": {"$exists": True}}, {"expires_at": {"$ne": None}}]}]},
            {"status": "held"}]}},
        {"$addFields": {"expires_at": "$expires_at"}},
        {"$sort": {"expires_at": 1}},
        {"$limit": settings.CATALOG_SWEEP_BATCH},
    ])]


def product_document(sku, name):
    at = naive(timezone.now())
    return {"sku": sku, "name": name, "description": "", "category_id": "garden", "price": Decimal128("12.500"),
            "currency": "EUR", "active": True, "attributes": {}, "version": 1, "created_at": at, "updated_at": at}


def test_the_public_list_compiles_to_one_pipeline_per_page_with_the_cursor_as_a_range(mongo, api_client):
    mongo.aggregate_results.append([product_document("A-CAN", "Watering can"),
                                    product_document("B-CAN", "Big watering can"),
                                    product_document("C-CAN", "Can opener")])
    filters = {"category": "garden", "min_price": "10", "max_price": "50", "search": "can", "page_size": 2}

    first = api_client.get("/api/v1/products/", filters)
    second = api_client.get(first.json()["next"])

    assert [item["sku"] for item in first.json()["results"]] == ["A-CAN", "B-CAN"]
    assert first.json()["results"][0]["price"] == "12.50"
    assert second.status_code == 200
    match = [
        {"active": True},
        {"category_id": "garden"},
        {"price": {"$gte": Decimal128("10.000")}},
        {"$and": [{"price": {"$lte": Decimal128("50.000")}},
                  {"$and": [{"price": {"$exists": True}}, {"price": {"$ne": None}}]}]},
        {"name": {"$regex": "can", "$options": "i"}},  # escaped for $regex: a search is never a pattern
    ]
    tail = [{"$addFields": {"sku": "$sku"}}, {"$sort": {"sku": 1}}, {"$limit": 3}]
    assert mongo.calls == [
        ("catalog_product", "aggregate", [{"$match": {"$and": match}}, *tail]),
        ("catalog_product", "aggregate", [{"$match": {"$and": [*match, {"sku": {"$gt": "B-CAN"}}]}}, *tail]),
    ]


def test_a_search_with_regex_characters_is_matched_literally(mongo, api_client):
    api_client.get("/api/v1/products/", {"search": "(a.b)*"})

    assert mongo.calls[0][2][0] == {"$match": {"$and": [
        {"active": True}, {"name": {"$regex": r"\(a\.b\)\*", "$options": "i"}}]}}


def test_catalog_migrations_create_collections_and_indexes_with_a_unique_key_per_document(mongo):
    loader = MigrationLoader(None, ignore_no_migrations=True)
    state = loader.project_state(("catalog", "0001_initial"), at_end=False)
    migration = loader.get_migration("catalog", "0001_initial")

    with connections[ALIAS].schema_editor(atomic=False) as editor:
        migration.apply(state, editor)

    collections = [call[1] for call in mongo.calls if call[0] == "create_collection"]
    indexes = defaultdict(list)
    for name, _, documents in (call for call in mongo.calls if call[1:2] == ("create_indexes",)):
        indexes[name] += [(dict(doc["key"]), doc.get("unique", False)) for doc in documents]
    assert collections == ["catalog_category", "catalog_product", "catalog_stock", "catalog_reservation",
                           "catalog_reservationevent", "catalog_stockadjustment"]
    assert dict(indexes) == {
        "catalog_category": [({"slug": 1}, True)],
        "catalog_product": [({"sku": 1}, True), ({"category_id": 1}, False), ({"active": 1, "sku": 1}, False),
                            ({"category_id": 1, "sku": 1}, False), ({"price": 1}, False)],
        "catalog_stock": [({"sku": 1}, True)],
        "catalog_reservation": [({"id": 1}, True), ({"order_id": 1}, False), ({"sku": 1, "status": 1}, False),
                                ({"status": 1, "expires_at": 1}, False), ({"settling_since": 1}, False)],
        "catalog_reservationevent": [({"id": 1}, True), ({"order_id": 1, "created_at": 1}, False)],
        "catalog_stockadjustment": [({"id": 1}, True), ({"sku": 1}, False), ({"sku": 1, "created_at": 1}, False),
                                    ({"status": 1, "created_at": 1}, False),
                                    ({"previous_adjustment_id": 1}, False)],
    }


def test_price_filters_reach_mongodb_as_decimal128_never_float(mongo):
    from apps.catalog.selectors import product_list

    list(product_list(min_price=Decimal("0.1"), max_price=Decimal("0.3")))

    bounds = mongo.calls[0][2][0]["$match"]["$and"]
    assert bounds[1] == {"price": {"$gte": Decimal128("0.1")}}
    assert bounds[2]["$and"][0] == {"price": {"$lte": Decimal128("0.3")}}
