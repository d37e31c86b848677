"""JSON Lines for queues: one finding a line, each line enough on its own.

Every line is one JSON object (ASCII, no raw newline inside: a hostile string cannot split a
line), ending in "\\n":

    {"report_version": "1.0",           the version of cloudscan's JSON report (json_report.py)
     "fingerprint": ..., "policy_id": ..., "status": ..., "severity": ..., "category": ...,
     "title": ..., "resource": {...}, "evidence": [...], "remediation": {...},
     "compliance": {...}, "references": [...], "suppression": ...,
                                        a finding exactly as in the JSON report's `findings`
     "change": "new" | "unchanged" | "resolved" | null,
                                        against the baseline; null without one
     "scan": {"tool": {"name": "cloudscan", "version": ...}, "source": "aws" | "terraform" | ...,
              "started_at": ..., "finished_at": ..., "baseline": FILE (only with a baseline)}}

A consumer needs no other line: a queue can shard, drop or reorder lines. Every finding is a
line, PASS and NOT_APPLICABLE included (a consumer that files tickets keeps FAIL and UNKNOWN and
can close tickets on PASS). With a baseline, the findings of the previous report that no longer
fail follow as lines with `"change": "resolved"`, carrying the status they had then. Scan
errors are not lines: they are not findings (the JSON report lists them).
"""

from __future__ import annotations

import io
import json
from typing import Any, TextIO

from cloudscan import __version__
from cloudscan.report.changes import baseline, change, resolved
from cloudscan.report.json_report import REPORT_VERSION
from cloudscan.scan import ScanResult


def render(result: ScanResult) -> str:
    out = io.StringIO()
    write(result, out)
    return out.getvalue()


def write(result: ScanResult, stream: TextIO) -> None:
    encode = json.JSONEncoder(default=str, separators=(",", ":")).encode
    scan = _scan(result)
    for finding in [*result.findings, *resolved(result)]:
        stream.write(encode(_line(finding, scan)) + "\n")


def _scan(result: ScanResult) -> dict[str, Any]:
    scan: dict[str, Any] = {
        "tool": {"name": "cloudscan", "version": __version__},
        "source": result.source,
        "started_at": result.started_at,
        "finished_at": result.finished_at or result.started_at,
    }
    compared = baseline(result)
    if compared is not None:
        scan["baseline"] = compared.get("file")
    return scan


def _line(finding: dict[str, Any], scan: dict[str, Any]) -> dict[str, Any]:
    return {"report_version": REPORT_VERSION, **finding, "change": change(finding), "scan": scan}
