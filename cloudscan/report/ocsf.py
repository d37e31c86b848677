"""OCSF 1.5.0 Detection Finding events (class 2004, category Findings) for SIEMs and data lakes.

Which results are events:
- FAIL is an event of activity Create with status New, and UNKNOWN too (status_code UNKNOWN,
  its message saying what could not be read): a control nobody could verify is something to
  look at, with the rule's severity, since the exposure it could not rule out is that serious.
- MUTED (a FAIL or UNKNOWN someone accepted) is a Create with status Suppressed and the reason,
  so a consumer that opened it earlier can see it was accepted, not that it vanished.
- PASS and NOT_APPLICABLE are not events: a Detection Finding reports something detected, and
  a passing control would be noise in a SIEM, the bulk of every scan (a passed check is a
  Compliance Finding, a class of its own). The JSON report has them.
- With a baseline, each finding of the previous report that no longer fails is an event of
  activity Close with status Resolved, so a consumer can close what it opened.

Mapping: finding_info.uid is the fingerprint (stable across scans, so a consumer deduplicates on
it), `analytic` the policy (a Rule), `types` its category, `desc` what the policy requires;
severity critical..info is severity_id 5..1; resources[0] the resource (uid, name, type = the
cloudscan kind, region, data = provider and source location); `cloud` the provider (AWS, GCP,
Azure: the cloud profile) and account (type AWS Account 10, GCP Project 11, Azure Subscription
13), left out for DICOMweb, DICOM and Orthanc endpoints, which are no cloud's; remediation the
policy's text and references. Detection Finding has no compliance attribute in OCSF 1.5.0 (that
is the Compliance Finding class), so HIPAA controls go in `unmapped.compliance`, with the
evidence, the cloud's remediation steps, the baseline change and the suppression.

The output is one JSON array of events, one event a line. An array is what a file of findings
in OCSF usually is (Prowler's OCSF output is one), and one document is what an upload takes;
for a queue, `--format jsonl` gives cloudscan's own findings a line each. One event a line
still diffs and greps by line, and is written as it is encoded.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any, TextIO

from cloudscan import __version__
from cloudscan.report.changes import baseline, change, resolved
from cloudscan.scan import ScanResult

OCSF_VERSION = "1.5.0"
DETECTION_FINDING = 2004
FINDINGS = 2
SEVERITY = {"critical": (5, "Critical"), "high": (4, "High"), "medium": (3, "Medium"), "low": (2, "Low")}
INFORMATIONAL = (1, "Informational")
CREATE, CLOSE = (1, "Create"), (3, "Close")
NEW, SUPPRESSED, RESOLVED = (1, "New"), (3, "Suppressed"), (4, "Resolved")
CLOUDS = {"aws": "AWS", "gcp": "GCP", "azure": "Azure"}
ACCOUNT_TYPES = {"aws": (10, "AWS Account"), "gcp": (11, "GCP Project"), "azure": (13, "Azure Subscription")}
EVENT_STATUSES = ("FAIL", "UNKNOWN", "MUTED")


def render(result: ScanResult) -> str:
    out = io.StringIO()
    write(result, out)
    return out.getvalue()


def write(result: ScanResult, stream: TextIO) -> None:
    encode = json.JSONEncoder(default=str, separators=(", ", ": ")).encode
    stream.write("[")
    for index, event in enumerate(events(result)):
        stream.write(("\n" if index == 0 else ",\n") + encode(event))
    stream.write("\n]\n")


def events(result: ScanResult) -> list[dict[str, Any]]:
    descriptions = {p.id: p.meta.get("description") for p in result.policies}
    when = _epoch_ms(result.finished_at or result.started_at)
    out = [_event(f, result, descriptions, when) for f in result.findings if f["status"] in EVENT_STATUSES]
    out += [_event(f, result, descriptions, when) for f in resolved(result)]
    return out


def _event(
    finding: dict[str, Any], result: ScanResult, descriptions: dict[str, Any], when: int
) -> dict[str, Any]:
    resource = finding["resource"]
    status = finding["status"]
    closing = change(finding) == "resolved"
    activity = CLOSE if closing else CREATE
    workflow = RESOLVED if closing else SUPPRESSED if status == "MUTED" else NEW
    severity = SEVERITY.get(finding["severity"], INFORMATIONAL)
    messages = list(dict.fromkeys(e["message"] for e in finding.get("evidence") or []))
    cloud = _cloud(resource)
    event: dict[str, Any] = {
        "activity_id": activity[0],
        "activity_name": activity[1],
        "category_uid": FINDINGS,
        "category_name": "Findings",
        "class_uid": DETECTION_FINDING,
        "class_name": "Detection Finding",
        "type_uid": DETECTION_FINDING * 100 + activity[0],
        "type_name": f"Detection Finding: {activity[1]}",
        "time": when,
        "severity_id": severity[0],
        "severity": severity[1],
        "status_id": workflow[0],
        "status": workflow[1],
        "status_code": status,
        "status_detail": _status_detail(finding, closing, baseline(result)),
        "message": " ".join(messages) or finding["title"],
        "finding_info": _compact(
            {
                "uid": finding["fingerprint"],
                "title": finding["title"],
                "desc": descriptions.get(finding["policy_id"]),
                "types": [finding["category"]],
                "data_sources": [result.source],
                "analytic": {
                    "uid": finding["policy_id"],
                    "name": finding["title"],
                    "type_id": 1,
                    "type": "Rule",
                    "category": finding["category"],
                },
            }
        ),
        "resources": [_resource(resource)],
        "remediation": _compact(
            {
                "desc": (finding.get("remediation") or {}).get("text") or finding["title"],
                "references": finding.get("references") or None,
            }
        ),
        "metadata": _compact(
            {
                "version": OCSF_VERSION,
                "product": {"name": "cloudscan", "vendor_name": "cloudscan", "version": __version__},
                "event_code": finding["policy_id"],
                "profiles": ["cloud"] if cloud else None,
            }
        ),
        "unmapped": _unmapped(finding, result),
    }
    if cloud:
        event["cloud"] = cloud
    return _compact(event)


def _status_detail(finding: dict[str, Any], closing: bool, compared: dict[str, Any] | None) -> str | None:
    if closing:
        return f"no longer {finding['status']} since the baseline {(compared or {}).get('file')}"
    if finding["status"] == "UNKNOWN":
        return "could not be evaluated"
    if finding["status"] == "MUTED":
        suppression = finding.get("suppression") or {}
        until = f" until {suppression['until']}" if suppression.get("until") else ""
        return f"muted{until}: {suppression.get('reason')}"
    return None


def _resource(resource: dict[str, Any]) -> dict[str, Any]:
    source = _compact(dict(resource.get("source") or {}))
    return _compact(
        {
            "uid": resource["id"],
            "name": resource.get("name"),
            "type": resource["kind"],
            "region": resource.get("region"),
            "data": {"provider": resource["provider"], "source": source},
        }
    )


def _cloud(resource: dict[str, Any]) -> dict[str, Any] | None:
    provider = resource["provider"]
    if provider not in CLOUDS:
        return None
    cloud: dict[str, Any] = {"provider": CLOUDS[provider]}
    if resource.get("account"):
        type_id, type_name = ACCOUNT_TYPES[provider]
        account = str(resource["account"])
        cloud["account"] = {"uid": account, "name": account, "type_id": type_id, "type": type_name}
    if resource.get("region"):
        cloud["region"] = resource["region"]
    return cloud


def _unmapped(finding: dict[str, Any], result: ScanResult) -> dict[str, Any]:
    """What OCSF's Detection Finding has no place for, in cloudscan's own words."""
    how = (finding.get("remediation") or {}).get(finding["resource"]["provider"])
    return _compact(
        {
            "policy_id": finding["policy_id"],
            "compliance": finding.get("compliance") or None,
            "evidence": finding.get("evidence") or None,
            "remediation": how or None,
            "change": change(finding),
            "suppression": finding.get("suppression"),
            "scan": {"source": result.source, "started_at": result.started_at},
        }
    )


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    """Without the keys whose value is None: OCSF leaves out what it does not know."""
    return {k: v for k, v in values.items() if v is not None}


def _epoch_ms(timestamp: str) -> int:
    """OCSF times are milliseconds since the epoch; a scan's times are ISO 8601 in UTC."""
    try:
        return int(datetime.fromisoformat(timestamp).timestamp() * 1000)
    except ValueError:
        return 0
