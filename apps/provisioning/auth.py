"""How a phone proves it is itself: HTTP Digest (RFC 7616) or HTTP Basic (RFC 7617), the user
name being its MAC address and the password its provisioning password.

Phones are challenged with Digest (MD5, ``qop=auth``: what Yealink, Polycom and Grandstream all
answer), which never sends the password; Basic is taken when a phone sends it, over HTTPS (or
over HTTP with ``PROVISIONING_BASIC_OVER_HTTP``). Nonces are stateless: a timestamp signed with
the server's key, good for ``NONCE_TTL`` seconds, after which the phone is told ``stale=true``
and retries without asking anyone for a password. A replayed response within a nonce's life
fetches the same file the phone could fetch anyway; over the public Internet use HTTPS.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from django.conf import settings

NONCE_TTL = 300
_PARAM = re.compile(r'\s*([a-zA-Z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*(?:,|$)')
_HASHES = {"MD5": hashlib.md5, "MD5-SESS": hashlib.md5, "SHA-256": hashlib.sha256, "SHA-256-SESS": hashlib.sha256}


@dataclass(frozen=True)
class Credentials:
    scheme: str  # "basic" or "digest"
    username: str
    password: str = ""  # basic
    params: dict | None = None  # digest


def parse(header: str) -> Credentials | None:
    """The credentials of an Authorization header, or None when there are none we understand."""
    scheme, _, rest = (header or "").strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "basic":
        try:
            decoded = base64.b64decode(rest.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        username, sep, password = decoded.partition(":")
        return Credentials("basic", username, password) if sep else None
    if scheme == "digest":
        params = {}
        for key, value in _PARAM.findall(rest):
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params[key.lower()] = value
        if not all(params.get(k) for k in ("username", "realm", "nonce", "uri", "response")):
            return None
        return Credentials("digest", params["username"], params=params)
    return None


def _key() -> bytes:
    return hashlib.sha256(("thirdlane-provisioning-nonce:" + settings.SECRET_KEY).encode()).digest()


def make_nonce(now: float | None = None) -> str:
    stamp = f"{int(now if now is not None else time.time()):x}.{secrets.token_hex(4)}"
    signature = hmac.new(_key(), stamp.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{stamp}.{signature}"


def nonce_state(nonce: str, now: float | None = None) -> str:
    """``valid``, ``stale`` (ours, but too old) or ``invalid``."""
    stamp, _, signature = nonce.rpartition(".")
    expected = hmac.new(_key(), stamp.encode(), hashlib.sha256).hexdigest()[:32]
    if not stamp or not hmac.compare_digest(signature, expected):
        return "invalid"
    try:
        issued = int(stamp.split(".")[0], 16)
    except ValueError:
        return "invalid"
    age = (now if now is not None else time.time()) - issued
    return "valid" if -30 <= age <= NONCE_TTL else "stale"


def challenge(*, stale: bool = False) -> str:
    realm = settings.PROVISIONING_REALM.replace('"', "")
    return (f'Digest realm="{realm}", qop="auth", algorithm=MD5, nonce="{make_nonce()}", '
            f'opaque="{secrets.token_hex(8)}"' + (", stale=true" if stale else ""))


def _digest_response(params: dict, password: str, method: str) -> str | None:
    algorithm = (params.get("algorithm") or "MD5").upper()
    h = _HASHES.get(algorithm)
    if h is None:
        return None

    def hx(text: str) -> str:
        return h(text.encode("utf-8")).hexdigest()

    ha1 = hx(f"{params['username']}:{params['realm']}:{password}")
    if algorithm.endswith("-SESS"):
        ha1 = hx(f"{ha1}:{params['nonce']}:{params.get('cnonce', '')}")
    ha2 = hx(f"{method}:{params['uri']}")
    qop = params.get("qop")
    if qop:
        if qop.lower() != "auth" or not params.get("nc") or not params.get("cnonce"):
            return None
        return hx(f"{ha1}:{params['nonce']}:{params['nc']}:{params['cnonce']}:{qop}:{ha2}")
    return hx(f"{ha1}:{params['nonce']}:{ha2}")  # RFC 2069, for old firmware


@dataclass(frozen=True)
class Verdict:
    ok: bool
    stale: bool = False


def verify(credentials: Credentials, passwords: list[str], *, method: str, path: str, secure: bool) -> Verdict:
    """Whether the credentials match one of ``passwords`` (the current one, and the previous one
    during its grace period). Always does the same work, whether the phone exists or not: give
    a throw-away password for an unknown MAC, so timing says nothing about which MACs exist."""
    if credentials.scheme == "basic":
        if not secure and not settings.PROVISIONING_BASIC_OVER_HTTP:
            return Verdict(False)
        given = credentials.password.encode()
        return Verdict(any([hmac.compare_digest(given, p.encode()) for p in passwords]))
    params = credentials.params or {}
    uri = params.get("uri", "")
    realm_ok = params.get("realm") == settings.PROVISIONING_REALM.replace('"', "")
    # The URI the phone signed must be the one it asked for (else a response could be moved to another file).
    uri_ok = uri == path or uri.split("?", 1)[0] == path or re.sub(r"^[a-z]+://[^/]+", "", uri) == path
    expected = [_digest_response(params, p, method) for p in passwords]
    matched = any(e is not None and hmac.compare_digest(e, params.get("response", "").lower()) for e in expected)
    state = nonce_state(params.get("nonce", ""))
    if not (matched and realm_ok and uri_ok) or state == "invalid":
        return Verdict(False)
    return Verdict(state == "valid", stale=state == "stale")


def dummy_password() -> str:
    return secrets.token_urlsafe(18)
