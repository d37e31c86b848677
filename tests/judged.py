"""What a scan judged, by resource name: the shape scenario tests compare with what they expect."""

from __future__ import annotations

from typing import Any


def statuses_by_name(result: Any) -> dict[str, dict[str, str]]:
    """resource name -> policy id -> status."""
    names = {r["id"]: r["name"] for r in result.resources}
    twice = sorted({n for n in names.values() if list(names.values()).count(n) > 1})
    assert not twice, f"resources share a name, their statuses would merge: {twice}"
    out: dict[str, dict[str, str]] = {}
    for finding in result.findings:
        out.setdefault(names[finding["resource"]["id"]], {})[finding["policy_id"]] = finding["status"]
    return out
