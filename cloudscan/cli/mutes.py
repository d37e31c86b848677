"""cloudscan mutes check: what in a mute file no longer does what its authors meant."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from cloudscan.cli.groups import EXIT_FINDINGS, EXIT_OK, UsageError, cli


@cli.group("mutes")
def mutes_group() -> None:
    """Accepted risks (mute files): check them."""


@mutes_group.command("check")
@click.argument("mute_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A JSON report (--format json) of the scan the mutes are for: entries that match none "
    "of its findings, whatever their status, are listed as stale.",
)
def mutes_check(mute_file: Path, report: Path | None) -> None:
    """List the entries of MUTE_FILE that mute nothing: malformed ones, those past their end
    date and, with --report, those that match no finding any more (the resource was deleted
    or renamed, the policy retired). Exit 0 when there is none, 1 when there are, 2 when the
    file cannot be read at all."""
    from cloudscan.mutes import MuteFileError, load_mutes, unmatched
    from cloudscan.report.escape import escape

    try:
        mutes = load_mutes(mute_file)
    except MuteFileError as exc:
        raise UsageError(str(exc)) from None
    problems = [*mutes.warnings, *mutes.expired(date.today())]
    if report is not None:
        findings = _findings(report)
        problems += [
            f"{mute_file}: /mutes/{m['index']} ({m['policy']} on {m['resource']}) matches no finding "
            f"of {report}"
            for m in unmatched(mutes.entries, findings)
        ]
    for problem in problems:
        click.echo(escape(problem))
    click.echo(
        f"cloudscan: {len(mutes.entries) + len(mutes.warnings)} entries, {len(problems)} to fix", err=True
    )
    sys.exit(EXIT_FINDINGS if problems else EXIT_OK)


def _findings(report: Path) -> list[dict[str, object]]:
    from cloudscan.report.reading import ReportFileError, read_report

    try:
        document = read_report(report, "--report ")
    except ReportFileError as exc:
        raise UsageError(str(exc)) from None
    findings = document.get("findings")
    if not isinstance(findings, list) or not all(_is_finding(f) for f in findings):
        raise UsageError(f"--report {report}: not a cloudscan JSON report (--format json)")
    return findings


def _is_finding(finding: object) -> bool:
    return (
        isinstance(finding, dict)
        and isinstance(finding.get("policy_id"), str)
        and isinstance(finding.get("resource"), dict)
        and isinstance(finding["resource"].get("id"), str)
    )
