"""`make run` needs nothing but Python: SQLite files, local-memory cache, in-process tasks."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICE_VARS = ("DATABASE_URL", "CATALOG_DATABASE_URL", "REPORTING_DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")


def run(args, var_dir):
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARS}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", VAR_DIR=str(var_dir))
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_embedded_default_migrates_and_serves_the_docs_and_admin_without_any_server(tmp_path):
    # When the platform is set up with no service URLs at all
    migrated = run(["manage.py", "migrate_all", "-v", "0"], tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    setup = run(["manage.py", "demo_setup"], tmp_path)
    assert setup.returncode == 0, setup.stderr
    assert "Staff user: admin  password: " in setup.stdout

    # Then it runs on three SQLite files, local memory and in-process tasks
    probe = (
        "import django, json; django.setup();"
        "from django.conf import settings; from django.test import Client;"
        "from config.celery_app import app; c = Client(HTTP_HOST='localhost');"
        "user, password = (settings.VAR_DIR / 'staff-credentials.txt').read_text().split();"
        "print(json.dumps({"
        "'engines': sorted({d['ENGINE'] for d in settings.DATABASES.values()}),"
        "'files': sorted(str(d['NAME']).rsplit('/', 1)[-1] for d in settings.DATABASES.values()),"
        "'cache': settings.CACHES['default']['BACKEND'], 'eager': app.conf.task_always_eager,"
        "'docs': c.get('/api/docs/').status_code, 'schema': c.get('/api/schema/').status_code,"
        "'admin': c.get('/admin/login/').status_code, 'ready': c.get('/readyz').status_code,"
        "'login': c.login(username=user, password=password)}))"
    )
    result = run(["-c", probe], tmp_path)
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout.strip().splitlines()[-1])
    assert facts["engines"] == ["django.db.backends.sqlite3"]
    assert facts["files"] == ["catalog.sqlite3", "default.sqlite3", "reporting.sqlite3"]
    assert facts["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert facts["eager"] is True
    assert (facts["docs"], facts["schema"], facts["admin"], facts["ready"]) == (200, 200, 200, 200)
    assert facts["login"] is True
