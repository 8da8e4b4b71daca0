"""No Docker engine runs here: check the compose file's services and wiring by reading it."""

from pathlib import Path

import pytest
import yaml

from config.env import database_from_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_backing_service_and_process_type_is_there(compose):
    assert {"postgres", "mongo", "mssql", "rabbitmq", "redis", "web", "worker", "beat"} <= set(compose["services"])
    assert compose["services"]["mssql"]["image"].startswith("mcr.microsoft.com/mssql/server:2022")
    assert "management" in compose["services"]["rabbitmq"]["image"]
    assert "--replSet" in compose["services"]["mongo"]["command"]


def test_backing_services_have_healthchecks(compose):
    for name in ("postgres", "mongo", "mssql", "rabbitmq", "redis", "web"):
        assert compose["services"][name]["healthcheck"]["test"], name


@pytest.mark.parametrize("process", ["web", "worker", "beat"])
def test_app_processes_are_wired_to_each_engine_and_wait_for_health(compose, process):
    service = compose["services"][process]
    env = service["environment"]
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    engines = {
        "DATABASE_URL": ("django.db.backends.postgresql", "postgres"),
        "CATALOG_DATABASE_URL": ("django_mongodb_backend", "mongo"),
        "REPORTING_DATABASE_URL": ("mssql", "mssql"),
    }
    for variable, (engine, host) in engines.items():
        config = database_from_url(env[variable])
        assert config["ENGINE"] == engine
        assert host in config["HOST"]
    assert "@redis:" in env["REDIS_URL"] or "//redis:" in env["REDIS_URL"]
    assert "@rabbitmq:" in env["CELERY_BROKER_URL"]
    deps = service["depends_on"]
    for dependency in ("postgres", "mongo", "rabbitmq", "redis"):
        assert deps[dependency]["condition"] == "service_healthy"
    assert deps["release"]["condition"] == "service_completed_successfully"


def test_release_migrates_every_alias_and_declares_event_queues_before_the_app_starts(compose):
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line)
    assert set(procfile) == {"release", "web", "worker", "beat"}
    expected = "python manage.py migrate_all --noinput && python manage.py events_topology"
    assert procfile["release"] == expected
    assert compose["services"]["release"]["command"] == ["sh", "-c", expected]


def test_the_observability_profile_sends_traces_through_a_collector_to_a_viewer(compose):
    collector, viewer = compose["services"]["otel-collector"], compose["services"]["jaeger"]
    assert collector["profiles"] == viewer["profiles"] == ["observability"]
    assert "16686:16686" in viewer["ports"]
    config_path = collector["volumes"][0].split(":")[0]
    config = yaml.safe_load((ROOT / config_path).read_text())
    assert config["exporters"]["otlp/jaeger"]["endpoint"] == "jaeger:4317"
    assert "otlp" in config["service"]["pipelines"]["traces"]["receivers"]
    # the apps export only when the endpoint is given, so the default stack runs without it
    web_env = compose["services"]["web"]["environment"]
    assert web_env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "${OTEL_EXPORTER_OTLP_ENDPOINT:-}"
