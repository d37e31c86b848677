"""Findings for a person at a terminal: by severity, then policy, with the fix said once."""

from __future__ import annotations

from itertools import groupby
from typing import Any

import click

from cloudscan.policyset import SEVERITIES
from cloudscan.report.escape import escape
from cloudscan.scan import ScanResult, read_something

COLORS = {"critical": "magenta", "high": "red", "medium": "yellow", "low": "cyan", "info": "white"}
MAX_REASONS = 5


def render(result: ScanResult, *, color: bool = False, verbose: bool = False) -> str:
    shown = ("FAIL", "UNKNOWN", "MUTED", "PASS") if verbose else ("FAIL", "UNKNOWN")
    # A resource nothing could be read of (an endpoint that did not answer) is said once, with
    # why, not once under every policy.
    unread = {r["id"]: r for r in result.resources if not read_something(r) and r["_meta"]["errors"]}
    findings = sorted(
        (f for f in result.findings if f["status"] in shown and f["resource"]["id"] not in unread),
        key=lambda f: (
            SEVERITIES.index(f["severity"]),
            f["policy_id"],
            shown.index(f["status"]),
            f["resource"]["id"],
        ),
    )
    lines: list[str] = []
    for severity, in_severity in groupby(findings, key=lambda f: f["severity"]):
        heading = severity.upper()
        lines.append(click.style(heading, fg=COLORS[severity], bold=True) if color else heading)
        for policy_id, in_policy in groupby(in_severity, key=lambda f: f["policy_id"]):
            group = list(in_policy)
            lines.append(f"  {escape(policy_id)}: {escape(group[0]['title'])}")
            for finding in group:
                lines.extend(_finding_lines(finding))
            if any(f["status"] == "FAIL" for f in group):
                lines.append(f"    fix: {escape(group[0]['remediation']['text'])}")
        lines.append("")
    for resource_id, resource in unread.items():
        error = resource["_meta"]["errors"][0]
        count = sum(f["resource"]["id"] == resource_id and f["status"] == "UNKNOWN" for f in result.findings)
        why = f"{error['call']} {error['code']}: {escape(error['message'])}"
        lines.append(f"NOT READ {escape(resource_id)}: {why} ({count} results UNKNOWN)")
    for error in result.errors:
        where = f" ({escape(error['resource'])})" if error.get("resource") else ""
        lines.append(f"ERROR {error['call']}{where}: {error['code']}: {escape(error['message'])}")
    lines += _baseline_lines(result.baseline)
    if not lines:
        lines.append("No failed or unknown results.")
    return "\n".join(lines).rstrip() + "\n"


def _baseline_lines(baseline: dict[str, Any] | None) -> list[str]:
    """Problems of the baseline that are gone (a ticket can close) or were not checked again."""
    if baseline is None:
        return []
    out = []
    for word, entries in (("RESOLVED", baseline["resolved"]), ("UNVERIFIED", baseline["unverified"])):
        for entry in entries:
            out.append(f"{word} {escape(entry['policy_id'])} {escape(entry['resource']['id'])}")
    counts = baseline["counts"]
    out.append(
        f"Against {escape(baseline['file'])}: {counts['new']} new, {counts['unchanged']} unchanged, "
        f"{counts['resolved']} resolved, {counts['unverified']} not checked again."
    )
    return out


def _finding_lines(finding: dict[str, Any]) -> list[str]:
    resource = finding["resource"]
    new = " NEW" if finding.get("change") == "new" else ""
    out = [f"    {finding['status']:<7} {escape(resource['id'])}{_location(resource)}{new}"]
    if finding.get("suppression"):
        until = finding["suppression"].get("until")
        note = f" (until {escape(until)})" if until else ""
        out.append(f"            muted: {escape(finding['suppression']['reason'])}{note}")
    for item in finding["evidence"]:
        origin = f" [{escape(item['origin'])}]" if item.get("origin") else ""
        out.append(f"            {escape(item['message'])}{origin}")
        for reason in item.get("reasons", [])[:MAX_REASONS]:
            out.append(f"              {escape(reason['origin'])}: {escape(reason['detail'])}")
    return out


def _location(resource: dict[str, Any]) -> str:
    source = resource.get("source") or {}
    if source.get("type") == "terraform":
        line = f":{source['line_start']}" if source.get("line_start") else ""
        return f"  ({escape(source.get('file'))}{line})"
    return f"  ({escape(resource['region'])})" if resource.get("region") else ""
