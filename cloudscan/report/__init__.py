"""Reports: pure functions of a scan result. One enum of formats, one dispatch."""

from __future__ import annotations

from enum import StrEnum

from cloudscan.report import json_report, sarif, text_report
from cloudscan.scan import ScanResult


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


def render(fmt: Format, result: ScanResult, *, color: bool = False, verbose: bool = False) -> str:
    if fmt is Format.JSON:
        return json_report.render(result)
    if fmt is Format.SARIF:
        return sarif.render(result)
    return text_report.render(result, color=color, verbose=verbose)
