"""`make run` needs nothing but Python: SQLite files, local-memory cache, in-process tasks."""

import json
import os
import signal
import socket
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


def test_env_example_copied_to_env_keeps_the_embedded_default():
    # Given .env.example, which the README says to copy to .env
    lines = (ROOT / ".env.example").read_text().splitlines()
    assigned = dict(line.split("=", 1) for line in lines if line.strip() and not line.lstrip().startswith("#"))
    # Then it names no server (migrate_all would wait for each), and keeps DEBUG and the development
    # key of the local settings (runserver serves the docs' static files only with DEBUG on)
    assert [name for name in SERVICE_VARS if name in assigned] == []
    assert "SECRET_KEY" not in assigned and "DEBUG" not in assigned


def test_make_run_steps_work_with_env_example_as_env(tmp_path):
    lines = (ROOT / ".env.example").read_text().splitlines()
    assert not [line for line in lines if line.split("=", 1)[0] in SERVICE_VARS]  # else the steps wait for servers
    # Given .env.example read as config/env.py reads .env, and no settings module chosen by the shell
    prelude = "import environ, runpy, sys; environ.Env.read_env('.env.example'); "
    env = {k: v for k, v in os.environ.items() if k not in (*SERVICE_VARS, "DJANGO_SETTINGS_MODULE", "SECRET_KEY",
                                                            "DEBUG", "EMAIL_BACKEND")}
    env.update(VAR_DIR=str(tmp_path))

    def manage(*args):
        code = prelude + f"sys.argv = ['manage.py', *{list(args)!r}]; runpy.run_path('manage.py', run_name='__main__')"
        return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300)

    # When `make run` sets up
    migrated = manage("migrate_all", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    setup = manage("demo_setup")
    assert setup.returncode == 0, setup.stderr
    # Then the staff user logs in and the docs are served with their assets (DEBUG on)
    probe = manage("shell", "-c", (
        "import json; from django.conf import settings; from django.test import Client;"
        "user, password = (settings.VAR_DIR / 'staff-credentials.txt').read_text().split();"
        "c = Client(HTTP_HOST='localhost');"
        "print(json.dumps({'login': c.login(username=user, password=password), 'debug': settings.DEBUG,"
        "'docs': c.get('/api/docs/').status_code, 'mail': settings.EMAIL_BACKEND}))"))
    assert probe.returncode == 0, probe.stderr
    facts = json.loads(probe.stdout.strip().splitlines()[-1])
    assert facts == {"login": True, "debug": True, "docs": 200,
                     "mail": "django.core.mail.backends.console.EmailBackend"}


def make_run(port, var_dir, *flags):
    env = {k: v for k, v in os.environ.items() if k not in (*SERVICE_VARS, "DJANGO_SETTINGS_MODULE", "PORT")}
    env.update(VAR_DIR=str(var_dir))
    # Its own process group: should `make run` get as far as serving, the server goes with it.
    with subprocess.Popen(["make", *flags, "run", f"PORT={port}"], cwd=ROOT, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True) as process:
        try:
            stdout, stderr = process.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_make_run_serves_and_links_on_the_port_given(tmp_path):
    # When `make run PORT=8123` is asked what it would do
    planned = make_run(8123, tmp_path, "-n")
    assert planned.returncode == 0, planned.stderr
    # Then it serves on that port and every link it prints uses it
    assert "runserver 127.0.0.1:8123" in planned.stdout
    links = [line for line in planned.stdout.splitlines() if "http://" in line]
    assert len(links) == 3
    assert all("http://127.0.0.1:8123/" in link for link in links)
    assert "8000" not in planned.stdout


def test_make_run_fails_at_once_when_its_port_is_busy(tmp_path):
    # Given something already listening on the port
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        # When `make run` is started on it
        result = make_run(port, tmp_path)
    # Then it stops before any set-up, saying which port and how to choose another
    assert result.returncode != 0
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr
    assert "make run PORT=" in result.stderr
    assert "Staff user" not in result.stdout
    assert list(tmp_path.iterdir()) == []  # no database was created


STOREFRONT_WALK = """
import django, json, re, uuid; django.setup()
from django.test import Client
c = Client(HTTP_HOST="localhost")
def call(method, path, body=None, **headers):
    response = getattr(c, method)(path, json.dumps(body) if body is not None else None,
                                  content_type="application/json", **headers)
    return response.status_code, (response.json() if response.content else None), response.headers.get("ETag")
steps = {}
status, cart, etag = call("post", "/api/v1/carts/", {"currency": "USD"})
steps["create"] = status
auth = {"HTTP_X_CART_TOKEN": cart["token"]}
status, body, etag = call("post", f"/api/v1/carts/{cart['id']}/lines/", {"sku": "DEMO-000002", "quantity": 2},
                          HTTP_IF_MATCH=etag, **auth)
steps["line"] = status
address = {"name": "John Smith", "line1": "350 Fifth Avenue", "city": "New York", "region": "NY",
           "postal_code": "10118", "country": "US"}
status, body, etag = call("patch", f"/api/v1/carts/{cart['id']}/", {"shipping_address": address},
                          HTTP_IF_MATCH=etag, **auth)
steps["address"] = status
methods = body["shipping_methods"]
status, body, etag = call("patch", f"/api/v1/carts/{cart['id']}/", {"shipping_method_id": methods[0]["id"]},
                          HTTP_IF_MATCH=etag, **auth)
steps["method"] = status
status, order, _ = call("post", f"/api/v1/carts/{cart['id']}/complete/",
                        {"payment_token": "tok_approved", "email": "john@example.com"},
                        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()), **auth)
steps["complete"] = status
token = re.search(r"Authorization: Bearer (\\S+)", open(SETUP_OUT).read()).group(1)
me = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
steps["me"] = me.get("/api/v1/me/").status_code
steps["my_orders"] = me.get("/api/v1/orders/").status_code
print(json.dumps({"steps": steps, "methods": len(methods), "order": order}))
"""


def test_make_runs_demo_data_walks_the_storefront_flow_of_the_readme(tmp_path):
    # Given `make run`'s set-up on the embedded default
    assert run(["manage.py", "migrate_all", "-v", "0"], tmp_path).returncode == 0
    setup = run(["manage.py", "demo_setup"], tmp_path)
    assert setup.returncode == 0, setup.stderr
    (tmp_path / "setup.out").write_text(setup.stdout)
    # When a newcomer follows the README's storefront flow, and uses the printed customer token
    walk = run(["-c", f"SETUP_OUT = {str(tmp_path / 'setup.out')!r}\n{STOREFRONT_WALK}"], tmp_path)
    assert walk.returncode == 0, walk.stderr[-3000:]
    facts = json.loads(walk.stdout.strip().splitlines()[-1])
    # Then every step answers as documented, and the order holds the cart's address and shipping
    assert facts["steps"] == {"create": 201, "line": 200, "address": 200, "method": 200, "complete": 201,
                              "me": 200, "my_orders": 200}, facts
    assert facts["methods"] >= 1
    order = facts["order"]
    assert order["status"] == "confirmed"
    assert order["shipping_address"]["city"] == "New York"
    assert order["shipping_method"]
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [("DEMO-000002", 2)]
