"""Things that stand in front of a server in real deployments, made for the tests: a TLS
terminator (certificates made here with `cryptography`), a reverse proxy that adds CORS
headers, and misbehaving servers (garbage, silence, slowness, redirects, endless bodies)."""

from __future__ import annotations

import contextlib
import datetime
import http.client
import http.server
import ipaddress
import socket
import ssl
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Certificates:
    ca: Path
    cert: Path
    key: Path


def make_certificates(directory: Path) -> Certificates:
    """A private CA and a server certificate it signs for 127.0.0.1 and localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cloudscan test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    out = Certificates(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    out.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    out.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    out.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return out


class Background:
    """A listening socket on 127.0.0.1 whose connections `serve` handles, each in a thread."""

    def __init__(self, serve: Any) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.serve = serve
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            self.serve(conn, self.stopped)
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self) -> None:
        self.stopped.set()
        self.sock.close()


def tls_front(backend_port: int, certs: Certificates, minimum: ssl.TLSVersion) -> Background:
    """Terminates TLS (from `minimum` up) and pipes the bytes to 127.0.0.1:backend_port."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs.cert, certs.key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = minimum
    if minimum < ssl.TLSVersion.TLSv1_2:
        ctx.set_ciphers("ALL:@SECLEVEL=0")  # OpenSSL 3 refuses TLS 1.0/1.1 otherwise

    def serve(conn: socket.socket, stopped: threading.Event) -> None:
        conn.settimeout(10)
        try:
            tls = ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a handshake probe that offered only what we refuse
        with tls, socket.create_connection(("127.0.0.1", backend_port), timeout=10) as backend:

            def pump(src: socket.socket, dst: socket.socket) -> None:
                try:
                    while data := src.recv(65536):
                        dst.sendall(data)
                except OSError:
                    pass
                finally:
                    with contextlib.suppress(OSError):
                        dst.shutdown(socket.SHUT_WR)

            back = threading.Thread(target=pump, args=(backend, tls), daemon=True)
            back.start()
            pump(tls, backend)
            back.join(10)

    return Background(serve)


def cors_front(backend: str, mode: str) -> http.server.ThreadingHTTPServer:
    """A reverse proxy to `backend` (http://127.0.0.1:port) adding CORS headers as careless
    proxies in front of web viewers do: mode "any" (*) or "reflect" (the Origin, with credentials)."""
    target = backend.removeprefix("http://")

    class Proxy(http.server.BaseHTTPRequestHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            conn = http.client.HTTPConnection(target, timeout=10)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for name, value in resp.getheaders():
                if name.lower() not in ("connection", "keep-alive", "content-length", "transfer-encoding"):
                    self.send_header(name, value)
            if mode == "any":
                self.send_header("Access-Control-Allow-Origin", "*")
            elif self.headers.get("Origin"):
                self.send_header("Access-Control-Allow-Origin", self.headers["Origin"])
                self.send_header("Access-Control-Allow-Credentials", "true")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_OPTIONS = _forward

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def odd_server(behaviour: str) -> Background:
    """A server that misbehaves: garbage, silent, slow, trickle, endless, redirect-elsewhere,
    redirect-https, redirect-slash, html (a web site, not DICOMweb), reset."""

    def serve(conn: socket.socket, stopped: threading.Event) -> None:
        conn.settimeout(30)
        if behaviour == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            return
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(4096)
            if not chunk:
                return
            request += chunk
        if behaviour == "garbage":
            conn.sendall(b"\x16\x03\x01 this is not HTTP \x00\xff\r\n\r\n")
        elif behaviour == "silent":
            stopped.wait(30)
        elif behaviour == "slow":
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/dicom+json\r\nContent-Length: 100\r\n\r\n"
            )
            for _ in range(30):
                if stopped.is_set():
                    return
                conn.sendall(b" ")
                time.sleep(1)
        elif behaviour == "endless":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/dicom+json\r\n\r\n[")
            chunk = b'{"00100010": {"vr": "PN"}},' * 1000
            sent = 0
            while not stopped.is_set() and sent < 200_000_000:
                conn.sendall(chunk)
                sent += len(chunk)
        elif behaviour == "trickle":  # headers one byte at a time, never finishing
            for byte in b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 200:
                if stopped.is_set():
                    return
                conn.sendall(bytes([byte]))
                time.sleep(0.2)
        elif behaviour == "redirect-slash":
            first = request.split(b"\r\n", 1)[0].split(b" ")[1]
            path, _, query = first.partition(b"?")
            conn.sendall(
                b"HTTP/1.1 301 Moved Permanently\r\nLocation: "
                + path
                + b"/?"
                + query
                + b"\r\nContent-Length: 0\r\n\r\n"
            )
        elif behaviour == "redirect-elsewhere":
            conn.sendall(
                b"HTTP/1.1 302 Found\r\nLocation: https://sso.example.org/login\r\nContent-Length: 0\r\n\r\n"
            )
        elif behaviour == "redirect-https":
            first = request.split(b"\r\n", 1)[0].split(b" ")[1]
            conn.sendall(
                b"HTTP/1.1 301 Moved Permanently\r\nLocation: https://127.0.0.1"
                + first
                + b"\r\nContent-Length: 0\r\n\r\n"
            )
        elif behaviour == "html":
            page = b"<html><head><title>Welcome to nginx!</title></head><body>hello</body></html>"
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
                + str(len(page)).encode()
                + b"\r\n\r\n"
                + page
            )
        else:
            raise ValueError(behaviour)

    return Background(serve)
