"""A WSGI app for the gunicorn timeout test: /sleep?seconds=N blocks, anything else answers."""

import time
from urllib.parse import parse_qs


def app(environ, start_response):
    if environ["PATH_INFO"] == "/sleep":
        time.sleep(float(parse_qs(environ["QUERY_STRING"]).get("seconds", ["60"])[0]))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
