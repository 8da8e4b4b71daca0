"""The production server's timeouts: a stuck request is cut off and the server keeps serving."""

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port, path, timeout=20):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def test_a_request_stuck_past_the_worker_timeout_is_cut_off_and_the_server_keeps_serving():
    port = free_port()
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_TIMEOUT": "2", "WEB_CONCURRENCY": "1"}
    command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "tests.common.slow_wsgi:app"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(100):
            try:
                if get(port, "/", timeout=1) == 200:
                    break
            except OSError:
                time.sleep(0.1)
        # When a request blocks past the 2 s worker timeout, the worker is aborted: the caller gets
        # a 500 at once instead of waiting the 30 s the request would have taken
        assert get(port, "/sleep?seconds=30", timeout=20) == 500
        # Then a fresh worker answers the next request
        assert get(port, "/") == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "WORKER TIMEOUT" in output
