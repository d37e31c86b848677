"""--post: findings delivered to a webhook on loopback that fails, refuses, redirects or never
answers; the local reports are written whatever happens to the delivery."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from loopback_server import LoopbackServer

from cloudscan.cli import cli
from cloudscan.report.post import BATCH, Delivery, PostError, check_url, payloads, post

ROOT = Path(__file__).parent.parent
FIXTURE = str(ROOT / "terraform-fixtures" / "public-pacs-export")
TOKEN = "Bearer s3cr3t-token-of-the-siem"


class Webhook(LoopbackServer):
    """Answers each POST with the next status of `answers` (the last one repeats)."""

    def __init__(self, *answers: int, headers: dict[str, str] | None = None) -> None:
        super().__init__()
        self.answers, self.headers = list(answers), headers or {}
        self.received: list[tuple[dict, str | None]] = []

    def handle(self, method, path, query, body, headers):
        self.received.append((json.loads(body), headers.get("Authorization")))
        status = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return status, self.headers, b"{}"


class Silent:
    """Accepts connections and never answers."""

    def __enter__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self):
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def __exit__(self, *exc):
        self.sock.close()
        for held in self.held:
            held.close()


def scan(*extra: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    outcome = CliRunner().invoke(cli, ["scan", "terraform", FIXTURE, *extra], env=env)
    return outcome.exit_code, outcome.output


def test_a_webhook_that_fails_twice_gets_the_findings_on_the_third_attempt(tmp_path):
    report = tmp_path / "report.json"
    with Webhook(503, 503, 200) as hook:
        code, output = scan(
            "--format",
            "json",
            "-o",
            str(report),
            "--post",
            hook.url + "/siem",
            env={"CLOUDSCAN_POST_AUTHORIZATION": TOKEN},
        )

    assert code == 1, output  # the findings fail the run; the delivery succeeded
    assert len(hook.received) == 3
    body, authorization = hook.received[-1]
    assert authorization == TOKEN and TOKEN not in output
    problems = {
        f["fingerprint"]
        for f in json.loads(report.read_text())["findings"]
        if f["status"] in ("FAIL", "UNKNOWN")
    }
    assert {f["fingerprint"] for f in body["findings"]} == problems
    assert body["scan"]["source"] == "terraform" and body["batch"] == {"index": 1, "of": 1}
    assert f"cloudscan: {len(problems)} findings posted" in output


def test_a_webhook_that_never_answers_is_given_up_on_in_bounded_time(tmp_path):
    report = tmp_path / "report.json"
    with Silent() as silent:
        started = time.monotonic()
        with pytest.raises(PostError, match="after 3 attempts"):
            post(
                SimpleNamespace(findings=[], baseline=None, source="aws", started_at="t", finished_at="t"),
                Delivery(silent.url, timeout=0.3, retries=2, backoff=0.05),
            )
        assert time.monotonic() - started < 5

        code, output = scan(
            "--format",
            "json",
            "-o",
            str(report),
            "--fail-on",
            "none",
            "--post",
            silent.url,
            "--post-timeout",
            "0.2",
        )

    assert code == 3, output  # a clean run whose findings did not arrive is not clean
    assert "findings not posted (the reports are written)" in output
    assert json.loads(report.read_text())["findings"]  # nothing lost


def test_a_refusal_and_a_redirect_are_not_retried_nor_followed():
    with Webhook(400) as refusing:
        code, output = scan("--post", refusing.url, "--fail-on", "none")
    assert code == 3 and "HTTP 400, not retried" in output and len(refusing.received) == 1

    with Webhook(302, headers={"Location": "http://127.0.0.1:9/elsewhere"}) as moving:
        code, output = scan(
            "--post", moving.url, "--fail-on", "none", env={"CLOUDSCAN_POST_AUTHORIZATION": TOKEN}
        )
    assert code == 3 and "HTTP 302, not retried" in output and len(moving.received) == 1


def test_only_new_and_resolved_findings_are_posted_with_a_baseline(tmp_path):
    first = tmp_path / "first.json"
    scan("--format", "json", "-o", str(first))
    with Webhook(200) as hook:
        code, output = scan("--baseline", str(first), "--post", hook.url)
    assert code == 0, output  # nothing new
    body, _ = hook.received[0]
    assert body["findings"] == [] and body["resolved"] == [] and body["baseline"] == str(first)


def test_large_results_go_in_batches_and_only_over_tls():
    findings = [{"status": "FAIL", "fingerprint": f"{i:032x}"} for i in range(2 * BATCH + 1)]
    result = SimpleNamespace(findings=findings, baseline=None, source="aws", started_at="t", finished_at="t")
    sent = payloads(result)
    assert [len(p["findings"]) for p in sent] == [BATCH, BATCH, 1]
    assert [p["batch"] for p in sent] == [{"index": i, "of": 3} for i in (1, 2, 3)]

    assert (
        check_url("http://siem.example.org/hook")
        == "findings are only posted over https (plain http only to this machine)"
    )
    assert (
        check_url("https://siem.example.org/hook") is None and check_url("ftp://x") == "give an http(s) URL"
    )
    code, output = scan("--post", "http://siem.example.org/hook")
    assert code == 2 and "--post: findings are only posted over https" in output
