"""Accepted risks: findings a team has reviewed and decided to live with, for a reason and
usually until a date. A muted finding stays in every report as MUTED, with its reason; it no
longer fails the run. Nothing is ever dropped."""

from __future__ import annotations

import json
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

MUTE_FILE_SCHEMA = {
    "type": "object",
    "required": ["mutes"],
    "properties": {
        "mutes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["policy", "resource", "reason"],
                "properties": {
                    # Policy id; resource id, name or Terraform address. Wildcards allowed in both.
                    "policy": {"type": "string", "minLength": 1},
                    "resource": {"type": "string", "minLength": 1},
                    "reason": {"type": "string", "minLength": 5},
                    "until": {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                },
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}


class MuteFileError(Exception):
    """The mute file cannot be used; the message names the file and the JSON pointer."""


def load_mutes(path: Path) -> list[dict[str, Any]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MuteFileError(f"{path}: cannot be read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise MuteFileError(f"{path}: not valid JSON: {exc.msg} (line {exc.lineno})") from None
    errors = sorted(Draft202012Validator(MUTE_FILE_SCHEMA).iter_errors(document), key=lambda e: list(e.path))
    if errors:
        pointer = "".join(f"/{p}" for p in errors[0].absolute_path) or "/"
        raise MuteFileError(f"{path}: {pointer}: {errors[0].message}")
    return document["mutes"]


def apply_mutes(findings: list[dict[str, Any]], mutes: list[dict[str, Any]], today: date) -> None:
    """Mark FAIL and UNKNOWN findings that a mute in force covers as MUTED, keeping why."""
    for finding in findings:
        if finding["status"] not in ("FAIL", "UNKNOWN"):
            continue
        resource = finding["resource"]
        address = (resource.get("source") or {}).get("address")
        names = [n for n in (resource["id"], resource.get("name"), address) if n]
        for mute in mutes:
            expired = "until" in mute and date.fromisoformat(mute["until"]) < today
            if expired or not fnmatchcase(finding["policy_id"], mute["policy"]):
                continue
            if any(fnmatchcase(name, mute["resource"]) for name in names):
                finding["suppression"] = {"reason": mute["reason"], "until": mute.get("until"),
                                          "was": finding["status"]}
                finding["status"] = "MUTED"
                break
