"""Reports: pure functions of a scan result. One enum of formats, one dispatch."""

from __future__ import annotations

import io
from enum import StrEnum
from typing import TextIO

from cloudscan.report import json_report, sarif, text_report
from cloudscan.scan import ScanResult


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


# The file name each format takes in --output-dir: cloudscan.<extension>
EXTENSIONS = {Format.TEXT: "txt", Format.JSON: "json", Format.SARIF: "sarif"}


def write(
    fmt: Format, result: ScanResult, stream: TextIO, *, color: bool = False, verbose: bool = False
) -> None:
    """Write the report to `stream`. JSON and SARIF are written as they are encoded, so a report
    of thousands of resources never exists whole in memory as a string."""
    if fmt is Format.JSON:
        json_report.write(result, stream)
    elif fmt is Format.SARIF:
        sarif.write(result, stream)
    else:
        stream.write(text_report.render(result, color=color, verbose=verbose))


def render(fmt: Format, result: ScanResult, *, color: bool = False, verbose: bool = False) -> str:
    out = io.StringIO()
    write(fmt, result, out, color=color, verbose=verbose)
    return out.getvalue()
