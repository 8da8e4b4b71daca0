"""The SSRF guard of webhooks: a staff-supplied URL must not reach inside our network.

A URL is refused when its host resolves to any loopback, private, link-local, multicast,
reserved or otherwise non-public address (IPv4-mapped and 6to4/Teredo forms included). It is
checked at registration, again before each send, and the connection itself checks the address it
actually reached, so a DNS answer that changes between check and connect (rebinding) is caught.
NOTIFICATIONS_WEBHOOK_ALLOW_NETWORKS lists networks allowed despite this (empty by default)."""

from __future__ import annotations

import functools
import ipaddress
import socket
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


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self):
        sock = super()._new_conn()
        _peer_check(sock)
        return sock


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self):
        sock = super()._new_conn()
        _peer_check(sock)
        return sock


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def guarded_session() -> requests.Session:
    """A session whose connections refuse non-public peers. Environment proxies are ignored: a
    proxy would hide the address the request really goes to."""
    session = requests.Session()
    session.trust_env = False
    adapter = _GuardedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
