"""--post URL: the problems of a scan sent as JSON to a webhook (a SIEM collector, a Jira or
ServiceNow endpoint), after the local reports are written, so a failed delivery loses nothing.

What is sent: the FAIL and UNKNOWN findings (only the new ones when a baseline is given, and
then the resolved ones too), with the scan's context, in batches of at most BATCH findings, one
POST each. The Authorization header comes from an environment variable and is never printed.
A connection error, a timeout, a 429 or a 5xx is retried with exponential back-off (a
Retry-After of at most MAX_WAIT seconds is honoured); any other answer is final."""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cloudscan import __version__
from cloudscan.report.json_report import REPORT_VERSION

BATCH = 500
MAX_WAIT = 30.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class PostError(Exception):
    """The findings did not reach the webhook; the message says where it stopped (no secret)."""


@dataclass(frozen=True)
class Delivery:
    url: str
    authorization: str | None = None  # the header's value, from the environment
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 1.0  # seconds before the first retry; doubled for each next one


def check_url(url: str) -> str | None:
    """Why `url` cannot be posted to, or None. Findings describe where patient data is open:
    they go over TLS, except to this machine (a local collector, a test)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "give an http(s) URL"
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        return "findings are only posted over https (plain http only to this machine)"
    return None


def payloads(result: Any) -> list[dict[str, Any]]:
    """The JSON documents to send, in order: every batch carries the scan's context."""
    problems = [f for f in result.findings if f["status"] in ("FAIL", "UNKNOWN")]
    if result.baseline is not None:
        problems = [f for f in problems if f.get("change") == "new"]
    resolved = result.baseline["resolved"] if result.baseline is not None else []
    context = {
        "report_version": REPORT_VERSION,
        "tool": {"name": "cloudscan", "version": __version__},
        "scan": {"source": result.source, "started_at": result.started_at, "finished_at": result.finished_at},
        "baseline": result.baseline["file"] if result.baseline is not None else None,
    }
    batches = max(1, -(-len(problems) // BATCH), -(-len(resolved) // BATCH))
    return [
        {
            **context,
            "batch": {"index": i + 1, "of": batches},
            "findings": problems[i * BATCH : (i + 1) * BATCH],
            "resolved": resolved[i * BATCH : (i + 1) * BATCH],
        }
        for i in range(batches)
    ]


def post(result: Any, delivery: Delivery) -> int:
    """Send every batch; the number of findings sent. PostError at the first batch that could
    not be delivered after its retries."""
    sent = 0
    for payload in payloads(result):
        _send(json.dumps(payload, default=str).encode(), delivery, payload["batch"])
        sent += len(payload["findings"])
    return sent


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would carry the Authorization header, or drop the body, elsewhere: refused."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


OPENER = urllib.request.build_opener(_NoRedirect)


def _send(body: bytes, delivery: Delivery, batch: dict[str, int]) -> None:
    headers = {"Content-Type": "application/json", "User-Agent": f"cloudscan/{__version__}"}
    if delivery.authorization:
        headers["Authorization"] = delivery.authorization
    where = f"batch {batch['index']} of {batch['of']} to {urlsplit(delivery.url).netloc}"
    for attempt in range(delivery.retries + 1):
        request = urllib.request.Request(delivery.url, data=body, headers=headers, method="POST")
        wait = delivery.backoff * 2**attempt * (0.5 + random.random() / 2)  # jitter: not in step with others
        try:
            with OPENER.open(request, timeout=delivery.timeout) as answer:
                answer.read(64 * 1024)
                return
        except urllib.error.HTTPError as exc:
            said = f"HTTP {exc.code}"
            if exc.code != 429 and exc.code < 500:  # a redirect too: see _NoRedirect
                raise PostError(f"{where}: {said}, not retried") from None
            retry_after = exc.headers.get("Retry-After", "")
            if retry_after.isdigit():
                wait = min(float(retry_after), MAX_WAIT)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            said = type(reason).__name__ if not isinstance(reason, str) else reason
        if attempt == delivery.retries:
            raise PostError(f"{where}: {said} after {delivery.retries + 1} attempts")
        time.sleep(wait)
