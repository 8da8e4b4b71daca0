from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(databases="__all__")
def test_models_and_migrations_agree():
    # makemigrations --check exits non-zero when a model change has no migration
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.parametrize("app", ["catalog", "reporting"])
def test_portable_apps_have_no_raw_sql_migrations(app):
    offenders = [p.name for p in (ROOT / "apps" / app / "migrations").glob("*.py") if "RunSQL" in p.read_text()]
    assert offenders == []
