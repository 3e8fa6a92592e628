"""Webhook targets: only http(s) to public addresses, checked when set and again when sent.

The database refuses URLs whose host is an IP literal in a loopback, private, link-local,
multicast, unspecified or reserved range, or an obvious local name
(``exchange._check_webhook_url``); it cannot resolve names. This module does the rest in
Python: :func:`resolve_public` resolves a host name and refuses it when ANY of its addresses
is not public; the client calls it before ``set_webhook_endpoint``, and the notification
worker calls it before every delivery (DNS can change between the two) and then connects to
the very address it checked (:func:`post`), so the name cannot be re-resolved elsewhere in
between. A host an admin allowed (``exchange.set_webhook_host_allowed``) skips the address
check. Redirects are not followed (a 3xx answer is a failed delivery).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from pyexchange.errors import UnsafeWebhookUrl

_HINT = ("A webhook goes to a public http(s) address; an admin may allow a host with "
         "exchange.set_webhook_host_allowed.")


@dataclass(frozen=True)
class WebhookTarget:
    scheme: str
    host: str
    port: int
    path: str


def parse_url(url: str) -> WebhookTarget:
    """Split a webhook URL, refusing (:class:`UnsafeWebhookUrl`) what is not plain http(s)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeWebhookUrl(f"refused webhook URL: {exc}", hint=_HINT) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeWebhookUrl("refused webhook URL: not an http:// or https:// URL", hint=_HINT)
    if parts.username is not None or parts.password is not None:
        raise UnsafeWebhookUrl("refused webhook URL: a user:password@ part is not allowed",
                               hint=_HINT)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return WebhookTarget(parts.scheme, parts.hostname.rstrip(".").lower(),
                         port or (443 if parts.scheme == "https" else 80), path)


def is_public(address: str) -> bool:
    """Is this IP address routable on the internet (not loopback, private, link-local,
    multicast, unspecified, reserved, nor an IPv4-mapped/NAT64 form of one)?"""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public(str(ip.ipv4_mapped))
        if ip in ipaddress.ip_network("64:ff9b::/96"):
            return False
    return bool(ip.is_global) and not (ip.is_loopback or ip.is_private or ip.is_link_local
                                       or ip.is_multicast or ip.is_unspecified
                                       or ip.is_reserved)


def resolve_public(host: str, port: int) -> list[str]:
    """The addresses of ``host``, refusing it when it does not resolve or when any of them is
    not public (a name with one private address among public ones is refused too)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeWebhookUrl(f"refused webhook URL: {host} does not resolve ({exc})",
                               hint=_HINT) from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    bad = [a for a in addresses if not is_public(a)]
    if bad or not addresses:
        raise UnsafeWebhookUrl(
            f"refused webhook URL: {host} resolves to a loopback, private, link-local, "
            f"multicast, unspecified or reserved address ({', '.join(bad)})", hint=_HINT)
    return addresses


def check_url(url: str, allowed: bool) -> tuple[WebhookTarget, list[str] | None]:
    """Parse ``url`` and, unless its host is ``allowed`` by an admin, resolve it and refuse a
    non-public address. Returns the target and the checked addresses (None when allowed)."""
    target = parse_url(url)
    if allowed:
        return target, None
    return target, resolve_public(target.host, target.port)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._ctx = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._ctx)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        # the certificate is checked against the host name, not the address
        self.sock = self._ctx.wrap_socket(raw, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], *, allowed: bool,
         timeout: float) -> int:
    """POST ``body`` to ``url`` after checking it (:func:`check_url`), connecting to the
    address that was checked; returns the HTTP status (redirects are not followed)."""
    target, addresses = check_url(url, allowed)
    address = addresses[0] if addresses else target.host
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        conn = _PinnedHTTPSConnection(target.host, target.port, address, timeout)
    else:
        conn = _PinnedHTTPConnection(target.host, target.port, address, timeout)
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return int(response.status)
    finally:
        conn.close()
