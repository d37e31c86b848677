"""Counts shared by every format."""

from __future__ import annotations

from collections import Counter
from typing import Any

from cloudscan.engine import STATUSES
from cloudscan.policyset import SEVERITIES


def summarise(
    findings: list[dict[str, Any]], resources: int, errors: int, resource_errors: int = 0
) -> dict[str, Any]:
    statuses = Counter(f["status"] for f in findings)
    failed = Counter(f["severity"] for f in findings if f["status"] == "FAIL")
    return {
        "resources": resources,
        "results": {s: statuses.get(s, 0) for s in STATUSES},
        "failed_by_severity": {s: failed.get(s, 0) for s in SEVERITIES},
        "errors": errors,
        "resources_with_errors": resource_errors,
    }
