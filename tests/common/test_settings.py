import os
import secrets
import subprocess
import sys
from pathlib import Path

from config.env import database_from_url

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "ALLOWED_HOSTS": "shop.example.com",
    "ACCOUNTS_FRONTEND_URL": "https://shop.example.com",
    "DATABASE_URL": "postgres://commerce:secret@postgres:5432/commerce",
    "CATALOG_DATABASE_URL": "mongodb://catalog:secret@mongo:27017/commerce_catalog?replicaSet=rs0&authSource=admin",
    "REPORTING_DATABASE_URL": "mssql://sa:Secret_pw1@mssql:1433/commerce_reporting",
    "REDIS_URL": "redis://redis:6379/0",
    "CELERY_BROKER_URL": "amqp://commerce:secret@rabbitmq:5672/commerce",
}


def manage(*args, **env):
    base = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k not in ("SECRET_KEY", "DEBUG")}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env},
        capture_output=True, text=True, timeout=120,
    )


def test_production_engines_come_from_the_urls():
    assert database_from_url(PRODUCTION_ENV["DATABASE_URL"])["OPTIONS"]["pool"]["max_size"] >= 1
    mongo = database_from_url(PRODUCTION_ENV["CATALOG_DATABASE_URL"])
    assert (mongo["ENGINE"], mongo["NAME"]) == ("django_mongodb_backend", "commerce_catalog")
    assert mongo["HOST"].startswith("mongodb://catalog:secret@mongo:27017/")
    mssql = database_from_url(PRODUCTION_ENV["REPORTING_DATABASE_URL"])
    assert (mssql["ENGINE"], mssql["NAME"]) == ("mssql", "commerce_reporting")
    assert (mssql["HOST"], mssql["PORT"]) == ("mssql", 1433)
    assert mssql["OPTIONS"]["driver"] == "ODBC Driver 18 for SQL Server"


def test_production_system_checks_pass_for_mongo_and_sql_server_aliases_without_a_server():
    # Given production settings with MongoDB and SQL Server engines and a real secret
    result = manage("check", "--deploy", "--database", "catalog", "--database", "reporting",
                    "--fail-level", "WARNING", SECRET_KEY=secrets.token_urlsafe(64), **PRODUCTION_ENV)
    # Then Django's checks (models, deploy, both database backends) report nothing
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", **PRODUCTION_ENV)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_with_debug_on():
    result = manage("check", SECRET_KEY=secrets.token_urlsafe(64), DEBUG="true", **PRODUCTION_ENV)
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


def test_production_refuses_to_start_without_the_storefront_url_of_its_email_links():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "ACCOUNTS_FRONTEND_URL"}
    result = manage("check", SECRET_KEY=secrets.token_urlsafe(64), **env)
    assert result.returncode != 0
    assert "ACCOUNTS_FRONTEND_URL" in result.stderr
