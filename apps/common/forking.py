"""A forked process must neither use nor close the database connections it inherited.

Celery's prefork pool forks a new child whenever one dies; Celery's Django fixup then closes
the child's connections and, with Django's connection pool, the pool too. Closing a psycopg
connection sends the server a Terminate message over the socket, which the child shares with
the worker's main process: the main process's pooled connections died with it, its event
consumers failed on them and parked their events for the retry delay.

So right after a fork, before any code of the child runs, the child forgets every connection
and pool it inherited: it closes its copy of each socket (which leaves the parent's open) and
keeps the objects referenced, so that nothing finalizes them. psycopg would not send Terminate
from a finalizer in another process anyway; keeping them costs a few objects per child."""

from __future__ import annotations

import contextlib
import os

_inherited: list[object] = []
_installed = False


def _close_fd_copy(connection) -> None:
    with contextlib.suppress(Exception):
        os.close(connection.fileno())


def connections_forget_inherited() -> None:
    """In a freshly forked child: drop (without closing) the parent's connections and pools."""
    from django.db import connections
    from django.db.backends.postgresql.base import DatabaseWrapper

    for wrapper in connections.all(initialized_only=True):
        if wrapper.connection is not None:
            _close_fd_copy(wrapper.connection)
            _inherited.append(wrapper.connection)
            wrapper.connection = None
    pools = DatabaseWrapper._connection_pools
    for pool in list(pools.values()):
        # psycopg_pool keeps its idle connections in `_pool`; a pool without it has none to close
        for connection in getattr(pool, "_pool", ()):
            _close_fd_copy(connection)
        _inherited.append(pool)
    pools.clear()


def forking_install() -> None:
    """Run connections_forget_inherited in every child forked from this process (once)."""
    global _installed
    if not _installed:
        os.register_at_fork(after_in_child=connections_forget_inherited)
        _installed = True
