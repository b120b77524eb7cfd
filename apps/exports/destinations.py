"""Where a run's file goes: a signed HTTP POST, an S3-compatible bucket, SFTP, or a directory on
the server. Each ``deliver`` sends the whole file under the run's file name or raises
``DeliveryFailed`` with a reason for the run history; sending the same run again replaces the
same object (S3 key, SFTP path, file) and carries the same ``webhook-id``, so a retried or resumed
run never leaves a second copy.

Network destinations are checked like webhook targets when saved and again when sending: a
loopback, private, link-local or metadata address is refused unless
``EXPORT_ALLOW_PRIVATE_TARGETS`` is set.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import time
from datetime import datetime, timezone
from pathlib import Path

from django.conf import settings

from apps.webhooks import targets
from apps.webhooks.signing import valid_secret

CHUNK = 1 << 20


class DeliveryFailed(Exception):
    def __init__(self, reason: str, *, retry: bool = True):
        super().__init__(reason)
        self.retry = retry


class DestinationInvalid(Exception):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def private_allowed() -> bool:
    return bool(getattr(settings, "EXPORT_ALLOW_PRIVATE_TARGETS", False))


def check_host(host: str, port: int, *, resolve: bool) -> None:
    """Refuse a host that is (or resolves to) a forbidden address. Without ``resolve`` (at save
    time) only literal addresses are checked; a name is checked at every delivery."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM) if resolve else \
            [(None, None, None, None, (host, port))]
    except (socket.gaierror, UnicodeError) as exc:
        raise DeliveryFailed(f"The host {host} does not resolve.") from exc
    for info in infos:
        address = info[4][0]
        try:
            reason = targets.address_refusal(address, private_allowed=private_allowed())
        except ValueError:
            continue  # a name, at save time
        if reason:
            raise DestinationInvalid(f"The host {host} is {reason} ({address}).", "destination")


def directory_root() -> Path:
    return Path(settings.EXPORT_DIRECTORY_ROOT)


# --- validation (at save time) --------------------------------------------------------------
def validate(kind: str, config: dict, secret: str) -> dict:
    """The destination's settings, checked; raises DestinationInvalid naming the field."""
    def need(name: str, check=lambda v: isinstance(v, str) and v.strip()) -> str:
        value = config.get(name)
        if not check(value):
            raise DestinationInvalid(f"destination.{name} is required.", f"destination.{name}")
        return value.strip() if isinstance(value, str) else value

    allowed = {"http": {"url"}, "s3": {"bucket", "prefix", "endpoint_url", "region", "access_key_id"},
               "sftp": {"host", "port", "username", "path", "host_key"}, "directory": {"path"}}[kind]
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise DestinationInvalid(f"Unknown destination settings for {kind}: {', '.join(unknown)}.",
                                 f"destination.{unknown[0]}")
    out: dict = {}
    if kind == "http":
        url = need("url")
        try:
            scheme, host, port, _ = targets.parse_url(url)
        except targets.TargetRefused as exc:
            raise DestinationInvalid(str(exc), "destination.url") from None
        check_host(host, port, resolve=False)
        if secret and not valid_secret(secret):
            raise DestinationInvalid("A signing secret is `whsec_` followed by 24 to 64 base64-encoded bytes.",
                                     "secret")
        out["url"] = url
    elif kind == "s3":
        out["bucket"] = need("bucket")
        out["prefix"] = str(config.get("prefix") or "").strip("/")
        endpoint = str(config.get("endpoint_url") or "")
        if endpoint:
            try:
                scheme, host, port, _ = targets.parse_url(endpoint)
            except targets.TargetRefused as exc:
                raise DestinationInvalid(str(exc), "destination.endpoint_url") from None
            check_host(host, port, resolve=False)
        out["endpoint_url"] = endpoint
        out["region"] = str(config.get("region") or "us-east-1")
        out["access_key_id"] = need("access_key_id")
        if not secret:
            raise DestinationInvalid("The secret access key is required.", "secret")
    elif kind == "sftp":
        out["host"] = need("host")
        port = config.get("port", 22)
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise DestinationInvalid("destination.port is a port number.", "destination.port")
        out["port"] = port
        check_host(out["host"], port, resolve=False)
        out["username"] = need("username")
        out["path"] = str(config.get("path") or ".").rstrip("/") or "/"
        out["host_key"] = need("host_key")  # pinned: "ssh-ed25519 AAAA..." (never trust on first use)
        if len(out["host_key"].split()) < 2:
            raise DestinationInvalid("The server's public host key, as in known_hosts: `<type> <base64>`.",
                                     "destination.host_key")
        if not secret:
            raise DestinationInvalid("The SFTP password is required.", "secret")
    else:
        relative = need("path")
        path = Path(relative)
        if path.is_absolute() or ".." in path.parts:
            raise DestinationInvalid("A path inside the export directory (relative, no '..').", "destination.path")
        out["path"] = str(path)
    return out


# --- delivery -------------------------------------------------------------------------------
def deliver(run, schedule, path: str) -> str:
    """Send ``path`` (the run's file); returns where it went."""
    kind = schedule.destination_type
    return {"http": _http, "s3": _s3, "sftp": _sftp, "directory": _directory}[kind](run, schedule, path)


def _content_type(schedule) -> str:
    return "text/csv; charset=utf-8" if schedule.format == "csv" else "application/x-ndjson"


