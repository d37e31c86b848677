"""The JSON reports of one scan's shards (--shard I/N), put back together as the report one
machine would have written (cloudscan merge).

Rules, each for a reason:
- Every report must be a valid cloudscan JSON report of this cloudscan version, and of one
  source: fingerprints and policies may differ between versions, and an AWS report merged
  with a GCP one is no scan of anything.
- The policy sets must be equal: a union would claim a policy judged every resource, when the
  shard that did not run it judged none of its own.
- Shards of one scan: one count N, each index at most once (a retried job's second report is
  refused, not silently preferred). A shard missing from the merge is a scan error of the merged
  report, naming it: what it holds was not read, so the report is incomplete, a baseline leaves
  the problems it held unverified rather than resolved, and --strict fails the run. Reports
  without shards (separate scans of separate projects) merge too; mixing both is refused.
- Findings are deduplicated by fingerprint and resources by id. Shards do not overlap, so a
  duplicate is one resource read twice (unsharded reports of overlapping scopes): the report
  whose scan finished last is kept, as the more recent truth.
- Errors are concatenated, warnings deduplicated, the summary recomputed from the merged
  findings, resources and errors; the scan started when the first shard started and finished
  when the last one finished.
- A report compared with a baseline is refused: its `resolved` problems are the whole estate's
  seen from one shard. Merge the shards, then compare the merged report (merge --baseline).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cloudscan import __version__
from cloudscan.model import scan_error
from cloudscan.report.escape import escape
from cloudscan.report.reading import ReportFileError, read_report


class MergeError(Exception):
    """The reports cannot be merged: the message says which file and why (exit 2)."""


@dataclass
class Report:
    path: Path
    body: dict[str, Any]

    @property
    def shown(self) -> str:
        return json.dumps(str(self.path))

    @property
    def scan(self) -> dict[str, Any]:
        return self.body["scan"]

    @property
    def shard(self) -> tuple[int, int] | None:
        text = self.scan.get("shard")
        if not text:
            return None
        index, count = text.split("/")
        return int(index), int(count)


@dataclass
class Merged:
    source: str
    policy_ids: list[str]
    started_at: str
    finished_at: str
    findings: list[dict[str, Any]]
    resources: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    warnings: list[str]


def load_report(path: Path) -> Report:
    """A cloudscan JSON report, checked against cloudscan/schemas/report.json."""
    from jsonschema import Draft202012Validator

    from cloudscan.model import load_schema, schema_registry

    shown = json.dumps(str(path))
    try:
        body = read_report(path)
    except ReportFileError as exc:
        raise MergeError(str(exc)) from None
    validator = Draft202012Validator(load_schema("report"), registry=schema_registry())
    error = next(iter(validator.iter_errors(body)), None)
    if error is not None:
        where = "".join(f"[{json.dumps(p)}]" for p in error.absolute_path)
        raise MergeError(f"{shown}{where} is not as cloudscan writes it: {escape(error.message, 200)}")
    for moment in ("started_at", "finished_at"):
        try:
            _instant(body["scan"][moment])
        except ValueError:
            raise MergeError(f"{shown}: scan.{moment} is not a date and time") from None
    return Report(path, body)


def merge(reports: list[Report]) -> Merged:
    if not reports:
        raise MergeError("no report to merge")
    _same_version_and_source(reports)
    _same_policies(reports)
    if any(r.body.get("baseline") is not None for r in reports):
        with_baseline = next(r for r in reports if r.body.get("baseline") is not None)
        raise MergeError(
            f"{with_baseline.shown} was compared with a baseline: merge the shards' reports made "
            "without --baseline, then compare the merged report (cloudscan merge --baseline FILE)"
        )
    ordered, missing = _in_shard_order(reports)
    latest_first = sorted(reports, key=lambda r: _instant(r.scan["finished_at"]), reverse=True)
    findings = _unique(ordered, latest_first, "findings", "fingerprint")
    resources = _unique(ordered, latest_first, "resources", "id")
    errors = [error for r in ordered for error in r.body["errors"]]
    for index, count in missing:
        errors.append(
            scan_error(
                "cloudscan:merge",
                "ShardMissing",
                f"shard {index}/{count} is not among the reports merged: the accounts, projects or "
                "subscriptions it holds were not scanned",
                f"shard {index}/{count}",
            )
        )
    warnings = list(dict.fromkeys(w for r in ordered for w in r.body.get("warnings") or []))
    return Merged(
        source=reports[0].scan["source"],
        policy_ids=list(reports[0].scan["policies"]),
        started_at=min((r.scan["started_at"] for r in reports), key=_instant),
        finished_at=max((r.scan["finished_at"] for r in reports), key=_instant),
        findings=findings,
        resources=resources,
        errors=errors,
        warnings=warnings,
    )


def _same_version_and_source(reports: list[Report]) -> None:
    for report in reports:
        version = report.body["tool"]["version"]
        if version != __version__:
            raise MergeError(
                f"{report.shown} was written by cloudscan {json.dumps(version)}, this is {__version__}: "
                "fingerprints and policies may differ between versions; merge with the version that scanned"
            )
    first = reports[0]
    for report in reports[1:]:
        if report.scan["source"] != first.scan["source"]:
            raise MergeError(
                f"{report.shown} is a scan of {json.dumps(report.scan['source'])} and {first.shown} of "
                f"{json.dumps(first.scan['source'])}: merge the reports of one scan"
            )


def _same_policies(reports: list[Report]) -> None:
    first = set(reports[0].scan["policies"])
    for report in reports[1:]:
        theirs = set(report.scan["policies"])
        if theirs != first:
            only = sorted(theirs - first) or sorted(first - theirs)
            which = report.shown if theirs - first else reports[0].shown
            raise MergeError(
                f"{report.shown} and {reports[0].shown} ran different policies ({which} alone ran "
                f"{', '.join(only[:5])}{'...' if len(only) > 5 else ''}): every shard must run the same "
                "--only, --skip and --policies, or the merged report would claim a policy judged "
                "what it never saw"
            )


def _in_shard_order(reports: list[Report]) -> tuple[list[Report], list[tuple[int, int]]]:
    """The reports by shard index, and the shards missing; reports without shards as given."""
    shards = [r.shard for r in reports]
    if all(s is None for s in shards):
        return reports, []
    if any(s is None for s in shards):
        unsharded = next(r for r in reports if r.shard is None)
        raise MergeError(
            f"{unsharded.shown} is a whole scan and the others are shards (--shard): "
            "merge the shards of one scan"
        )
    counts = {s[1] for s in shards if s is not None}
    if len(counts) > 1:
        raise MergeError(
            f"the reports are shards of scans split {sorted(counts)} ways: merge one scan's shards"
        )
    count = counts.pop()
    seen: dict[int, Report] = {}
    for report in reports:
        index = report.shard[0] if report.shard else 0
        if index in seen:
            raise MergeError(
                f"shard {index}/{count} is given twice: {seen[index].shown} and {report.shown} "
                "(a job run again? merge one of them)"
            )
        seen[index] = report
    missing = [(i, count) for i in range(1, count + 1) if i not in seen]
    return [seen[i] for i in sorted(seen)], missing


def _unique(ordered: list[Report], latest_first: list[Report], block: str, key: str) -> list[dict[str, Any]]:
    """Items of `block` once by `key`, in shard order, each as the latest-finished scan saw it."""
    order = list(dict.fromkeys(item[key] for r in ordered for item in r.body[block]))
    chosen: dict[str, dict[str, Any]] = {}
    for report in latest_first:
        for item in report.body[block]:
            chosen.setdefault(item[key], item)
    return [chosen[k] for k in order]


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
