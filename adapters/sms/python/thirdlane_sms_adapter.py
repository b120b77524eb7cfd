#!/usr/bin/env python3
"""Thirdlane SMS reference adapter (Python standard library only).

Sits between the Thirdlane portal and a carrier's HTTP API:

    portal --POST /messages (Standard Webhooks signed)--> adapter --POST $CARRIER_URL/messages--> carrier
    carrier --POST /carrier (message or status)--------> adapter --POST $PORTAL_INBOUND_URL-----> portal

Configuration comes from the environment (see README.md). Run: python3 thirdlane_sms_adapter.py
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import queue
import sys
import threading
import time
import urllib.parse
import uuid
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE = 300  # seconds a signature's timestamp may differ from our clock


# --- Standard Webhooks ------------------------------------------------------------------------

def _key(secret: str) -> bytes:
    return base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    content = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), content, hashlib.sha256).digest()).decode()


def verify(secrets: list[str], headers: dict, body: bytes, now: float | None = None) -> bool:
    """True when one of the ``v1`` signatures in ``webhook-signature`` was made with one of
    ``secrets`` over this id, timestamp and body, and the timestamp is recent."""
    msg_id, stamp, given = (headers.get(k, "") for k in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (msg_id and stamp and given):
        return False
    try:
        timestamp = int(stamp)
    except ValueError:
        return False
    if abs((now or time.time()) - timestamp) > TOLERANCE:
        return False
    expected = {sign(s, msg_id, timestamp, body) for s in secrets}
    return any(hmac.compare_digest(part, e) for part in given.split() for e in expected)


# --- translation ------------------------------------------------------------------------------

def to_carrier(message: dict) -> dict:
    """The portal's outbound message as the carrier's send request."""
    return {"from": message["from"], "to": message["to"], "body": message["text"],
            "reference": message["message_id"]}


def to_portal(event: dict) -> dict:
    """A carrier callback (an inbound message or a status report) in the portal's inbound format."""
    if event.get("event") == "message":
        return {"type": "message", "carrier_message_id": str(event["id"]), "from": event["from"],
                "to": event["to"], "text": event.get("body", "")}
    if event.get("event") == "status":
        out = {"type": "receipt", "carrier_message_id": str(event["id"]), "status": event["status"]}
        if event.get("reference"):
            out["message_id"] = event["reference"]
        if event.get("status") == "failed":
            out["error_code"] = str(event.get("error_code") or "")[:40]
            out["reason"] = str(event.get("error_message") or "")[:500]
        return out
    raise ValueError(f"unknown carrier event {event.get('event')!r}")


# --- HTTP client with one keep-alive connection per thread and host ----------------------------

_local = threading.local()


def post_json(url: str, payload: dict | bytes, headers: dict, timeout: float) -> tuple[int | None, dict, str]:
    """POST; returns (status or None when unreachable, JSON answer or {}, error text)."""
    parts = urllib.parse.urlsplit(url)
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    conns = getattr(_local, "conns", None) or {}
    _local.conns = conns
    key = (parts.scheme, parts.netloc)
    for attempt in (1, 2):  # a kept-alive connection the server closed is retried once, fresh
        conn = conns.get(key)
        if conn is None:
            cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            conn = conns[key] = cls(parts.netloc, timeout=timeout)
        try:
            conn.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body,
                         {"Content-Type": "application/json", **headers})
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            conns.pop(key, None)
            if attempt == 2 or isinstance(exc, (ConnectionRefusedError, TimeoutError)):
                return None, {}, f"{type(exc).__name__}: {exc}"
            continue
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            answer = {}
        return response.status, answer if isinstance(answer, dict) else {}, ""
    return None, {}, "unreachable"


# --- the adapter ------------------------------------------------------------------------------

