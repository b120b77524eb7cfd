"""Where a webhook may be sent, and the HTTP client that sends it.

Server-side request forgery is the risk: a tenant could point a webhook at the portal's own
network (a database, Redis, the cloud metadata service). So every attempt resolves the host
name, refuses it if ANY address it resolves to is loopback, private, link-local, shared
(CGNAT), multicast, reserved or a cloud metadata address, and then connects to the very address
it checked, sending the name in ``Host`` and in TLS SNI (and verifying the certificate against
the name). Checking the name and then letting the HTTP library resolve it again would allow a
DNS-rebinding bypass (public answer for the check, 127.0.0.1 for the connection).

``settings.WEBHOOK_ALLOW_PRIVATE_TARGETS`` (operators, development, tests) allows loopback and
private networks; the metadata addresses stay refused whatever the setting.

Connections are pooled per (scheme, address, port, host name) so a busy endpoint gets
keep-alive; a host whose address changes simply gets a new pool.
"""
from __future__ import annotations

import ipaddress
import math
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

# Cloud instance metadata: refused even when private targets are allowed.
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, DigitalOcean
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("fd00:ec2::254"),  # AWS IPv6
}

TIMEOUT_SECONDS = 15.0
EXCERPT_CHARS = 1000
USER_AGENT = "Thirdlane-Webhooks/1.0"


class TargetRefused(Exception):
    """The URL is not one we deliver to; the message is safe to show to the subscriber."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    address: str
    path: str  # path and query

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_TARGETS", False))


def address_refusal(address: str, *, private_allowed: bool | None = None) -> str | None:
    """Why an address may not be a target, or None when it may. ``private_allowed`` defaults to
    ``WEBHOOK_ALLOW_PRIVATE_TARGETS`` (billing exports pass their own setting)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_unspecified or ip.is_multicast:
        return "not a unicast address"
    if allow_private() if private_allowed is None else private_allowed:
        return None
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if not ip.is_global:
        return "a private or reserved address"
    return None


def parse_url(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    if scheme not in ("http", "https"):
        raise TargetRefused("The URL must use http or https.")
    if not parts.hostname:
        raise TargetRefused("The URL has no host.")
    if parts.username or parts.password:
        raise TargetRefused("Credentials in the URL are not allowed; use a custom header.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused("The URL's port is not valid.") from exc
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, parts.hostname.lower(), port, path


def resolve(url: str) -> Target:
    """Resolve and check a URL's host now. Raises TargetRefused."""
    scheme, host, port, path = parse_url(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"The host {host} does not resolve.") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise TargetRefused(f"The host {host} does not resolve.")
    for address in addresses:
        reason = address_refusal(address)
        if reason:
            raise TargetRefused(f"The host {host} resolves to {reason} ({address}).")
    return Target(scheme, host, port, addresses[0], path)


def check_url_statically(url: str) -> None:
    """At save time: refuse bad schemes, literal addresses and names that resolve somewhere
    forbidden. A name that does not resolve (yet) is accepted; every attempt checks again."""
    scheme, host, port, path = parse_url(url)
    try:
        ipaddress.ip_address(host)
        literal = True
    except ValueError:
        literal = False
    if literal:
        reason = address_refusal(host)
        if reason:
            raise TargetRefused(f"The URL points at {reason}.")
        return
    if host == "localhost" or host.endswith(".localhost"):
        if not allow_private():
            raise TargetRefused("The URL points at a loopback address.")
    try:
        resolve(url)
    except TargetRefused as exc:
        if "does not resolve" not in str(exc):
            raise


# --- the HTTP client ----------------------------------------------------------------------

_pools: dict[tuple, urllib3.HTTPConnectionPool] = {}
_pools_lock = threading.Lock()
_MAX_POOLS = 500


def _pool_for(target: Target) -> urllib3.HTTPConnectionPool:
    ca_bundle = getattr(settings, "WEBHOOK_CA_BUNDLE", None)  # None: the system's trusted CAs
    key = (target.scheme, target.address, target.port, target.host, ca_bundle)
    pool = _pools.get(key)
    if pool is not None:
        return pool
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            if len(_pools) >= _MAX_POOLS:
                for old in list(_pools.values()):
                    old.close()
                _pools.clear()
            # As many keep-alive connections per endpoint as there are sending threads.
            size = int(getattr(settings, "WEBHOOK_HTTP_THREADS", 16))
            common = {"port": target.port, "maxsize": size, "block": False, "retries": False}
            if target.scheme == "https":
                pool = urllib3.HTTPSConnectionPool(target.address, server_hostname=target.host,
                                                   assert_hostname=target.host, cert_reqs="CERT_REQUIRED",
                                                   ca_certs=ca_bundle, **common)
            else:
                pool = urllib3.HTTPConnectionPool(target.address, **common)
            _pools[key] = pool
    return pool


@dataclass
class Result:
    succeeded: bool
    status_code: int | None
    duration_ms: int
    response_excerpt: str = ""
    error: str = ""
    address: str = ""
    retry_after: str | None = None


def post(url: str, body: bytes, headers: dict[str, str], timeout: float | None = None) -> Result:
    """One POST to a checked address. Never raises: failures come back as a Result."""
    timeout = timeout or float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", TIMEOUT_SECONDS))
    started = time.monotonic()

    def elapsed() -> int:  # whole milliseconds, rounded up: an attempt that happened took time
        return math.ceil((time.monotonic() - started) * 1000)

    try:
        target = resolve(url)
    except TargetRefused as exc:
        return Result(False, None, elapsed(), error=f"refused: {exc}")
    headers = {**headers, "Host": target.host_header}
    try:
        response = _pool_for(target).urlopen(
            "POST", target.path, body=body, headers=headers, redirect=False, retries=False,
            assert_same_host=False, preload_content=False,
            timeout=urllib3.Timeout(connect=min(5.0, timeout), read=timeout, total=timeout),
        )
    except urllib3.exceptions.HTTPError as exc:
        return Result(False, None, elapsed(), error=_describe(exc), address=target.address)
    try:
        raw = response.read(4 * EXCERPT_CHARS, decode_content=False)
        complete = response.length_remaining == 0 or response.isclosed()
    except urllib3.exceptions.HTTPError as exc:
        raw, complete = b"", False
        response.close()
        return Result(False, response.status, elapsed(), error=_describe(exc), address=target.address)
    finally:
        if not complete:
            response.close()
        response.release_conn()
    status = response.status
    return Result(200 <= status < 300, status, elapsed(),
                  response_excerpt=raw.decode("utf-8", "replace")[:EXCERPT_CHARS],
                  error="" if 200 <= status < 300 else f"HTTP {status}", address=target.address,
                  retry_after=response.headers.get("Retry-After"))


def _describe(exc: Exception) -> str:
    # NewConnectionError is a subclass of ConnectTimeoutError in urllib3 2: a refused connection
    # must be asked about first, or it is reported as a timeout.
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return "connection failed: " + str(exc.__cause__ or exc).split(":")[-1].strip()[:200]
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return "timeout"
    if isinstance(exc, urllib3.exceptions.SSLError):
        return "TLS error: " + str(exc)[:200]
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return "connection error: " + str(exc)[:200]
    return f"{type(exc).__name__}: {str(exc)[:200]}"
