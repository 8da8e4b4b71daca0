"""Exit 0 when HOST:PORT can be bound as `manage.py runserver` binds it; else say so and exit 1.

`make run` calls it before any set-up, so that a busy port fails at once, not after installing,
migrating and loading the demo data. Standard library only: it runs before .venv exists.

    python3 scripts/port_free.py 127.0.0.1 8000
"""

import socket
import sys


def main(argv: list[str]) -> int:
    host, port_text = argv[1], argv[2]
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        print(f"make run: PORT must be a number from 1 to 65535, not {port_text!r}.", file=sys.stderr)
        return 2
    port = int(port_text)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As runserver binds: a connection still closing (TIME_WAIT) does not make the port busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            print(f"make run: port {port} on {host} is in use ({exc.strerror}). Stop what listens there "
                  "or choose another port: make run PORT=<port>", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
