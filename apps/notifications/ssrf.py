"""The SSRF guard of webhooks: a staff-supplied URL must not reach inside our network.

A URL is refused when its host resolves to any loopback, private, link-local, multicast,
reserved or otherwise non-public address (IPv4-mapped and 6to4/Teredo forms included). It is
checked at registration, again before each send, and the connection itself checks the address it
actually reached, so a DNS answer that changes between check and connect (rebinding) is caught.
NOTIFICATIONS_WEBHOOK_ALLOW_NETWORKS lists networks allowed despite this (empty by default).

Webhooks go out on kept-alive connections (webhook_session: one pool per thread of each process,
keyed by scheme, host and port). Every send still checks the URL's current DNS answer first; a
kept connection's peer is checked again each time it is taken from the pool (the policy may have
changed since it connected), and one idle longer than NOTIFICATIONS_WEBHOOK_KEEPALIVE_SECONDS is
closed, so a connection is reused only for its own host, only while the host's every address and
the connection's own peer are allowed."""

from __future__ import annotations

import contextlib
import functools
import http.cookiejar
import ipaddress
import os
import socket
import threading
import time
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeDestination(ValueError):
    """Not an OSError on purpose: urllib3 must not take it for a network error and retry."""


@functools.lru_cache(maxsize=8)
def _allowed_networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in spec if cidr.strip())


def _is_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not _is_public(embedded):
            return False
    return ip.is_global and not (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified)


def address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    allowed = _allowed_networks(tuple(settings.NOTIFICATIONS_WEBHOOK_ALLOW_NETWORKS))
    candidates = [ip] + ([ip.ipv4_mapped] if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else [])
    if any(candidate in network for candidate in candidates for network in allowed
           if candidate.version == network.version):
        return True
    return _is_public(ip)


def url_check(url: str) -> None:
    """Raise UnsafeDestination unless `url` is http(s) and every address of its host is allowed."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeDestination(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeDestination("only http and https URLs are allowed")
    if not parts.hostname:
        raise UnsafeDestination("the URL has no host")
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeDestination(f"the host {parts.hostname!r} does not resolve") from exc
    addresses = sorted({info[4][0] for info in infos})
    refused = [address for address in addresses if not address_allowed(address)]
    if refused:
        raise UnsafeDestination(f"the host {parts.hostname!r} resolves to a non-public address ({', '.join(refused)})")


def _peer_check(sock: socket.socket) -> None:
    address = sock.getpeername()[0]
    if not address_allowed(address):
        sock.close()
        raise UnsafeDestination(f"connected to a non-public address ({address})")


def _reusable(conn) -> bool:
    """A kept connection may serve one more request: not idle too long, its peer still allowed."""
    idle = time.monotonic() - getattr(conn, "idle_since", 0.0)
    if idle > settings.NOTIFICATIONS_WEBHOOK_KEEPALIVE_SECONDS:
        return False
    try:
        return address_allowed(conn.sock.getpeername()[0])
    except OSError:
        return False  # no longer connected


QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only


class _QuickAckMixin:
    """Acknowledges the answer's first segment at once. A receiver that writes its headers and its
    body apart, with Nagle's algorithm on (Python's http.server does), holds the body until that
    acknowledgement, which Linux delays by up to 40 ms on a connection past its first exchanges:
    on a kept connection every webhook would wait for it."""

    def getresponse(self):
        if QUICKACK is not None and self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
        return super().getresponse()


class _GuardedHTTPConnection(_QuickAckMixin, HTTPConnection):
    def _new_conn(self):
        sock = super()._new_conn()
        _peer_check(sock)
        return sock


class _GuardedHTTPSConnection(_QuickAckMixin, HTTPSConnection):
    def _new_conn(self):
        sock = super()._new_conn()
        _peer_check(sock)
        return sock


class _GuardedPoolMixin:
    """Takes a kept connection only if it is still _reusable, else closes it: the request then
    opens a new one, whose peer is checked as it connects."""

    def _get_conn(self, timeout=None):
        conn = super()._get_conn(timeout=timeout)
        if conn.sock is not None and not _reusable(conn):
            conn.close()
        return conn

    def _put_conn(self, conn) -> None:
        if conn is not None:
            conn.idle_since = time.monotonic()
        super()._put_conn(conn)


class _GuardedHTTPPool(_GuardedPoolMixin, HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(_GuardedPoolMixin, HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def guarded_session(*, hosts: int = 10) -> requests.Session:
    """A session whose connections refuse non-public peers, keeping one idle connection for each
    of the last `hosts` hosts. Environment proxies are ignored: a proxy would hide the address
    the request really goes to. Cookies are neither kept nor sent: what one receiver sets must
    not reach another endpoint on its host."""
    session = requests.Session()
    session.trust_env = False
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    adapter = _GuardedAdapter(max_retries=0, pool_connections=hosts, pool_maxsize=1)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


_kept = threading.local()


def webhook_session() -> requests.Session:
    """This thread's guarded session, kept for its connections. A forked child makes its own:
    it must not write on its parent's sockets."""
    if getattr(_kept, "pid", None) != os.getpid():
        _kept.session = guarded_session(hosts=32)
        _kept.pid = os.getpid()
    return _kept.session
