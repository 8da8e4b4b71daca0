"""One environment reader for every settings module, and the URL -> DATABASES translation."""

from pathlib import Path
from urllib.parse import unquote, urlsplit

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

# Django's native psycopg pool; sized per process (gunicorn worker or celery worker).
POSTGRES_POOL = {
    "min_size": 1,
    "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
    "timeout": env.int("DB_POOL_TIMEOUT", default=10),
}


def database_from_url(url: str) -> dict:
    """Turn a backing-service URL into a DATABASES entry.

    postgres:// gets Django's native connection pool (which needs CONN_MAX_AGE=0);
    mongodb:// goes to django-mongodb-backend as a connection string in HOST;
    mssql:// goes to mssql-django with the ODBC driver from the query string (default 18).
    """
    scheme = urlsplit(url).scheme
    if scheme in ("mongodb", "mongodb+srv"):
        name = unquote(urlsplit(url).path.lstrip("/"))
        if not name:
            raise environ.ImproperlyConfigured(f"The MongoDB URL must name a database: {url!r}")
        return {"ENGINE": "django_mongodb_backend", "HOST": url, "NAME": name}
    config = env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.postgresql":
        config["CONN_MAX_AGE"] = 0
        config.setdefault("OPTIONS", {})["pool"] = dict(POSTGRES_POOL)
    elif config["ENGINE"] == "mssql":
        options = config.setdefault("OPTIONS", {})
        options.setdefault("driver", "ODBC Driver 18 for SQL Server")
        options.setdefault("extra_params", "TrustServerCertificate=yes")
    return config
