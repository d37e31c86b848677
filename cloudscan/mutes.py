"""Accepted risks: findings a team has reviewed and decided to live with, for a reason and
usually until a date. A muted finding stays in every report as MUTED, with its reason; it no
longer fails the run. Nothing is ever dropped."""

from __future__ import annotations

import fnmatch
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from cloudscan.inputs import InputError, read_text

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


MAX_MUTE_BYTES = 64 * 1024 * 1024


def load_mutes(path: Path) -> list[dict[str, Any]]:
    """The entries of a mute file, checked before any scan starts: a date that does not exist
    (2027-02-30) or a file that is not UTF-8 stops here, not after an hour of scanning."""
    try:
        document = json.loads(read_text(path, MAX_MUTE_BYTES))
    except InputError as exc:
        raise MuteFileError(f"{path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise MuteFileError(f"{path}: not valid JSON: {exc.msg} (line {exc.lineno})") from None
    except RecursionError:
        raise MuteFileError(f"{path}: not a mute file: nested too deeply") from None
    validator = Draft202012Validator(MUTE_FILE_SCHEMA)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    if errors:
        pointer = "".join(f"/{p}" for p in errors[0].absolute_path) or "/"
        raise MuteFileError(f"{path}: {pointer}: {errors[0].message[:200]}")
    for index, mute in enumerate(document["mutes"]):
        if "until" in mute:
            try:
                until = date.fromisoformat(mute["until"])
            except ValueError:
                raise MuteFileError(f"{path}: /mutes/{index}/until: {mute['until']!r} is no date") from None
            if until.year < 2000:
                raise MuteFileError(f"{path}: /mutes/{index}/until: {mute['until']!r} is not a likely date")
    return document["mutes"]


def apply_mutes(findings: list[dict[str, Any]], mutes: list[dict[str, Any]], today: date) -> None:
    """Mark FAIL and UNKNOWN findings that a mute in force covers as MUTED, keeping why. When
    several cover a finding, the first in the file gives the reason."""
    matcher = _Matcher([m for m in mutes if "until" not in m or date.fromisoformat(m["until"]) >= today])
    for finding in findings:
        if finding["status"] not in ("FAIL", "UNKNOWN"):
            continue
        resource = finding["resource"]
        address = (resource.get("source") or {}).get("address")
        names = [n for n in (resource["id"], resource.get("name"), address) if n]
        mute = matcher.first(finding["policy_id"], names)
        if mute is not None:
            finding["suppression"] = {
                "reason": mute["reason"],
                "until": mute.get("until"),
                "was": finding["status"],
            }
            finding["status"] = "MUTED"


class _Matcher:
    """Mutes indexed so that a file of many thousands of entries costs a lookup per finding, not
    a pattern match per entry: exact patterns go in dictionaries, wildcards are compiled once."""

    def __init__(self, mutes: list[dict[str, Any]]) -> None:
        self.mutes = mutes
        self.exact: dict[tuple[str, str], int] = {}
        self.by_policy: dict[str, list[tuple[re.Pattern[str], int]]] = {}
        self.any_policy: list[tuple[re.Pattern[str], re.Pattern[str], int]] = []
        for index, mute in enumerate(mutes):
            policy, resource = mute["policy"], mute["resource"]
            if not _wild(policy) and not _wild(resource):
                self.exact.setdefault((policy, resource), index)
            elif not _wild(policy):
                self.by_policy.setdefault(policy, []).append((_compile(resource), index))
            else:
                self.any_policy.append((_compile(policy), _compile(resource), index))

    def first(self, policy: str, names: list[str]) -> dict[str, Any] | None:
        found = [self.exact[policy, n] for n in names if (policy, n) in self.exact]
        found += [i for pattern, i in self.by_policy.get(policy, ()) if any(pattern.match(n) for n in names)]
        found += [
            i
            for policy_pattern, pattern, i in self.any_policy
            if policy_pattern.match(policy) and any(pattern.match(n) for n in names)
        ]
        return self.mutes[min(found)] if found else None


def _wild(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern))
