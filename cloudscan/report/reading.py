"""Reading back a JSON report cloudscan wrote (a baseline, a shard to merge, the findings a
mute file is checked against): bounded, and refused with a message naming the file when it is
not JSON or not cloudscan's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cloudscan.report.escape import escape

MAX_BYTES = 512 * 1024 * 1024  # a report of a very large estate; more is not a report


class ReportFileError(Exception):
    """The file cannot be read as a cloudscan JSON report; the message says which and why."""


def read_report(path: Path, label: str = "") -> dict[str, Any]:
    """The report's JSON; `label` ("baseline ") goes before the file's name in messages."""
    shown = label + json.dumps(str(path))
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ReportFileError(f"{shown} is larger than {MAX_BYTES // 2**20} MiB")
        with open(path, encoding="utf-8") as stream:
            body = json.load(stream)
    except OSError as exc:
        raise ReportFileError(f"cannot read {shown}: {exc.strerror}") from None
    except (ValueError, RecursionError) as exc:
        raise ReportFileError(f"{shown} is not JSON: {escape(exc, 200)}") from None
    tool = body.get("tool") if isinstance(body, dict) else None
    if not isinstance(tool, dict) or tool.get("name") != "cloudscan":
        raise ReportFileError(f"{shown} is not a cloudscan JSON report (--format json)")
    return body
