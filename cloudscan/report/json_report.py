"""The versioned JSON document (schema: cloudscan/schemas/report.json)."""

from __future__ import annotations

import io
import json
from typing import Any, TextIO

from cloudscan import __version__
from cloudscan.report.summary import summarise
from cloudscan.scan import ScanResult, error_count, resources_with_errors

REPORT_VERSION = "1.0"


def render(result: ScanResult) -> str:
    out = io.StringIO()
    write(result, out)
    return out.getvalue()


def write(result: ScanResult, stream: TextIO) -> None:
    """The document with one finding, resource or error a line: each is encoded by json's C
    encoder (three times faster than indenting), and the report still reads and diffs line by
    line. Written as it is encoded, so a large report never exists whole as a string."""
    write_document(_document(result), stream)


def write_document(document: dict[str, Any], stream: TextIO) -> None:
    # ASCII: a lone surrogate from a .tf.json string cannot make the report unwritable.
    encode = json.JSONEncoder(default=str, separators=(", ", ": ")).encode
    stream.write("{\n")
    for position, (key, value) in enumerate(document.items()):
        stream.write(f"  {encode(key)}: ")
        if isinstance(value, list) and value:
            stream.write("[\n")
            for index, item in enumerate(value):
                stream.write("    " + encode(item) + (",\n" if index < len(value) - 1 else "\n"))
            stream.write("  ]")
        else:
            stream.write(encode(value))
        stream.write(",\n" if position < len(document) - 1 else "\n")
    stream.write("}\n")


def _document(result: ScanResult) -> dict[str, Any]:
    return {
        "report_version": REPORT_VERSION,
        "tool": {"name": "cloudscan", "version": __version__},
        "scan": {
            "source": result.source,
            "started_at": result.started_at,
            "finished_at": result.finished_at or result.started_at,
            "policies": [p.id for p in result.policies],
            "shard": result.shard,
        },
        "summary": summarise(
            result.findings, len(result.resources), error_count(result), resources_with_errors(result)
        ),
        "findings": result.findings,
        "baseline": result.baseline,
        "resources": result.resources,
        "errors": result.errors,
        "warnings": result.warnings,
    }
