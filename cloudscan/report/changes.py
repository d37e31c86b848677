"""What a comparison with a baseline adds to a result, as the writers read it.

A result compared with a previous report carries `baseline`: {"file", "counts": {"new",
"unchanged", "resolved"}, "resolved": [findings of the previous report that no longer fail]},
and each of its findings a `change` of "new" or "unchanged". Without a baseline both are absent
(or null), and every writer must work the same as before.
"""

from __future__ import annotations

from typing import Any

from cloudscan.scan import ScanResult


def baseline(result: ScanResult) -> dict[str, Any] | None:
    value = getattr(result, "baseline", None)
    return value if isinstance(value, dict) else None


def resolved(result: ScanResult) -> list[dict[str, Any]]:
    """The previous report's findings that no longer fail, each marked `change: resolved`."""
    compared = baseline(result)
    return [{**f, "change": "resolved"} for f in (compared or {}).get("resolved") or []]


def change(finding: dict[str, Any]) -> str | None:
    """new, unchanged or resolved; None when the scan was not compared with a baseline."""
    value = finding.get("change")
    return value if isinstance(value, str) else None
