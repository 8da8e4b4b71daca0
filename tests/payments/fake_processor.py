"""A fake payment processor speaking the REST API of apps.payments.providers.http, served by a
real HTTP server on loopback (real sockets, real timeouts). It keeps its own ledger, applies
each idempotency key once (a repeated key gets the first answer) and counts every request
per Idempotency-Key, so tests can prove that no second call was made.

Authorization tokens: tok_approved, tok_declined (402), tok_insufficient_funds (402),
tok_processing_error (200, status failed), tok_slow (approved, but the answer comes after
`slow_seconds`: longer than the client's read timeout), tok_500 (approved, then a 500 answer).
Knobs: `slow_operations` (operations answered slowly after being applied), `broken` (every
request answers 503 without doing anything), `before_answer` (called with (operation, key)
after an operation is applied and before it is answered)."""

from __future__ import annotations

import collections
import json
import threading
import time
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


class FakeProcessor:
    def __init__(self, *, secret: str, slow_seconds: float = 1.5):
        self.secret = secret
        self.slow_seconds = slow_seconds
        self.calls: collections.Counter[str] = collections.Counter()
        self.requests: list[dict] = []
        self.operations: dict[str, tuple[int, dict]] = {}  # key -> (HTTP status, body): the idempotency store
        self.authorizations: dict[str, dict] = {}
        self.slow_operations: set[str] = set()
        self.broken = False
        self.before_answer = None
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeProcessor:
        processor = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                processor._handle(self, "GET")

            def do_POST(self):
                processor._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def calls_for(self, key_suffix: str) -> int:
        """Requests whose Idempotency-Key ends with `key_suffix` (ours is "<operation>:<key>")."""
        return sum(count for key, count in self.calls.items() if key.endswith(key_suffix))

    # ---------------------------------------------------------------- request handling

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        key = handler.headers.get("Idempotency-Key", "")
        with self.lock:
            self.calls[key] += 1
            self.requests.append({"method": method, "path": handler.path, "headers": dict(handler.headers),
                                  "body": raw.decode()})
        if handler.headers.get("Authorization") != f"Bearer {self.secret}":
            return self._send(handler, 401, {"message": "bad secret"})
        if self.broken:
            return self._send(handler, 503, {"message": "down for maintenance"})
        path = handler.path.removeprefix("/v1")
        if method == "GET" and path.startswith("/operations/"):
            stored = self.operations.get(unquote(path.removeprefix("/operations/")))
            return self._send(handler, *stored) if stored else self._send(handler, 404, {"message": "unknown"})
        body = json.loads(raw or b"{}")
        operation, status, answer, delay = self._apply(path, body, key)
        if self.before_answer is not None:
            self.before_answer(operation, key)
        if delay:
            time.sleep(delay)
        if answer.get("token_behaviour") == "500":
            return self._send(handler, 500, {"message": "internal error"})
        answer.pop("token_behaviour", None)
        return self._send(handler, status, answer)

    def _apply(self, path: str, body: dict, key: str) -> tuple[str, int, dict, float]:
        operation = self._operation(path)
        with self.lock:
            if key in self.operations:
                status, answer = self.operations[key]
                return operation, status, dict(answer), 0
            status, answer = self._process(operation, path, body)
            self.operations[key] = (status, answer)
        delay = self.slow_seconds if operation in self.slow_operations else 0
        if body.get("token") == "tok_slow":
            delay = self.slow_seconds
        if body.get("token") == "tok_500":
            answer = {**answer, "token_behaviour": "500"}
        return operation, status, dict(answer), delay

    @staticmethod
    def _operation(path: str) -> str:
        if path == "/authorizations":
            return "authorize"
        if path.endswith("/captures"):
            return "capture"
        if path.endswith("/void"):
            return "void"
        return "refund"

    def _process(self, operation: str, path: str, body: dict) -> tuple[int, dict]:
        if operation == "authorize":
            token = body["token"]
            if token in ("tok_declined", "tok_insufficient_funds"):
                code = "card_declined" if token == "tok_declined" else "insufficient_funds"
                return 402, {"status": "declined", "decline_code": code, "message": "Declined by the issuer."}
            if token == "tok_processing_error":
                return 200, {"status": "failed", "decline_code": "processing_error", "message": "Try later."}
            reference = f"auth_{uuid.uuid4().hex[:16]}"
            self.authorizations[reference] = {"amount": Decimal(body["amount"]), "captured": Decimal(0),
                                              "refunded": Decimal(0), "voided": False}
            return 201, {"id": reference, "status": "approved"}
        reference = unquote(path.split("/")[2])
        auth = self.authorizations.get(reference)
        if auth is None:
            return 404, {"decline_code": "unknown_authorization", "message": "No such authorization."}
        amount = Decimal(body.get("amount", "0"))
        if operation == "capture":
            if auth["voided"] or auth["captured"] + amount > auth["amount"]:
                return 409, {"decline_code": "amount_too_large", "message": "Cannot capture that."}
            auth["captured"] += amount
        elif operation == "void":
            auth["voided"] = True
        elif auth["refunded"] + amount > auth["captured"]:
            return 409, {"decline_code": "amount_too_large", "message": "Cannot refund that."}
        else:
            auth["refunded"] += amount
        return 201, {"id": f"{operation}_{uuid.uuid4().hex[:16]}", "status": "approved"}

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (read timeout): the processor acted anyway
