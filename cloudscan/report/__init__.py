"""Reports: pure functions of a scan result. One enum of formats, one dispatch."""

from __future__ import annotations

import io
from collections.abc import Callable
from enum import StrEnum
from typing import TextIO

from cloudscan.report import csv_report, html, json_report, jsonl, junit, ocsf, sarif, text_report
from cloudscan.scan import ScanResult


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    JSONL = "jsonl"
    CSV = "csv"
    JUNIT = "junit"
    OCSF = "ocsf"
    HTML = "html"


# The file name each format takes in --output-dir: cloudscan.<extension>
EXTENSIONS = {
    Format.TEXT: "txt",
    Format.JSON: "json",
    Format.SARIF: "sarif",
    Format.JSONL: "jsonl",
    Format.CSV: "csv",
    Format.JUNIT: "junit.xml",
    Format.OCSF: "ocsf.json",
    Format.HTML: "html",
}


def write(
    fmt: Format, result: ScanResult, stream: TextIO, *, color: bool = False, verbose: bool = False
) -> None:
    """Write the report to `stream`. JSON, JSON Lines, CSV, OCSF and HTML are written as they
    are encoded, so a report of thousands of resources never exists whole in memory as a string."""
    if fmt is Format.TEXT:
        stream.write(text_report.render(result, color=color, verbose=verbose))
    else:
        WRITERS[fmt](result, stream)


WRITERS: dict[Format, Callable[[ScanResult, TextIO], None]] = {
    Format.JSON: json_report.write,
    Format.SARIF: sarif.write,
    Format.JSONL: jsonl.write,
    Format.CSV: csv_report.write,
    Format.JUNIT: junit.write,
    Format.OCSF: ocsf.write,
    Format.HTML: html.write,
}


def render(fmt: Format, result: ScanResult, *, color: bool = False, verbose: bool = False) -> str:
    out = io.StringIO()
    write(fmt, result, out, color=color, verbose=verbose)
    return out.getvalue()