class Config:
    def __init__(self, env=os.environ):
        missing = [n for n in ("PORTAL_SECRET", "PORTAL_INBOUND_URL", "PROVIDER_KEY", "CARRIER_URL") if not env.get(n)]
        if missing:
            raise SystemExit("missing environment: " + ", ".join(missing))
        self.secrets = env["PORTAL_SECRET"].split()  # several during a rotation, space-separated
        self.inbound_url = env["PORTAL_INBOUND_URL"]
        self.provider_key = env["PROVIDER_KEY"]
        self.carrier_url = env["CARRIER_URL"].rstrip("/")
        self.carrier_token = env.get("CARRIER_TOKEN", "")
        self.carrier_webhook_token = env.get("CARRIER_WEBHOOK_TOKEN", "")
        self.sign_inbound = env.get("SIGN_INBOUND", "1") not in ("0", "false", "no")
        self.timeout = float(env.get("TIMEOUT", "10"))
        # Inbound batching: carrier callbacks arriving together go to the portal in one POST
        # (.../batch) of up to INBOUND_BATCH items; 1 posts each on its own.
        self.inbound_batch = max(1, int(env.get("INBOUND_BATCH", "50")))
        self.inbound_window = float(env.get("INBOUND_BATCH_WINDOW_MS", "5")) / 1000
        self.bind = env.get("BIND", "127.0.0.1")
        self.port = int(env.get("PORT", "8080"))


def _refused(status: int, problem: dict) -> tuple[int, dict]:
    return 422, {"error": {"code": "portal_refused", "status": status, "portal": problem}}


class InboundBatcher:
    """Collects inbound items from concurrent carrier callbacks and posts them to the portal's
    batch endpoint; each callback waits for its own item's answer (the carrier gets 200 only once
    the portal stored it)."""

    def __init__(self, adapter: "Adapter", senders: int = 4):
        from concurrent.futures import ThreadPoolExecutor

        self.adapter = adapter
        self.queue: queue.Queue = queue.Queue()
        self.senders = ThreadPoolExecutor(senders)  # batches in flight at once
        threading.Thread(target=self._collect, daemon=True).start()

    def submit(self, item: dict) -> tuple[int, dict]:
        slot = {"done": threading.Event()}
        self.queue.put((item, slot))
        if not slot["done"].wait(self.adapter.config.timeout * 2 + 5):
            return 502, {"error": {"code": "portal_unavailable", "message": "no answer in time"}}
        return slot["result"]

    def _collect(self) -> None:
        """One collector forms the batches (the first item, then whatever arrives within the
        window, up to the size); the senders post them."""
        config = self.adapter.config
        while True:
            batch = [self.queue.get()]
            deadline = time.monotonic() + config.inbound_window
            while len(batch) < config.inbound_batch:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    batch.append(self.queue.get(timeout=remaining))
                except queue.Empty:
                    break
            self.senders.submit(self._send, batch)

    def _send(self, batch: list) -> None:
        try:
            answers = self.adapter.post_batch([item for item, _ in batch])
        except Exception as exc:  # never leave a callback waiting
            answers = [(502, {"error": {"code": "portal_unavailable", "message": str(exc)}})] * len(batch)
        for (_, slot), answer in zip(batch, answers):
            slot["result"] = answer
            slot["done"].set()