def signature(secret: str, message_id: str, timestamp: int, path: str) -> str:
    """Standard Webhooks ``v1`` signature of ``<id>.<timestamp>.<file>``, computed over the file in
    chunks (a file may be larger than memory should hold)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{message_id}.{timestamp}.".encode(), hashlib.sha256)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            mac.update(chunk)
    return "v1," + base64.b64encode(mac.digest()).decode()


def _http(run, schedule, path: str) -> str:
    url = schedule.destination["url"]
    try:
        target = _resolve(url)
    except targets.TargetRefused as exc:
        raise DeliveryFailed(f"refused: {exc}", retry=False) from None
    timestamp = int(time.time())
    headers = {
        "Content-Type": _content_type(schedule), "Content-Length": str(os.path.getsize(path)),
        "Host": target.host_header, "User-Agent": "thirdlane-exports/1",
        "webhook-id": str(run.uid), "webhook-timestamp": str(timestamp),
        "X-Export-Schedule": str(schedule.pk), "X-Export-Run": str(run.pk), "X-Export-Rows": str(run.rows),
        "X-Export-SHA256": run.sha256, "X-Export-File": run.file_name,
    }
    if schedule.secret:
        headers["webhook-signature"] = signature(schedule.secret, str(run.uid), timestamp, path)
    import urllib3

    pool = targets._pool_for(target)
    timeout = float(getattr(settings, "EXPORT_HTTP_TIMEOUT_SECONDS", 60))
    try:
        with open(path, "rb") as body:
            response = pool.urlopen("POST", target.path, body=body, headers=headers, redirect=False, retries=False,
                                    assert_same_host=False, preload_content=True,
                                    timeout=urllib3.Timeout(connect=5.0, read=timeout))
    except urllib3.exceptions.HTTPError as exc:
        raise DeliveryFailed(targets._describe(exc)) from None
    if not 200 <= response.status < 300:
        excerpt = response.data[:200].decode("utf-8", "replace")
        raise DeliveryFailed(f"HTTP {response.status}: {excerpt}".strip(), retry=response.status >= 500
                             or response.status in (408, 429))
    return url


def _resolve(url: str) -> targets.Target:
    """Resolve and check the URL's host now, with the exports' own private-network setting."""
    scheme, host, port, path = targets.parse_url(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise targets.TargetRefused(f"The host {host} does not resolve.") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    for address in addresses:
        reason = targets.address_refusal(address, private_allowed=private_allowed())
        if reason:
            raise targets.TargetRefused(f"The host {host} resolves to {reason} ({address}).")
    return targets.Target(scheme, host, port, addresses[0], path)


def _s3(run, schedule, path: str) -> str:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    config = schedule.destination
    endpoint = config.get("endpoint_url") or None
    if endpoint:
        scheme, host, port, _ = targets.parse_url(endpoint)
        try:
            check_host(host, port, resolve=True)
        except DestinationInvalid as exc:
            raise DeliveryFailed(f"refused: {exc}", retry=False) from None
    key = "/".join(p for p in (config.get("prefix", ""), run.file_name) if p)
    client = boto3.client("s3", endpoint_url=endpoint, region_name=config.get("region") or "us-east-1",
                          aws_access_key_id=config["access_key_id"], aws_secret_access_key=schedule.secret,
                          config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=60))
    try:
        client.upload_file(path, config["bucket"], key, ExtraArgs={
            "ContentType": _content_type(schedule),
            "Metadata": {"sha256": run.sha256, "rows": str(run.rows), "run": str(run.uid)}})
    except (BotoCoreError, ClientError) as exc:
        raise DeliveryFailed(f"S3: {exc}"[:500]) from None
    return f"s3://{config['bucket']}/{key}"


def _sftp(run, schedule, path: str) -> str:
    import paramiko

    config = schedule.destination
    try:
        check_host(config["host"], config["port"], resolve=True)
    except DestinationInvalid as exc:
        raise DeliveryFailed(f"refused: {exc}", retry=False) from None
    key_type, key_data = config["host_key"].split()[:2]
    try:
        expected = paramiko.PKey.from_type_string(key_type, base64.b64decode(key_data))
    except (ValueError, paramiko.SSHException) as exc:
        raise DeliveryFailed(f"The pinned host key cannot be read: {exc}", retry=False) from None
    remote_dir = config["path"]
    final = f"{remote_dir}/{run.file_name}"
    partial = f"{remote_dir}/.{run.file_name}.part"
    try:
        sock = socket.create_connection((config["host"], config["port"]), timeout=10)
        transport = paramiko.Transport(sock)
        try:
            transport.start_client(timeout=10)
            if transport.get_remote_server_key() != expected:
                raise DeliveryFailed("The SFTP server's host key is not the pinned one.", retry=False)
            transport.auth_password(config["username"], schedule.secret)
            sftp = paramiko.SFTPClient.from_transport(transport)
            sftp.put(path, partial, confirm=True)
            try:
                sftp.posix_rename(partial, final)
            except (OSError, paramiko.SSHException):
                try:
                    sftp.remove(final)
                except OSError:
                    pass
                sftp.rename(partial, final)
            sftp.close()
        finally:
            transport.close()
    except DeliveryFailed:
        raise
    except (OSError, paramiko.SSHException, EOFError) as exc:
        raise DeliveryFailed(f"SFTP: {type(exc).__name__}: {exc}"[:500]) from None
    return f"sftp://{config['host']}:{config['port']}{final}"


def _directory(run, schedule, path: str) -> str:
    root = directory_root().resolve()
    folder = (root / schedule.destination["path"]).resolve()
    if root not in folder.parents and folder != root:
        raise DeliveryFailed("The directory is outside the export directory.", retry=False)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / run.file_name
        partial = folder / f".{run.file_name}.part"
        with open(path, "rb") as src, open(partial, "wb") as dst:
            for chunk in iter(lambda: src.read(CHUNK), b""):
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(partial, final)
    except OSError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}"[:500]) from None
    return str(final)


def now() -> datetime:
    return datetime.now(timezone.utc)
