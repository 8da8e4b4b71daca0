"""The catalog suite runs on whatever CATALOG_DATABASE_URL names: PostgreSQL by default (the
test settings), or a real MongoDB.

Every test here that uses the catalog database carries the `mongo` marker: it is part of the
suite that must pass on MongoDB. To run it there (docker compose starts a single-node replica
set whose member advertises the container's host name, `mongo`, which the host cannot resolve:
connect directly, not by replica set name):

    docker compose up -d mongo
    CATALOG_DATABASE_URL='mongodb://127.0.0.1:27017/commerce_catalog?directConnection=true' \\
        .venv/bin/pytest -m mongo tests/catalog

Selecting `-m mongo` without a mongodb:// URL skips those tests with that reason instead of
silently running them on PostgreSQL. Without `-m mongo` they run on the configured engine.
The golden MQL tests (test_mongo_golden.py) need no server and always run."""

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
MONGO_URL_SCHEMES = ("mongodb://", "mongodb+srv://")


def catalog_on_mongodb() -> bool:
    return os.environ.get("CATALOG_DATABASE_URL", "").startswith(MONGO_URL_SCHEMES)


def _uses_catalog_database(item) -> bool:
    for marker in item.iter_markers("django_db"):
        databases = marker.kwargs.get("databases")
        if databases == "__all__" or (databases and "catalog" in databases):
            return True
    return False


def _mongo_selected(config) -> bool:
    expression = config.option.markexpr or ""
    return "mongo" in expression and "not mongo" not in expression


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason=(
        "-m mongo runs the catalog suite on a real MongoDB, but CATALOG_DATABASE_URL is not a mongodb:// URL; "
        "start one (docker compose up -d mongo) and set "
        "CATALOG_DATABASE_URL='mongodb://127.0.0.1:27017/commerce_catalog?directConnection=true'"))
    for item in items:
        if HERE not in item.path.parents or not _uses_catalog_database(item):
            continue
        item.add_marker(pytest.mark.mongo)
        if _mongo_selected(config) and not catalog_on_mongodb():
            item.add_marker(skip)
