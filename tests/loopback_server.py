"""A threaded HTTP server on a free loopback port that hands every request to `handle`: the
shared body of the local servers that speak Google's and Azure's APIs to the real SDKs."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

Answer = tuple[int, dict[str, str], bytes]


class LoopbackServer:
    """Use it as a context manager; `url` is where it answers."""

    def __init__(self) -> None:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.server = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def handle(self, method: str, path: str, query: dict[str, Any], body: bytes, headers: Any) -> Answer:
        raise NotImplementedError


class _Handler(BaseHTTPRequestHandler):
    """Reads the whole request (keep-alive needs it), asks the server, writes a sized answer."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes: without this, each keep-alive answer waits ~40 ms
    # for the client's delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: each server keeps its own record of requests."""

    def _serve(self) -> None:
        split = urlsplit(self.path)
        query = {
            k: v[0] if len(v) == 1 else v for k, v in parse_qs(split.query, keep_blank_values=True).items()
        }
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        server: LoopbackServer = self.server.server  # type: ignore[attr-defined]
        status, headers, data = server.handle(self.command, split.path, query, body, self.headers)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
