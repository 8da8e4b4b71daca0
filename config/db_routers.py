"""Route every app to the database alias that owns its data (settings.DATABASE_APPS_ALIAS)."""

from django.conf import settings


def alias_for_app(app_label: str) -> str:
    return settings.DATABASE_APPS_ALIAS.get(app_label, "default")


class ModuleRouter:
    """App label -> alias. Never answers None: django-mongodb-backend migrates every
    AutoField model that a router does not refuse explicitly."""

    def db_for_read(self, model, **hints):
        return alias_for_app(model._meta.app_label)

    def db_for_write(self, model, **hints):
        return alias_for_app(model._meta.app_label)

    def allow_relation(self, obj1, obj2, **hints):
        return alias_for_app(obj1._meta.app_label) == alias_for_app(obj2._meta.app_label)

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return alias_for_app(app_label) == db
