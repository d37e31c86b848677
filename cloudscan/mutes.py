"""Accepted risks: findings a team has reviewed and decided to live with, for a reason and
usually until a date. A muted finding stays in every report as MUTED, with its reason; it no
longer fails the run. Nothing is ever dropped."""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from cloudscan.inputs import InputError, read_text
from cloudscan.model import load_schema
from cloudscan.report.escape import escape


class MuteFileError(Exception):
    """The mute file cannot be used at all; the message names the file and the JSON pointer."""


MAX_MUTE_BYTES = 64 * 1024 * 1024
DEFAULT_MUTE_FILE = Path(".cloudscan") / "mutes.json"


@dataclass
class MuteFile:
    """The well-formed entries of a mute file, and what is wrong with the others: an entry
    that is not well-formed mutes nothing (fail closed) and is a warning, not the end of the
    run."""

    path: Path
    entries: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def expired(self, today: date) -> list[str]:
        return [
            f"{self.path}: /mutes/{m['index']} ({m['policy']} on {m['resource']}) ended on {m['until']}: "
            "it mutes nothing and its findings fail again"
            for m in self.entries
            if "until" in m and date.fromisoformat(m["until"]) < today
        ]


def mute_schema() -> dict[str, Any]:
    return load_schema("mutes")


def load_mutes(path: Path) -> MuteFile:
    """A mute file, checked before any scan starts: a file that is not UTF-8 or not JSON, or not
    a mute file at all, stops here (not after an hour of scanning); an entry that is malformed
    (a date that does not exist, 2027-02-30) only mutes nothing."""
    try:
        document = json.loads(read_text(path, MAX_MUTE_BYTES))
    except InputError as exc:
        raise MuteFileError(f"{path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise MuteFileError(f"{path}: not valid JSON: {exc.msg} (line {exc.lineno})") from None
    except RecursionError:
        raise MuteFileError(f"{path}: not a mute file: nested too deeply") from None
    if not isinstance(document, dict) or not isinstance(document.get("mutes"), list):
        raise MuteFileError(f'{path}: not a mute file: expected {{"mutes": [...]}}')
    if set(document) != {"mutes"}:
        raise MuteFileError(f"{path}: /: unexpected keys {sorted(set(document) - {'mutes'})!r}"[:300])
    schema = mute_schema()
    validator = Draft202012Validator({**schema["$defs"]["mute"], "$defs": schema["$defs"]})
    out = MuteFile(path)
    for index, mute in enumerate(document["mutes"]):
        problem = _problem(validator, mute)
        if problem:
            out.warnings.append(f"{path}: /mutes/{index}{problem}: this entry mutes nothing")
        else:
            out.entries.append({**mute, "index": index})
    return out


def _problem(validator: Draft202012Validator, mute: Any) -> str | None:
    errors = sorted(validator.iter_errors(mute), key=lambda e: list(e.path))
    if errors:
        pointer = "".join(f"/{p}" for p in errors[0].absolute_path)
        return f"{pointer}: {escape(errors[0].message, 200)}"
    if "until" in mute:
        try:
            until = date.fromisoformat(mute["until"])
        except ValueError:
            return f"/until: {escape(mute['until'])!r} is no date"
        if until.year < 2000:
            return f"/until: {mute['until']!r} is not a likely date"
    return None


def apply_mutes(findings: list[dict[str, Any]], mutes: list[dict[str, Any]], today: date) -> None:
    """Mark FAIL and UNKNOWN findings that a mute in force covers as MUTED, keeping why. When
    several cover a finding, the first in the file gives the reason."""
    matcher = _Matcher([m for m in mutes if "until" not in m or date.fromisoformat(m["until"]) >= today])
    for finding in findings:
        if finding["status"] not in ("FAIL", "UNKNOWN"):
            continue
        mute = matcher.first(finding["policy_id"], _names(finding))
        if mute is not None:
            finding["suppression"] = {
                "reason": mute["reason"],
                "until": mute.get("until"),
                "was": finding["status"],
                **{key: mute[key] for key in ("owner", "ticket") if key in mute},
            }
            finding["status"] = "MUTED"


def unmatched(mutes: list[dict[str, Any]], findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The mutes that cover no finding of `findings`, whatever its status: stale entries."""
    matcher = _Matcher(mutes)
    hit: set[int] = set()
    for finding in findings:
        hit.update(matcher.matching(finding["policy_id"], _names(finding)))
    return [m for i, m in enumerate(mutes) if i not in hit]


def _names(finding: dict[str, Any]) -> list[str]:
    """What a mute's `resource` may name: the resource's id, its name, its Terraform address."""
    resource = finding["resource"]
    address = (resource.get("source") or {}).get("address")
    return [n for n in (resource["id"], resource.get("name"), address) if n]


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
        found = self.matching(policy, names)
        return self.mutes[min(found)] if found else None

    def matching(self, policy: str, names: list[str]) -> list[int]:
        """Positions of every mute that covers the policy on a resource of these names."""
        found = [self.exact[policy, n] for n in names if (policy, n) in self.exact]
        found += [i for pattern, i in self.by_policy.get(policy, ()) if any(pattern.match(n) for n in names)]
        found += [
            i
            for policy_pattern, pattern, i in self.any_policy
            if policy_pattern.match(policy) and any(pattern.match(n) for n in names)
        ]
        return found


def _wild(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern))
