"""The versioned JSON document (schema: cloudscan/schemas/report.json)."""

from __future__ import annotations

import json
from typing import Any, TextIO

from cloudscan import __version__
from cloudscan.report.summary import summarise
from cloudscan.scan import ScanResult

REPORT_VERSION = "1.0"


def render(result: ScanResult) -> str:
    return json.dumps(_document(result), indent=2, default=str) + "\n"


def write(result: ScanResult, stream: TextIO) -> None:
    json.dump(_document(result), stream, indent=2, default=str)
    stream.write("\n")


def _document(result: ScanResult) -> dict[str, Any]:
    return {
        "report_version": REPORT_VERSION,
        "tool": {"name": "cloudscan", "version": __version__},
        "scan": {
            "source": result.source,
            "started_at": result.started_at,
            "finished_at": result.finished_at or result.started_at,
            "policies": [p.id for p in result.policies],
        },
        "summary": summarise(result.findings, len(result.resources), _error_count(result)),
        "findings": result.findings,
        "resources": result.resources,
        "errors": result.errors,
    }


def _error_count(result: ScanResult) -> int:
    return len(result.errors) + sum(len(r["_meta"]["errors"]) for r in result.resources)
