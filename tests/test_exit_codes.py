"""The exit code of every combination of findings, scan errors, baselines, mutes, --fail-on,
--strict and --on-unreadable, through the CLI's own settle() and exit_code(); and the formats
written together into --output-dir, and progress shown only on a terminal."""

from __future__ import annotations

import itertools
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cloudscan.cli import cli
from cloudscan.cli.output import exit_code, settle
from cloudscan.engine import fingerprint
from cloudscan.model import scan_error
from cloudscan.mutes import MuteFile
from cloudscan.policyset import load_policies
from cloudscan.scan import scan_terraform

ROOT = Path(__file__).parent.parent
FIXTURE = ROOT / "terraform-fixtures" / "public-pacs-export"
FINDINGS = ("none", "low", "high", "unknown")
ERRORS = ("none", "scan", "unread")
BASELINES = (None, "same", "empty")


@pytest.fixture(scope="module")
def resources():
    """Resources that were read: a scan that read nothing exits 3 whatever else holds."""
    return scan_terraform([FIXTURE], load_policies([])).resources


def finding(kind: str, resource: dict) -> dict:
    status, severity = {"none": ("PASS", "high"), "low": ("FAIL", "low"), "high": ("FAIL", "high")}.get(
        kind, ("UNKNOWN", "high")
    )
    return {
        "fingerprint": fingerprint("p", "aws", resource["id"]),
        "policy_id": "p",
        "status": status,
        "severity": severity,
        "resource": {"id": resource["id"], "name": resource["name"], "source": None},
        "suppression": None,
    }


def expected(
    kind: str, error: str, baseline: str | None, muted: bool, fail_on: str, strict: bool, warn: bool
):
    """The rules the README states, written out on their own."""
    problem = kind in ("low", "high", "unknown") and not muted
    new = problem and baseline != "same"
    if fail_on == "high" and kind == "high" and new:
        return 1  # a FAIL at or above --fail-on; with a baseline, a new one only
    if error == "unread" and not warn:
        return 3  # an input not read fails closed
    if strict and (error != "none" or (kind == "unknown" and problem)):
        return 3  # --strict: anything incomplete
    return 0


COMBINATIONS = list(
    itertools.product(
        FINDINGS, ERRORS, BASELINES, (False, True), ("high", "none"), (False, True), (False, True)
    )
)


def test_every_combination_exits_as_the_readme_says(resources, tmp_path):
    from cloudscan.scan import ScanResult

    wrong = []
    for kind, error, baseline, muted, fail_on, strict, warn in COMBINATIONS:
        result = ScanResult(source="terraform", policies=[], resources=resources)
        result.findings = [finding(kind, resources[0])]
        if error == "scan":
            result.errors = [scan_error("s3.ListBuckets", "AccessDenied", "denied")]
        elif error == "unread":
            result.errors = [scan_error("terraform:parse", "FileError", "cannot read", "main.tf")]
        options: dict = {"on_unreadable": "warn" if warn else "fail"}
        if muted:
            mute = {"policy": "*", "resource": "*", "reason": "accepted by the test", "index": 0}
            options["mutes"] = MuteFile(tmp_path / "m.json", entries=[mute])
        if baseline is not None:
            before = [finding(kind, resources[0])] if baseline == "same" else []
            options["baseline_report"], options["baseline"] = (
                {"findings": before, "scan": {}},
                tmp_path / "b.json",
            )
        settle(result, options)
        got = exit_code(result, fail_on, strict)
        want = expected(kind, error, baseline, muted, fail_on, strict, warn)
        if got != want:
            wrong.append((kind, error, baseline, muted, fail_on, strict, warn, got, want))
    assert len(COMBINATIONS) == 576
    assert not wrong, wrong[:10]


def test_formats_written_together_into_an_output_directory(tmp_path):
    out = tmp_path / "reports"
    args = ["scan", "terraform", str(FIXTURE), "--format", "json", "--format", "sarif", "--format", "text"]

    outcome = CliRunner().invoke(cli, [*args, "--output-dir", str(out)])

    assert outcome.exit_code == 1, outcome.output
    assert sorted(p.name for p in out.iterdir()) == ["cloudscan.json", "cloudscan.sarif", "cloudscan.txt"]
    report = json.loads((out / "cloudscan.json").read_text())
    sarif = json.loads((out / "cloudscan.sarif").read_text())
    failed = {f["fingerprint"] for f in report["findings"] if f["status"] == "FAIL"}
    assert failed == {
        r["partialFingerprints"]["cloudscan/v1"] for r in sarif["runs"][0]["results"] if r["kind"] == "fail"
    }
    assert "storage-no-public-read" in (out / "cloudscan.txt").read_text()
    from cloudscan.report import EXTENSIONS, Format

    assert set(EXTENSIONS) == set(Format), "every format has its file name in --output-dir"
    both = CliRunner().invoke(cli, [*args])
    assert both.exit_code == 2 and "several --format need --output-dir" in both.output
    clash = CliRunner().invoke(cli, [*args[:5], "-o", str(tmp_path / "r"), "--output-dir", str(out)])
    assert clash.exit_code == 2 and "not both" in clash.output


def run_with_stderr_on_a_terminal(*args: str) -> str:
    """stderr on a pseudo-terminal, as in a person's shell; what reached the terminal."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "cloudscan", *args],
        stdout=subprocess.DEVNULL,
        stderr=follower,
        cwd=ROOT,
        env={**os.environ, "TERM": "xterm"},
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    process.wait(timeout=120)
    os.close(leader)
    return seen.decode(errors="replace")


def test_progress_is_shown_on_a_terminal_only_and_not_with_quiet():
    scan = (
        "scan",
        "terraform",
        "terraform-fixtures",
        "--format",
        "json",
        "-o",
        os.devnull,
        "--fail-on",
        "none",
    )

    on_terminal = run_with_stderr_on_a_terminal(*scan)
    quiet = run_with_stderr_on_a_terminal(*scan, "--quiet")
    piped = subprocess.run(
        [sys.executable, "-m", "cloudscan", *scan], cwd=ROOT, capture_output=True, text=True
    )

    assert "cloudscan: scanning: " in on_terminal and " resources, " in on_terminal
    # The AWS SDK tells of each call it makes: the demo's account, in moto.
    demo = run_with_stderr_on_a_terminal("demo", "--format", "json", "-o", os.devnull)
    assert re.search(r"scanning: \d+ resources, [1-9]\d* calls, ", demo), demo[-500:]
    assert "scanning: " not in quiet and "policies:" not in quiet
    assert "scanning: " not in piped.stderr and "policies:" in piped.stderr
