"""moto's server in a thread, behind a front that answers 503 SlowDown to K S3 requests (as S3
does to a caller over its request rate) and notes when each S3 request arrived, so a test can
count requests per second on the server's side.

    with ThrottledMoto() as moto:
        ...fill it through moto.url...
        moto.throttle(10, every=2)  # refuse every second S3 request until 10 are refused
        ...scan with AWS_ENDPOINT_URL=moto.url...
        moto.s3_arrivals  # monotonic times of the S3 requests, throttled ones included
"""

from __future__ import annotations

import re
import threading
import time
from types import TracebackType
from typing import Any, Self

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

# The service a SigV4 request was signed for: Credential=KEY/DATE/REGION/SERVICE/aws4_request.
SIGNED_FOR = re.compile(r"Credential=[^/]+/\d+/[^/]+/([^/]+)/aws4_request")
SLOW_DOWN = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"


class ThrottledMoto:
    def __init__(self) -> None:
        self.app = DomainDispatcherApplication(create_backend_app)
        self.server = make_server("127.0.0.1", 0, self._front, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.s3_arrivals: list[float] = []
        self.throttled = 0  # S3 requests still to refuse
        self.every = 1  # refuse one S3 request in `every` while some are still to refuse
        self.refused = 0  # S3 requests refused so far
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def throttle(self, times: int, every: int = 1) -> None:
        """Refuse `times` S3 requests from now on, one in every `every` (1: the next `times`), and
        count arrivals from now on."""
        with self._lock:
            self.throttled, self.every, self.refused, self.s3_arrivals = times, every, 0, []

    def _front(self, environ: dict[str, Any], start_response: Any) -> Any:
        signed = SIGNED_FOR.search(environ.get("HTTP_AUTHORIZATION", ""))
        # S3 Control is signed for s3 too; it is a service of its own for a rate limit.
        s3 = signed is not None and signed[1] == "s3" and not environ["PATH_INFO"].startswith("/v20180820/")
        if s3:
            with self._lock:
                self.s3_arrivals.append(time.monotonic())
                refuse = self.throttled > 0 and len(self.s3_arrivals) % self.every == 0
                if refuse:
                    self.throttled -= 1
                    self.refused += 1
            if refuse:
                environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                start_response(
                    "503 Slow Down",
                    [("Content-Type", "application/xml"), ("Content-Length", str(len(SLOW_DOWN)))],
                )
                return [SLOW_DOWN]
        return self.app(environ, start_response)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


def most_in_any_window(times: list[float], seconds: float) -> int:
    """The most arrivals that fall in any window of `seconds`."""
    times = sorted(times)
    most, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= seconds:
            start += 1
        most = max(most, end - start + 1)
    return most