class Adapter:
    def __init__(self, config: Config):
        self.config = config
        self.sent: OrderedDict[str, str] = OrderedDict()  # portal message id -> carrier id (repeats)
        self.lock = threading.Lock()
        self.batcher = InboundBatcher(self) if config.inbound_batch > 1 else None

    def _portal_headers(self, msg_id: str, raw: bytes) -> dict:
        out = {"X-SMS-Provider-Key": self.config.provider_key}
        if self.config.sign_inbound:
            now = int(time.time())
            out.update({"webhook-id": msg_id, "webhook-timestamp": str(now),
                        "webhook-signature": sign(self.config.secrets[0], msg_id, now, raw)})
        return out

    def post_batch(self, items: list[dict]) -> list[tuple[int, dict]]:
        """POST items to the portal's batch endpoint; one (status, answer) per item for the carrier."""
        raw = json.dumps({"items": items}).encode()
        url = self.config.inbound_url.rstrip("/") + "/batch"
        status, answer, error = post_json(url, raw, self._portal_headers(f"msg_batch_{uuid.uuid4().hex}", raw),
                                          self.config.timeout)
        results = answer.get("results") if status == 200 else None
        if isinstance(results, list) and len(results) == len(items):
            return [_refused(r["error"].get("status", 400), r["error"]) if r.get("status") == "error" else (200, r)
                    for r in results]
        if status is not None and 400 <= status < 500:
            return [_refused(status, answer)] * len(items)
        return [(502, {"error": {"code": "portal_unavailable", "message": error or f"HTTP {status}"}})] * len(items)

    def send(self, headers: dict, body: bytes) -> tuple[int, dict]:
        """A message from the portal: verify, forward to the carrier, answer with its id."""
        if not verify(self.config.secrets, headers, body):
            return 401, {"error": {"code": "invalid_signature", "message": "The portal signature does not verify."}}
        try:
            message = json.loads(body)
            request = to_carrier(message)
        except (ValueError, KeyError, TypeError) as exc:
            return 400, {"error": {"code": "bad_request", "message": f"Not a portal message: {exc}"}}
        with self.lock:
            known = self.sent.get(message["message_id"])
        if known:  # the portal repeated a try whose answer it lost: do not send the SMS twice
            return 200, {"carrier_message_id": known}
        auth = {"Authorization": f"Bearer {self.config.carrier_token}"} if self.config.carrier_token else {}
        status, answer, error = post_json(self.config.carrier_url + "/messages", request, auth, self.config.timeout)
        if status is None or status >= 500 or status in (408, 429):
            detail = error or f"HTTP {status}: {(answer.get('error') or {}).get('message', '')}".strip(": ")
            return 502, {"error": {"code": "carrier_unavailable", "message": f"carrier: {detail}"}}
        if status >= 400:
            err = answer.get("error") or {}
            return 422, {"error": {"code": "carrier_rejected", "carrier_code": str(err.get("code", status)),
                                   "message": str(err.get("message") or f"HTTP {status}")}}
        carrier_id = str(answer.get("id") or "")
        if not carrier_id:
            return 502, {"error": {"code": "carrier_unavailable", "message": "carrier: no message id"}}
        with self.lock:
            self.sent[message["message_id"]] = carrier_id
            while len(self.sent) > 100_000:
                self.sent.popitem(last=False)
        return 200, {"carrier_message_id": carrier_id}

    def carrier_callback(self, headers: dict, body: bytes) -> tuple[int, dict]:
        """A message or status report from the carrier: translate and hand it to the portal."""
        token = self.config.carrier_webhook_token
        if token and not hmac.compare_digest(headers.get("x-carrier-token", ""), token):
            return 401, {"error": {"code": "invalid_token", "message": "Wrong carrier token."}}
        try:
            inbound = to_portal(json.loads(body))
        except (ValueError, KeyError, TypeError) as exc:
            return 400, {"error": {"code": "bad_request", "message": str(exc)}}
        if self.batcher is not None:
            return self.batcher.submit(inbound)
        raw = json.dumps(inbound).encode()
        out = self._portal_headers(f"msg_{inbound['type']}_{inbound['carrier_message_id']}", raw)
        status, answer, error = post_json(self.config.inbound_url, raw, out, self.config.timeout)
        if status is not None and 200 <= status < 300:
            return 200, answer
        if status is not None and 400 <= status < 500:
            return _refused(status, answer)
        return 502, {"error": {"code": "portal_unavailable", "message": error or f"HTTP {status}"}}


def make_handler(adapter: Adapter):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the portal and the carrier reuse connections
        # Headers and body leave in two writes: without TCP_NODELAY, Nagle holds the body until the
        # client's delayed ACK (~40 ms a request on a kept-alive connection).
        disable_nagle_algorithm = True

        def log_message(self, fmt, *args):
            if os.environ.get("LOG_REQUESTS"):
                sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

        def _answer(self, status: int, data: dict) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self):
            if self.path == "/health":
                return self._answer(200, {"ok": True})
            self._answer(404, {"error": {"code": "not_found", "message": "No such path."}})

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            if self.path.rstrip("/") == "/messages":
                return self._answer(*adapter.send(headers, body))
            if self.path.rstrip("/") == "/carrier":
                return self._answer(*adapter.carrier_callback(headers, body))
            self._answer(404, {"error": {"code": "not_found", "message": "No such path."}})

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # socketserver's default listen backlog of 5 resets bursts of connections


def main() -> None:
    config = Config()
    server = Server((config.bind, config.port), make_handler(Adapter(config)))
    print(f"thirdlane-sms-adapter (python) listening on {config.bind}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
