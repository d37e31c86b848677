"""Reports: pure functions of a scan result. One enum of formats, one dispatch."""

from __future__ import annotations

import io
from enum import StrEnum
from typing import TextIO

from cloudscan.report import html, json_report, sarif, text_report
from cloudscan.scan import ScanResult


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    HTML = "html"


def write(
    fmt: Format, result: ScanResult, stream: TextIO, *, color: bool = False, verbose: bool = False
) -> None:
    """Write the report to `stream`. JSON, SARIF and HTML are written as they are encoded, so a
    report of thousands of resources never exists whole in memory as a string."""
    if fmt is Format.JSON:
        json_report.write(result, stream)
    elif fmt is Format.SARIF:
        sarif.write(result, stream)
    elif fmt is Format.HTML:
        html.write(result, stream)
    else:
        stream.write(text_report.render(result, color=color, verbose=verbose))


def render(fmt: Format, result: ScanResult, *, color: bool = False, verbose: bool = False) -> str:
    out = io.StringIO()
    write(fmt, result, out, color=color, verbose=verbose)
    return out.getvalue()
