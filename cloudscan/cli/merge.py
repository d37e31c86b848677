"""cloudscan merge: the JSON reports of a sharded scan's machines, as one report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cloudscan.cli.groups import UsageError, cli
from cloudscan.cli.options import baseline_options, judging_options, output_options, policy_options


@cli.command("merge")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@output_options(default_format="json")
@judging_options
@baseline_options
@click.option("--verbose", "-v", is_flag=True, help="Text format: list PASS results too.")
@policy_options
def merge_reports(files: tuple[Path, ...], **options: Any) -> None:
    """Combine the JSON reports of one scan's shards (scan ... --shard I/N) into one report.

    FILES are reports written with --format json by the same cloudscan version, of the same
    source and policies. Findings are kept once per fingerprint, resources once per id, errors
    all; the summary is counted again. A shard missing from FILES is an error of the merged
    report (exit 3 with --strict). The merged report can be written in any format: the
    policies' descriptions come from the built-in policies and --policies, which must hold every
    policy the shards ran. Exit codes are those of a scan.
    """
    from cloudscan.cli.output import check_outputs, report_and_exit
    from cloudscan.merge import MergeError, load_report, merge
    from cloudscan.scan import ScanResult

    check_outputs(options)
    try:
        merged = merge([load_report(path) for path in files])
    except MergeError as exc:
        raise UsageError(str(exc)) from None
    result = ScanResult(
        source=merged.source,
        policies=_policies(merged.policy_ids, options),
        started_at=merged.started_at,
        finished_at=merged.finished_at,
        resources=merged.resources,
        findings=merged.findings,
        errors=merged.errors,
        warnings=merged.warnings,
    )
    options.update(mutes=None, post=None, baseline_report=None)
    # Files under scan that could not be read fail a Terraform or config scan closed, as there.
    options["on_unreadable"] = "fail" if merged.source in ("terraform", "config") else None
    if options.get("only_new") and not options.get("baseline"):
        raise UsageError("--only-new needs --baseline: new findings are those the baseline does not have")
    if options.get("baseline"):
        from cloudscan.baseline import BaselineError, load_baseline

        try:
            options["baseline_report"] = load_baseline(options["baseline"], merged.source)
        except BaselineError as exc:
            raise UsageError(str(exc)) from None
    report_and_exit(result, options)


def _policies(ids: list[str], options: dict[str, Any]) -> list[Any]:
    """The policies the shards ran, in their order: what formats other than JSON describe."""
    from cloudscan.policyset import PolicyErrors, load_policies

    try:
        known = {
            p.id: p for p in load_policies(options["policy_dirs"], builtin=not options["no_builtin_policies"])
        }
    except PolicyErrors as exc:
        raise UsageError(f"invalid policy:\n{exc}") from None
    missing = [i for i in ids if i not in known]
    if missing:
        raise UsageError(
            f"the reports were judged with policies this cloudscan does not have: {', '.join(missing[:10])}"
            f"{'...' if len(missing) > 10 else ''}; give the --policies the shards were given"
        )
    return [known[i] for i in ids]
