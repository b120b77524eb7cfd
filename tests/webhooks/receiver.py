"""A real HTTP receiver on 127.0.0.1 for webhook tests and the benchmark.

Records every request (headers, body, arrival time). ``responses`` is a queue of (status,
headers, delay_seconds) answers; when it is empty the receiver answers ``default``.
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Received:
    def __init__(self, path: str, headers: dict, body: bytes, at: float):
        self.path, self.headers, self.body, self.at = path, headers, body, at

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    def __init__(self, default: int = 200):
        self.requests: list[Received] = []
        self.responses: deque = deque()
        self.default = default
        self.delay = 0.0
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One write per response and no Nagle: otherwise delayed ACKs add ~40 ms per request.
            wbufsize = -1
            disable_nagle_algorithm = True

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request: not a delivery
                    self.close_connection = True
                    return
                with receiver.lock:
                    receiver.requests.append(Received(self.path, dict(self.headers.items()), body, time.time()))
                    answer = receiver.responses.popleft() if receiver.responses else (receiver.default, {}, 0.0)
                    receiver.arrived.notify_all()
                status, headers, delay = answer
                delay = delay or receiver.delay
                if delay:
                    time.sleep(delay)
                payload = b"ok" if status < 400 else b"nope"
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # a killed client: not our news
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def url_for(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    def by_path(self) -> dict[str, list[Received]]:
        out: dict[str, list[Received]] = {}
        for r in list(self.requests):
            out.setdefault(r.path.lstrip("/"), []).append(r)
        return out

    def start(self) -> "Receiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = time.time() + timeout
        with self.arrived:
            while len(self.requests) < count:
                left = deadline - time.time()
                if left <= 0:
                    break
                self.arrived.wait(left)
            return list(self.requests)

    def answer(self, *answers) -> None:
        """Queue answers: ints (status) or (status, headers, delay) tuples."""
        with self.lock:
            for a in answers:
                self.responses.append((a, {}, 0.0) if isinstance(a, int) else a)
