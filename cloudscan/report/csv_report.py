"""CSV for spreadsheets: a header, then one row per finding (RFC 4180, UTF-8, CRLF).

Every finding is a row, PASS included, so that a sheet can be filtered and counted; with a
baseline, the previous report's findings that no longer fail follow with `change` resolved and
the status they had then. `evidence` is the first evidence message, `hipaa` the HIPAA controls
joined by spaces, `line` the first line of the resource in its file.

A spreadsheet runs a cell that starts with =, +, - or @ as a formula (=HYPERLINK can send the
sheet's data away, =cmd|... ran commands in old Excel), and some start one after a tab or a
carriage return. Resource names, Terraform addresses and evidence come from input, so every
cell is escaped like any shown input (no control character is left, see escape.py) and a cell
that would still start with one of those characters gets a leading single quote, as OWASP
advises: the sheet shows the text, the quote says it was changed.
"""

from __future__ import annotations

import csv
import io
from typing import Any, TextIO

from cloudscan.report.changes import change, resolved
from cloudscan.report.escape import escape
from cloudscan.scan import ScanResult

COLUMNS = (
    "fingerprint",
    "status",
    "change",
    "severity",
    "policy_id",
    "title",
    "provider",
    "kind",
    "resource_id",
    "resource_name",
    "account",
    "region",
    "file",
    "line",
    "evidence",
    "remediation",
    "hipaa",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def render(result: ScanResult) -> str:
    out = io.StringIO()
    write(result, out)
    return out.getvalue()


def write(result: ScanResult, stream: TextIO) -> None:
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for finding in [*result.findings, *resolved(result)]:
        writer.writerow([cell(value) for value in _row(finding)])


def cell(value: object) -> str:
    """A value as a cell no spreadsheet runs: shown escaped, and quoted if it looks like a formula."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return str(value)
    shown = escape(value)
    return "'" + shown if shown.startswith(FORMULA_STARTS) else shown


def _row(finding: dict[str, Any]) -> list[Any]:
    resource = finding["resource"]
    source = resource.get("source") or {}
    evidence = finding.get("evidence") or []
    return [
        finding["fingerprint"],
        finding["status"],
        change(finding),
        finding["severity"],
        finding["policy_id"],
        finding["title"],
        resource["provider"],
        resource["kind"],
        resource["id"],
        resource.get("name"),
        resource.get("account"),
        resource.get("region"),
        source.get("file"),
        source.get("line_start"),
        evidence[0]["message"] if evidence else None,
        (finding.get("remediation") or {}).get("text"),
        " ".join((finding.get("compliance") or {}).get("hipaa") or []),
    ]
