"""One HTTP exchange with a bounded body, a deadline, and no redirects followed.

The standard library's client is enough: a probe needs the status, a few headers and at most
a few kilobytes of body, and must never follow a server somewhere else.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MAX_BODY = 64 * 1024  # a PHI-free probe answer is tiny; more is read no further
USER_AGENT = "cloudscan (read-only DICOMweb exposure scan)"


class ProbeError(Exception):
    """The exchange did not produce an HTTP answer: `code` says why (Timeout, ConnectionRefused...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    truncated: bool = False

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def media_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()


def insecure_context() -> ssl.SSLContext:
    """A probe must see what a server answers even when its certificate is bad; certificate
    validity is checked separately (tls.py)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def fetch(
    url: str,
    method: str = "GET",
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 5.0,
    max_body: int = MAX_BODY,
) -> Answer:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProbeError("BadUrl", f"not an http(s) URL: {url}")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=insecure_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    # The socket timeout bounds each wait; this watchdog bounds the whole exchange, so a server
    # that trickles one byte at a time cannot hold a probe past `timeout`.
    expired = threading.Event()
    watchdog = threading.Timer(timeout, _cut, (conn, expired))
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in {"User-Agent": USER_AGENT, "Connection": "close", **(headers or {})}.items():
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        answer = Answer(resp.status, _headers(resp.getheaders()))
        chunks, size = [], 0
        while size < max_body:
            chunk = resp.read1(min(16384, max_body - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if expired.is_set():
            raise TimeoutError
        answer.body = b"".join(chunks)
        answer.truncated = size >= max_body
        return answer
    except TimeoutError:
        raise ProbeError("Timeout", f"no complete answer within {timeout:g}s") from None
    except ConnectionRefusedError:
        raise ProbeError("ConnectionRefused", "connection refused") from None
    except ssl.SSLError as exc:
        raise ProbeError("TLSError", f"TLS handshake failed: {exc.reason or type(exc).__name__}") from None
    except UnicodeError:
        raise ProbeError("BadUrl", "the host name is not valid") from None
    except socket.gaierror as exc:
        raise ProbeError("NameResolution", f"cannot resolve {parts.hostname}: {exc.strerror}") from None
    except (http.client.HTTPException, OSError) as exc:
        if expired.is_set():
            raise ProbeError("Timeout", f"no complete answer within {timeout:g}s") from None
        # Garbage instead of HTTP, a reset connection... The server's bytes are not repeated:
        # they could be anything, patient data included.
        raise ProbeError(type(exc).__name__, f"not a valid HTTP answer ({type(exc).__name__})") from None
    finally:
        watchdog.cancel()
        conn.close()


def _cut(conn: http.client.HTTPConnection, expired: threading.Event) -> None:
    expired.set()
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _headers(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Lower-case names; repeated headers (two WWW-Authenticate challenges) joined as HTTP allows."""
    out: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out
