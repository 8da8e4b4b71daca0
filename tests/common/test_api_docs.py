"""The API docs page (/api/docs/) and the OpenAPI schema it shows (/api/schema/): the page works
without internet, and the schema says what a client must know to call each operation."""

import re
import uuid

import pytest
import requests
from django.core.management import call_command
from django.test import Client

from apps.payments.providers import sandbox

ASSET = re.compile(r'<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"')
WRITE_METHODS = ("post", "put", "patch", "delete")


def docs_assets(html: str) -> list[str]:
    return ASSET.findall(html)


@pytest.fixture(scope="module")
def schema() -> dict:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def header_parameters(operation: dict) -> dict[str, dict]:
    return {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}


def success_responses(operation: dict) -> dict[str, dict]:
    return {code: response for code, response in operation["responses"].items() if code.startswith("2")}


# --- The docs page ------------------------------------------------------------------------------


def test_the_docs_page_loads_nothing_from_another_host(client):
    # When the docs page is opened
    html = client.get("/api/docs/").content.decode()
    # Then its scripts, styles and icon are paths on this site, none on a CDN
    assets = docs_assets(html)
    assert len(assets) >= 3
    assert all(url.startswith("/") and not url.startswith("//") for url in assets), assets
    for host in ("cdn", "//unpkg", "jsdelivr"):
        assert host not in html


def test_the_development_server_serves_the_docs_assets(live_server):
    # Given the server `make run` starts (runserver serves the static files itself)
    html = requests.get(f"{live_server.url}/api/docs/", timeout=10).text
    for url in docs_assets(html):
        assert url.startswith("/"), url  # on this site (never fetch a CDN from a test)
        # Then every asset the page needs answers
        response = requests.get(f"{live_server.url}{url}", timeout=10)
        assert response.status_code == 200, url
        assert response.content


def test_production_serves_the_docs_assets_after_collectstatic(settings, tmp_path):
    # Given the static files collected as the Docker image does (WhiteNoise serves them)
    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", interactive=False, verbosity=0)
    client = Client()  # a new handler: WhiteNoise indexes STATIC_ROOT when it starts
    html = client.get("/api/docs/").content.decode()
    for url in docs_assets(html):
        assert url.startswith("/"), url
        # Then every asset the page needs answers
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"".join(response.streaming_content)


# --- The schema ---------------------------------------------------------------------------------


def test_every_operation_has_a_description_of_its_own(schema):
    descriptions = {(method.upper(), path): (operation.get("description") or "").strip()
                    for path, method, operation in operations(schema)}
    assert len(descriptions) >= 30
    assert [name for name, text in descriptions.items() if not text] == []
    # (not one text shared by every operation of a viewset)
    assert len(set(descriptions.values())) == len(descriptions)


def _path_argument(name: str, schema: dict) -> str:
    if schema.get("type") == "integer" or schema.get("pattern") == "^[0-9]+$":
        return "1"
    return {"sku": "NO-SUCH-SKU", "provider": "sandbox"}.get(name, str(uuid.uuid4()))


@pytest.mark.django_db(databases="__all__")
def test_every_write_that_needs_an_idempotency_key_documents_it_and_its_replay_header(schema, staff_client):
    # Given every write the API has, and what it answers when sent without an Idempotency-Key
    needs_key, declares_key = set(), set()
    for path, method, operation in operations(schema):
        if method not in WRITE_METHODS:
            continue
        url = path
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                url = url.replace(f"{{{parameter['name']}}}", _path_argument(parameter["name"], parameter["schema"]))
        response = getattr(staff_client, method)(url, {}, format="json")
        if response.status_code == 400 and response.json().get("code") == "idempotency_key_missing":
            needs_key.add((method, path))
        header = header_parameters(operation).get("Idempotency-Key")
        if header is not None and header["required"]:
            declares_key.add((method, path))
            # Then a client learns how to tell a replayed answer from a first one
            for code, response_schema in success_responses(operation).items():
                assert "Idempotent-Replayed" in response_schema.get("headers", {}), (method, path, code)
    # Then exactly the writes that require the header declare it, as required
    assert len(needs_key) >= 8
    assert declares_key == needs_key


def test_order_placement_documents_the_sandbox_payment_tokens(schema):
    tokens = re.findall(r"``(tok_\w+)``", sandbox.__doc__)
    assert len(tokens) == 6
    operation = schema["paths"]["/api/v1/orders/"]["post"]
    examples = operation["requestBody"]["content"]["application/json"].get("examples", {})
    documented = operation.get("description", "") + str(examples)
    assert [token for token in tokens if token not in documented] == []
    assert "tok_approved" in str(examples)  # the docs page's "Try it out" starts from an order that goes through


def resource_read(schema, path: str) -> dict:
    """The GET of the resource a conditional write changes: the path's own, or the nearest
    enclosing path's (a cart's code or line belongs to the cart, whose ETag it takes)."""
    while path.count("/") > 1:
        if "get" in schema["paths"].get(path, {}):
            return schema["paths"][path]["get"]
        path = path.rsplit("/", 2)[0] + "/"
    raise AssertionError(f"no read for {path}")


def test_conditional_resources_document_if_match_and_the_etag_to_send(schema):
    conditional = [(path, method, operation) for path, method, operation in operations(schema)
                   if "If-Match" in header_parameters(operation)]
    assert len(conditional) >= 8
    for path, method, operation in conditional:
        # Where If-Match is taken, the resource's read answers the ETag to send ...
        read = resource_read(schema, path)
        assert "ETag" in read["responses"]["200"].get("headers", {}), path
        # ... and a successful write answers the new one (not after a DELETE: nothing is left)
        for code, response in success_responses(operation).items():
            if code != "204":
                assert "ETag" in response.get("headers", {}), (method, path, code)


def test_throttled_and_shed_answers_document_retry_after(schema):
    documented = [(method, path, code, response) for path, method, operation in operations(schema)
                  for code, response in operation["responses"].items() if code in ("429", "503")]
    assert len(documented) >= 30
    assert [(method, path, code) for method, path, code, response in documented
            if "Retry-After" not in response.get("headers", {})] == []


def test_the_schema_generates_without_a_warning(tmp_path):
    # A warning is a schema a client would misread: two components with one name (a cart's tax
    # line shown as an order's), or an enum named at random (KindDeeEnum).
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
