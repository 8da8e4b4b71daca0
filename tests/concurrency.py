"""Races for the concurrency tests: real threads, each with its own database connections."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connections


def race(count, work, *, expected: tuple[type[BaseException], ...] = ()):
    """Run work(i) in `count` threads released together; each closes its connections. An
    exception of an `expected` type is returned as that thread's answer instead of raised."""
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        try:
            return work(i)
        except expected as error:
            return error
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))
