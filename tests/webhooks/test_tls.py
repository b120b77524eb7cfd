"""HTTPS targets: we connect to the address we checked, yet TLS is verified against the name
(SNI and certificate), so pinning the address does not weaken TLS."""
import datetime
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from apps.webhooks import targets


def make_cert(tmp_path, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


@pytest.fixture
def tls_server(tmp_path):
    cert, key = make_cert(tmp_path, "hooks.example.test")
    seen = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            seen["host"] = self.headers["Host"]
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: seen.__setitem__("sni", name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], cert, seen, tmp_path
    server.shutdown()


@pytest.fixture
def resolve_to_loopback(monkeypatch):
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host.endswith(".example.test"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def test_https_uses_sni_and_verifies_the_name_on_the_pinned_address(tls_server, resolve_to_loopback, settings):
    port, cert, seen, _ = tls_server
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_CA_BUNDLE = cert
    result = targets.post(f"https://hooks.example.test:{port}/in", b"{}", {"Content-Type": "application/json"})
    assert result.succeeded and result.status_code == 204 and result.address == "127.0.0.1", result
    assert seen == {"sni": "hooks.example.test", "host": f"hooks.example.test:{port}"}


def test_https_refuses_a_certificate_for_another_name(tls_server, resolve_to_loopback, settings):
    port, cert, seen, tmp_path = tls_server
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_CA_BUNDLE = cert
    result = targets.post(f"https://other.example.test:{port}/in", b"{}", {})
    assert not result.succeeded and result.status_code is None and "TLS" in result.error, result
    settings.WEBHOOK_CA_BUNDLE = make_cert(tmp_path, "someone.else")[0]  # untrusted issuer
    result = targets.post(f"https://hooks.example.test:{port}/in", b"{}", {})
    assert not result.succeeded and "TLS" in result.error
