import pytest
from django.apps import apps
from django.conf import settings
from django.db import connections, models, router
from django.test.utils import isolate_apps


@pytest.mark.django_db(databases="__all__")
def test_each_alias_holds_exactly_the_tables_of_the_apps_routed_to_it():
    # Given the test databases migrated for every alias
    expected = {alias: {"django_migrations"} for alias in settings.DATABASES}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy:
            expected[router.db_for_write(model)].add(model._meta.db_table)

    # When each database is introspected
    actual = {alias: set(connections[alias].introspection.table_names()) for alias in settings.DATABASES}

    # Then each table lives in its own alias and nowhere else
    assert actual == expected
    assert "auth_user" in actual["default"]
    assert "auth_user" not in actual["catalog"] | actual["reporting"]


def test_allow_migrate_answers_true_or_false_never_none():
    labels = [config.label for config in apps.get_app_configs()]
    for alias in settings.DATABASES:
        for label in labels:
            answer = router.allow_migrate(alias, label)
            assert answer is (settings.DATABASE_APPS_ALIAS.get(label, "default") == alias)


@isolate_apps("apps.catalog", "apps.orders")
def test_a_relation_across_aliases_is_refused():
    class Item(models.Model):
        sku = models.CharField(primary_key=True, max_length=20)

        class Meta:
            app_label = "catalog"

    class Line(models.Model):
        item = models.ForeignKey(Item, on_delete=models.CASCADE)

        class Meta:
            app_label = "orders"

    class Note(models.Model):
        line = models.ForeignKey(Line, on_delete=models.CASCADE)

        class Meta:
            app_label = "payments"

    # Same alias (orders and payments both on default): allowed
    note = Note()
    note.line = Line()
    assert note.line is not None

    # Across aliases (orders on default, catalog on its own): refused
    with pytest.raises(ValueError, match="router prevents this relation"):
        Line().item = Item(sku="SKU-1")
