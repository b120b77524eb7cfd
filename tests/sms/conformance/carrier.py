"""A fake carrier speaking the generic carrier HTTP API the reference adapters translate to
(docs/sms.md, "The generic carrier API"):

    POST /messages  {from, to, body, reference}, Authorization: Bearer <token>
                    -> 201 {id, status: accepted} | 4xx {error: {code, message}} | 503 while "down"
    then, like a real carrier, a status report to the adapter's /carrier a moment later:
                    {event: status, id, reference, status: delivered|failed, error_code, error_message}
    and, on demand, an inbound message: {event: message, id, from, to, body}

Numbers with special meaning: INVALID_NUMBER is refused at send time, ABSENT_NUMBER is accepted
and then reported failed.
"""
from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

INVALID_NUMBER = "+15005550001"
ABSENT_NUMBER = "+15005550002"
TOKEN = "carrier-token-1"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


class FakeCarrier:
    def __init__(self, *, report_delay: float = 0.1, reports: bool = True):
        self.down = False
        self.send_reports = reports
        self.callback_url = ""  # the adapter's /carrier, for status reports
        self.report_delay = report_delay
        self.sent: list[dict] = []  # accepted send requests, with their auth header
        self.reports: list[tuple[int | None, dict]] = []  # (status the adapter answered, report)
        self.refused = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self):
        carrier = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes (see the Python adapter)

            def log_message(self, *args):
                pass

            def reply(self, status: int, data: dict):
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if self.path != "/messages":
                    return self.reply(404, {"error": {"code": "not_found", "message": "no such path"}})
                if carrier.down:
                    with carrier._lock:
                        carrier.refused += 1
                    return self.reply(503, {"error": {"code": "unavailable", "message": "maintenance window"}})
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self.reply(401, {"error": {"code": "unauthorized", "message": "bad token"}})
                if body.get("to") == INVALID_NUMBER:
                    return self.reply(400, {"error": {"code": "21211", "message": "Invalid 'To' number"}})
                carrier_id = f"car-{next(carrier._ids)}"
                with carrier._lock:
                    carrier.sent.append({**body, "id": carrier_id})
                self.reply(201, {"id": carrier_id, "status": "accepted"})
                if body.get("to") == ABSENT_NUMBER:
                    report = {"event": "status", "id": carrier_id, "reference": body.get("reference"),
                              "status": "failed", "error_code": "E30", "error_message": "Absent subscriber"}
                else:
                    report = {"event": "status", "id": carrier_id, "reference": body.get("reference"),
                              "status": "delivered"}
                if carrier.send_reports:
                    threading.Thread(target=carrier._report, args=(report,), daemon=True).start()

        return Handler

    def _report(self, report: dict) -> None:
        time.sleep(self.report_delay)
        status, _ = self.post_to_adapter(report)
        with self._lock:
            self.reports.append((status, report))

    def post_to_adapter(self, event: dict) -> tuple[int | None, dict]:
        request = urllib.request.Request(self.callback_url, json.dumps(event).encode(),
                                         {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")
        except OSError:
            return None, {}

    def inbound(self, *, carrier_id: str, sender: str, to: str, text: str) -> tuple[int | None, dict]:
        return self.post_to_adapter({"event": "message", "id": carrier_id, "from": sender, "to": to, "body": text})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
