"""SARIF 2.1.0 for GitHub code scanning: one rule per policy, one result per FAIL.

GitHub reads `properties.security-severity` (a number as a string) to rank alerts,
`partialFingerprints` to follow one alert across commits, and physical locations with
1-based lines to annotate a pull request. Live findings carry a logical location instead.
An UNKNOWN result is not an alert of the rule's severity: it is a tool notification, at the
resource's location, saying what could not be evaluated.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, TextIO

from cloudscan import __version__
from cloudscan.policyset import Policy
from cloudscan.report.escape import escape
from cloudscan.scan import BLOCKING_CODES, ScanResult, blocking_errors

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
FINGERPRINT_KEY = "cloudscan/v1"


def render(result: ScanResult) -> str:
    return json.dumps(_document(result), indent=2) + "\n"


def write(result: ScanResult, stream: TextIO) -> None:
    json.dump(_document(result), stream, indent=2)
    stream.write("\n")


def _document(result: ScanResult) -> dict[str, Any]:
    rules = [_rule(p) for p in result.policies]
    index = {p.id: i for i, p in enumerate(result.policies)}
    # A muted FAIL stays a result, suppressed with its reason, so code scanning shows it closed.
    results = [
        _result(f, index)
        for f in result.findings
        if f["status"] == "FAIL" or (f["suppression"] or {}).get("was") == "FAIL"
    ]
    blocking = blocking_errors(result) if result.fail_closed else []
    if blocking:
        rules.append(UNREADABLE_RULE)
        results += [_unreadable(e, len(rules) - 1) for e in blocking]
    notifications = [_unknown(f, index) for f in result.findings if f["status"] == "UNKNOWN"]
    notifications += [_notification(e) for e in result.errors if e not in blocking]
    notifications += [
        _notification({**e, "resource": r["id"]})
        for r in result.resources
        for e in r["_meta"]["errors"]
        if not (blocking and e["code"] in BLOCKING_CODES | {"InternalError"})
    ]
    run = {
        "tool": {
            "driver": {
                "name": "cloudscan",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": "https://pypi.org/project/cloudscan/",
                "rules": rules,
            }
        },
        "automationDetails": {"id": f"cloudscan/{result.source}/"},
        "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The directory cloudscan ran in."}}},
        "invocations": [
            {
                "executionSuccessful": True,
                "startTimeUtc": result.started_at,
                "endTimeUtc": result.finished_at or result.started_at,
                "toolExecutionNotifications": notifications,
            }
        ],
        "results": results,
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _rule(policy: Policy) -> dict[str, Any]:
    meta = policy.meta
    hipaa = [f"HIPAA-{control}" for control in meta["compliance"].get("hipaa", [])]
    rule: dict[str, Any] = {
        "id": policy.id,
        "name": "".join(part.capitalize() for part in policy.id.split("-")),
        "shortDescription": {"text": meta["title"]},
        "fullDescription": {"text": meta["description"]},
        "help": {"text": meta["remediation"]["text"], "markdown": _help_markdown(meta)},
        "defaultConfiguration": {"level": LEVEL[meta["severity"]]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[meta["severity"]],
            "tags": ["security", meta["category"], *hipaa],
            "precision": "high",
            "problem.severity": {"critical": "error", "high": "error", "medium": "warning"}.get(
                meta["severity"], "recommendation"
            ),
        },
    }
    if meta["references"]:
        rule["helpUri"] = meta["references"][0]
    return rule


def _help_markdown(meta: dict[str, Any]) -> str:
    lines = [
        f"**{meta['title']}**",
        "",
        meta["description"],
        "",
        "### Remediation",
        "",
        meta["remediation"]["text"],
    ]
    for cloud in ("aws", "gcp", "azure", "orthanc"):
        how = meta["remediation"].get(cloud) or {}
        for label, key, fence in (
            ("Console", "console", None),
            ("CLI", "cli", "sh"),
            ("Terraform", "terraform", "hcl"),
            ("Configuration", "config", "json"),
        ):
            if how.get(key):
                lines += ["", f"{label} ({cloud.upper() if len(cloud) <= 5 else cloud.title()}):", ""]
                lines += [f"```{fence}", how[key], "```"] if fence else [how[key]]
    hipaa = meta["compliance"].get("hipaa", [])
    if hipaa:
        lines += ["", "HIPAA: " + ", ".join(f"§{c}" for c in hipaa)]
    if meta["references"]:
        lines += ["", "References: " + ", ".join(meta["references"])]
    return "\n".join(lines)


def _result(finding: dict[str, Any], index: dict[str, int]) -> dict[str, Any]:
    resource = finding["resource"]
    source = resource.get("source") or {}
    where = source.get("address") or resource["id"]
    messages = [e["message"] for e in finding["evidence"]] or [finding["title"]]
    text = f"{where}: {' '.join(dict.fromkeys(messages))}"
    out: dict[str, Any] = {
        "ruleId": finding["policy_id"],
        "ruleIndex": index[finding["policy_id"]],
        "kind": "fail",
        "level": LEVEL[finding["severity"]],
        "message": {"text": escape(text)},
        "locations": [_location(resource, [e["path"] for e in finding["evidence"]])],
        "partialFingerprints": {FINGERPRINT_KEY: finding["fingerprint"]},
        # With --baseline: SARIF's own word for it, which viewers show as new or unchanged.
        **({"baselineState": finding["change"]} if finding.get("change") else {}),
        **(
            {
                "suppressions": [
                    {
                        "kind": "external",
                        "status": "accepted",
                        "justification": finding["suppression"]["reason"],
                    }
                ]
            }
            if finding["suppression"]
            else {}
        ),
        "properties": {
            "status": finding["status"],
            "severity": finding["severity"],
            "resource": resource["id"],
            "kind": resource["kind"],
        },
    }
    return out


def _unknown(finding: dict[str, Any], index: dict[str, int]) -> dict[str, Any]:
    resource = finding["resource"]
    where = (resource.get("source") or {}).get("address") or resource["id"]
    reasons = " ".join(dict.fromkeys(e["message"] for e in finding["evidence"]))
    return {
        "level": "warning",
        "message": {"text": escape(f"{finding['policy_id']} could not be evaluated on {where}: {reasons}")},
        "locations": [_location(resource)],
        "descriptor": {"id": "cloudscan/unknown"},
        "associatedRule": {"id": finding["policy_id"], "index": index[finding["policy_id"]]},
        "properties": {"fingerprint": finding["fingerprint"], "status": "UNKNOWN"},
    }


def _location(resource: dict[str, Any], paths: list[str] | None = None) -> dict[str, Any]:
    source = resource.get("source") or {}
    logical = {"fullyQualifiedName": source.get("address") or resource["id"], "kind": "resource"}
    setting = _setting(source.get("fields") or {}, paths or [])
    physical: dict[str, Any]
    if setting:  # the line of the setting that failed (configuration files)
        physical = {"artifactLocation": _artifact(setting["file"]), "region": {"startLine": setting["line"]}}
        return {"physicalLocation": physical, "logicalLocations": [logical]}
    if source.get("type") in ("terraform", "config") and source.get("file"):
        physical = {"artifactLocation": _artifact(source["file"])}
        if source.get("line_start"):  # a plan has no lines: the whole file
            region = {"startLine": source["line_start"]}
            if source.get("line_end"):
                region["endLine"] = max(source["line_end"], region["startLine"])
            physical["region"] = region
        return {"physicalLocation": physical, "logicalLocations": [logical]}
    return {"logicalLocations": [{**logical, "fullyQualifiedName": resource["id"]}]}


def _setting(fields: dict[str, Any], paths: list[str]) -> dict[str, Any] | None:
    """The recorded location of the first evidence path ($.a.b), or of its nearest parent."""
    for path in paths:
        parts = [p for p in path.lstrip("$").replace("[", ".").replace("]", "").split(".") if p]
        for cut in range(len(parts), 0, -1):
            pointer = "/" + "/".join(parts[:cut])
            if pointer in fields:
                return fields[pointer]
    return None


def _artifact(file: str) -> dict[str, Any]:
    """Relative paths are relative to where cloudscan ran (the repository root in the Action)."""
    path = Path(file)
    if path.is_absolute():
        return {"uri": path.as_uri()}
    return {"uri": path.as_posix(), "uriBaseId": "%SRCROOT%"}


UNREADABLE_RULE: dict[str, Any] = {
    "id": "cloudscan-unreadable-input",
    "name": "UnreadableInput",
    "shortDescription": {"text": "A file under scan could not be read, or a resource could not be judged"},
    "fullDescription": {
        "text": "cloudscan could not read this file (a syntax error, a file that is not a "
        "regular file, one past the size limit) or failed on a resource in it, so "
        "nothing in it was judged. A pull request must not pass a file nobody read."
    },
    "help": {
        "text": "Fix the file so Terraform (or Orthanc) can read it, or run with --on-unreadable warn.",
        "markdown": "Fix the file so Terraform (or Orthanc) can read it. To report it without failing "
        "the run, use `--on-unreadable warn` (the Action's `on-unreadable` input).",
    },
    "defaultConfiguration": {"level": "error"},
    "properties": {"tags": ["security", "cloudscan"], "security-severity": SECURITY_SEVERITY["high"]},
}


def _unreadable(error: dict[str, Any], rule_index: int) -> dict[str, Any]:
    """An input nobody judged, as an error-level alert at its file (and line)."""
    note = _notification(error)
    result: dict[str, Any] = {
        "ruleId": UNREADABLE_RULE["id"],
        "ruleIndex": rule_index,
        "level": "error",
        "message": note["message"],
        "partialFingerprints": {FINGERPRINT_KEY: _fingerprint_of_error(error)},
    }
    if "locations" in note:
        result["locations"] = note["locations"]
    else:
        result["locations"] = [
            {"logicalLocations": [{"name": str(error.get("resource") or "scan"), "kind": "resource"}]}
        ]
    return result


def _fingerprint_of_error(error: dict[str, Any]) -> str:
    where = str(error.get("resource") or "").partition(":")[0]
    return hashlib.sha256(f"unreadable|{where}|{error.get('code')}".encode()).hexdigest()[:32]


def _notification(error: dict[str, Any]) -> dict[str, Any]:
    note: dict[str, Any] = {
        "level": "error",
        "message": {"text": escape(f"{error['call']} {error['code']}: {error['message']}")},
        "descriptor": {"id": error["call"]},
    }
    where = error.get("resource") or ""
    file, _, line = where.partition(":")
    if where and not file.endswith((".tf", ".tfvars", ".json")):
        note["message"]["text"] = f"{where}: {note['message']['text']}"  # which endpoint or bucket
    if where and file.endswith((".tf", ".tfvars", ".json")):
        region = {"startLine": int(line)} if line.isdigit() else {}
        physical: dict[str, Any] = {"artifactLocation": _artifact(file)}
        if region:
            physical["region"] = region
        note["locations"] = [{"physicalLocation": physical}]
    return note
