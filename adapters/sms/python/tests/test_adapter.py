"""Unit tests of the Python adapter: python3 -m unittest discover -s tests (from this directory)."""
import base64
import json
import os
import sys
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import thirdlane_sms_adapter as a  # noqa: E402

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


class FakeCarrier:
    """Answers /messages from a list and records what it got."""

    def __init__(self, answers):
        self.answers, self.got = answers, []
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append((self.path, dict(self.headers), json.loads(body)))
                status, data = outer.answers.pop(0) if len(outer.answers) > 1 else outer.answers[0]
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def signed(body: bytes, secret=SECRET, msg_id="sms_1", stamp=None):
    stamp = int(time.time()) if stamp is None else stamp
    return {"webhook-id": msg_id, "webhook-timestamp": str(stamp),
            "webhook-signature": a.sign(secret, msg_id, stamp, body)}


MESSAGE = {"type": "sms.outbound", "message_id": "sms_1", "tenant": "acme", "from": "+14155550199",
           "to": "+14155550100", "text": "Hi", "encoding": "gsm7", "segments": 1}


class SignatureTests(unittest.TestCase):
    def test_a_signature_made_with_the_secret_verifies(self):
        body = b'{"a":1}'
        self.assertTrue(a.verify([SECRET], signed(body), body))

    def test_a_known_vector_of_the_standard_webhooks_spec_verifies(self):
        secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        body = b'{"test": 2432232314}'
        headers = {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
                   "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}
        self.assertTrue(a.verify([secret], headers, body, now=1614265330))

    def test_a_changed_body_a_wrong_secret_or_a_stale_timestamp_do_not_verify(self):
        body = b'{"a":1}'
        self.assertFalse(a.verify([SECRET], signed(body), b'{"a":2}'))
        self.assertFalse(a.verify(["whsec_" + base64.b64encode(b"x" * 32).decode()], signed(body), body))
        self.assertFalse(a.verify([SECRET], signed(body, stamp=int(time.time()) - 3600), body))
        self.assertFalse(a.verify([SECRET], {}, body))

    def test_any_of_several_signatures_and_secrets_is_enough_during_a_rotation(self):
        body = b"{}"
        old = "whsec_" + base64.b64encode(b"o" * 32).decode()
        headers = signed(body, secret=old)
        headers["webhook-signature"] = "v1,bm90IGl0 " + headers["webhook-signature"]
        self.assertTrue(a.verify([SECRET, old], headers, body))


class TranslationTests(unittest.TestCase):
    def test_outbound_messages_become_carrier_send_requests(self):
        self.assertEqual(a.to_carrier(MESSAGE), {"from": "+14155550199", "to": "+14155550100", "body": "Hi",
                                                 "reference": "sms_1"})

    def test_carrier_callbacks_become_portal_messages_and_receipts(self):
        self.assertEqual(a.to_portal({"event": "message", "id": 7, "from": "+1", "to": "+2", "body": "yo"}),
                         {"type": "message", "carrier_message_id": "7", "from": "+1", "to": "+2", "text": "yo"})
        self.assertEqual(a.to_portal({"event": "status", "id": "c9", "reference": "sms_1", "status": "failed",
                                      "error_code": "E30", "error_message": "Absent"}),
                         {"type": "receipt", "carrier_message_id": "c9", "status": "failed", "message_id": "sms_1",
                          "error_code": "E30", "reason": "Absent"})
        with self.assertRaises(ValueError):
            a.to_portal({"event": "bogus"})


class SendTests(unittest.TestCase):
    def adapter(self, carrier):
        return a.Adapter(a.Config({"PORTAL_SECRET": SECRET, "PORTAL_INBOUND_URL": "http://127.0.0.1:9/in",
                                   "PROVIDER_KEY": "k", "CARRIER_URL": carrier.url, "CARRIER_TOKEN": "t0k"}))

    def test_send_forwards_to_the_carrier_once_per_message(self):
        carrier = FakeCarrier([(201, {"id": "c-1", "status": "accepted"})])
        try:
            adapter, body = self.adapter(carrier), json.dumps(MESSAGE).encode()
            self.assertEqual(adapter.send(signed(body), body), (200, {"carrier_message_id": "c-1"}))
            self.assertEqual(adapter.send(signed(body), body), (200, {"carrier_message_id": "c-1"}))
            self.assertEqual(len(carrier.got), 1)
            self.assertEqual(carrier.got[0][1]["Authorization"], "Bearer t0k")
        finally:
            carrier.close()

    def test_bad_signatures_carrier_errors_and_outages_are_answered_distinctly(self):
        carrier = FakeCarrier([(400, {"error": {"code": "21211", "message": "Invalid 'To' number"}}),
                               (503, {"error": {"message": "maintenance"}})])
        try:
            adapter, body = self.adapter(carrier), json.dumps(MESSAGE).encode()
            self.assertEqual(adapter.send(signed(body, secret="whsec_" + "QUJD" * 8), body)[0], 401)
            status, answer = adapter.send(signed(body), body)
            self.assertEqual((status, answer["error"]["message"]), (422, "Invalid 'To' number"))
            status, answer = adapter.send(signed(body), body)
            self.assertEqual((status, answer["error"]["code"]), (502, "carrier_unavailable"))
        finally:
            carrier.close()


class ConfigTests(unittest.TestCase):
    def test_missing_settings_stop_the_adapter_with_their_names(self):
        with self.assertRaises(SystemExit) as ctx:
            a.Config({"PORTAL_SECRET": SECRET})
        self.assertIn("CARRIER_URL", str(ctx.exception))


if __name__ == "__main__":
    unittest.main()


class InboundBatchTests(unittest.TestCase):
    def test_concurrent_callbacks_reach_the_portal_in_one_batch_and_each_gets_its_own_answer(self):
        got = []

        class Portal(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                got.append((self.path, dict(self.headers), body))
                results = [{"status": "error", "error": {"code": "sms_number_unknown", "status": 404}}
                           if item["to"] == "+19999999999" else {"status": "stored", "id": i}
                           for i, item in enumerate(body["items"])]
                raw = json.dumps({"results": results}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        portal = ThreadingHTTPServer(("127.0.0.1", 0), Portal)
        threading.Thread(target=portal.serve_forever, daemon=True).start()
        try:
            adapter = a.Adapter(a.Config({
                "PORTAL_SECRET": SECRET, "PROVIDER_KEY": "key-1", "CARRIER_URL": "http://127.0.0.1:9",
                "PORTAL_INBOUND_URL": f"http://127.0.0.1:{portal.server_address[1]}/api/sms/inbound/p",
                "INBOUND_BATCH": "10", "INBOUND_BATCH_WINDOW_MS": "200"}))
            answers = [None] * 3

            def callback(i, to):
                body = json.dumps({"event": "message", "id": f"c{i}", "from": "+14155550100", "to": to,
                                   "body": "hi"}).encode()
                answers[i] = adapter.carrier_callback({}, body)

            threads = [threading.Thread(target=callback, args=(i, to))
                       for i, to in enumerate(["+14155550199", "+19999999999", "+14155550199"])]
            [t.start() for t in threads]
            [t.join(10) for t in threads]
            self.assertEqual(len(got), 1)
            path, headers, body = got[0]
            self.assertEqual((path, len(body["items"])), ("/api/sms/inbound/p/batch", 3))
            self.assertEqual(headers["X-SMS-Provider-Key"], "key-1")
            raw = json.dumps(body).encode()
            self.assertTrue(a.verify([SECRET], {k.lower(): v for k, v in headers.items()}, raw))
            self.assertEqual(sorted(status for status, _ in answers), [200, 200, 422])
            refused = next(answer for status, answer in answers if status == 422)
            self.assertEqual(refused["error"]["portal"]["code"], "sms_number_unknown")
        finally:
            portal.shutdown()
