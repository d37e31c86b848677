"""A previous report as a baseline: each problem of this scan (a FAIL or an UNKNOWN) is new or
unchanged, and each problem of the baseline that this scan no longer has is resolved, so that a
ticket can close itself. Matched by fingerprint (engine.fingerprint), which names the same
problem on the same resource in every scan.

A baseline problem whose resource this scan did not see while the scan had errors is not
resolved but unverified: a subscription that could not be read must not close its tickets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cloudscan import __version__
from cloudscan.report.escape import escape
from cloudscan.report.reading import ReportFileError, read_report

PROBLEMS = ("FAIL", "UNKNOWN")


class BaselineError(Exception):
    """The baseline cannot be used: the message says which file and why."""


def load_baseline(path: Path, source: str) -> dict[str, Any]:
    """Read and check a JSON report of cloudscan: the same version, the same kind of source."""
    shown = json.dumps(str(path))
    try:
        report = read_report(path, "baseline ")
    except ReportFileError as exc:
        raise BaselineError(str(exc)) from None
    tool = report["tool"]
    if not isinstance(report.get("findings"), list):
        raise BaselineError(f"baseline {shown} is not a cloudscan JSON report (--format json)")
    if tool.get("version") != __version__:
        raise BaselineError(
            f"baseline {shown} was written by cloudscan {json.dumps(tool.get('version'))}, this is "
            f"{__version__}: fingerprints and policies may differ between versions; scan again "
            "with this version to make a new baseline"
        )
    _check_findings(report["findings"], shown)
    scanned = (report.get("scan") or {}).get("source")
    if scanned != source:
        raise BaselineError(
            f"baseline {shown} is a scan of {json.dumps(scanned)}, not of {source}: compare scans of "
            "the same kind"
        )
    return report


def _check_findings(findings: list[Any], shown: str) -> None:
    """The problems a baseline holds end up in this scan's reports: each must be a finding."""
    from jsonschema import Draft202012Validator

    from cloudscan.model import schema_registry

    schema = {"$ref": "https://cloudscan.dev/schemas/report.json#/$defs/finding"}
    validator = Draft202012Validator(schema, registry=schema_registry())
    for index, finding in enumerate(findings):
        if isinstance(finding, dict) and finding.get("status") not in PROBLEMS:
            continue
        error = next(iter(validator.iter_errors(finding)), None)
        if error is not None:
            where = "".join(f"[{json.dumps(p)}]" for p in error.absolute_path)
            said = escape(error.message, 200)
            raise BaselineError(
                f"baseline {shown}: findings[{index}]{where} is not a cloudscan finding: {said}"
            )


def compare(result: Any, report: dict[str, Any], path: Path) -> dict[str, Any]:
    """Mark each finding of `result` new or unchanged (`change`), and return the baseline block
    of the report: counts, and the baseline problems resolved or left unverified."""
    before = {
        f["fingerprint"]: f
        for f in report["findings"]
        if isinstance(f, dict) and f.get("status") in PROBLEMS and isinstance(f.get("fingerprint"), str)
    }
    now = {f["fingerprint"]: f for f in result.findings}
    counts = {"new": 0, "unchanged": 0, "resolved": 0, "unverified": 0}
    for finding in result.findings:
        if finding["status"] in PROBLEMS:
            finding["change"] = "unchanged" if finding["fingerprint"] in before else "new"
            counts[finding["change"]] += 1
        else:
            finding["change"] = None
    seen = {r["id"] for r in result.resources}
    resolved, unverified = [], []
    for fingerprint, old in before.items():
        current = now.get(fingerprint)
        if current is not None and current["status"] in PROBLEMS:
            continue
        gone = current is None and (old.get("resource") or {}).get("id") not in seen
        entry = {**old, "change": "resolved", "status_now": current["status"] if current else None}
        if gone and result.errors:
            unverified.append({**entry, "change": "unverified"})
        else:
            resolved.append(entry)
    counts["resolved"], counts["unverified"] = len(resolved), len(unverified)
    return {
        "file": str(path),
        "started_at": (report.get("scan") or {}).get("started_at"),
        "counts": counts,
        "resolved": resolved,
        "unverified": unverified,
    }
