import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]
DEAD_PORT = 1  # nothing listens on port 1 of loopback


def test_healthz_answers_without_touching_services(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db(databases="__all__")
def test_readyz_is_ready_when_every_service_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database:default", "database:catalog", "database:reporting", "cache", "broker"}


@pytest.mark.django_db(databases="__all__")
def test_readyz_names_a_dead_cache(client, settings):
    dead = {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{DEAD_PORT}/0"}
    with override_settings(CACHES={"default": dead}):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["down"] == ["cache"]


@pytest.mark.django_db(databases="__all__")
def test_readyz_names_a_dead_broker(client):
    with override_settings(CELERY_BROKER_URL=f"amqp://guest:guest@127.0.0.1:{DEAD_PORT}//"):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["down"] == ["broker"]
    assert response.json()["checks"]["broker"]["error"]


def test_readyz_names_a_dead_database():
    # A separate process, so that the reporting alias really is configured at a dead port.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DB_POOL_TIMEOUT": "2",
           "REPORTING_DATABASE_URL": f"postgres://commerce:commerce@127.0.0.1:{DEAD_PORT}/commerce_reporting"}
    code = (
        "import django, json; django.setup();"
        "from django.test import Client; r = Client().get('/readyz', HTTP_HOST='localhost');"
        "print(r.status_code, json.dumps(r.json()['down']))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.split()[:2] == ["503", '["database:reporting"]'], result.stderr
