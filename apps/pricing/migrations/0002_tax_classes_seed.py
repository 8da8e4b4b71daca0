"""The four tax classes every shop starts with. Rates are the shop's to enter (per country)."""

from django.db import migrations

CLASSES = [
    ("standard", "Standard rate", False),
    ("reduced", "Reduced rate", False),
    ("zero", "Zero rate", False),
    ("exempt", "Exempt", True),
]


def seed(apps, schema_editor):
    TaxClass = apps.get_model("pricing", "TaxClass")
    alias = schema_editor.connection.alias
    for code, name, exempt in CLASSES:
        TaxClass.objects.using(alias).get_or_create(code=code, defaults={"name": name, "exempt": exempt})


class Migration(migrations.Migration):
    dependencies = [("pricing", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
