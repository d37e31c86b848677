"""From a scan's result to a report, a summary line and an exit code; mutes and policies are
read before the scan so that a broken file fails fast."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cloudscan.cli.groups import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, UsageError
from cloudscan.policyset import SEVERITIES, Policy, PolicyErrors, load_policies, select


def read_inputs(options: dict[str, Any], paths: list[Path] | None = None) -> None:
    """Read the mute file and the baseline before scanning: a broken one is a configuration
    error (exit 2) found before the scan's minutes, not after. Without --mute, the mute file
    is .cloudscan/mutes.json at the root of the repository under scan (for a live scan, the
    one of the working directory), when there is one."""
    from cloudscan.baseline import BaselineError, load_baseline
    from cloudscan.mutes import DEFAULT_MUTE_FILE, MuteFileError, load_mutes
    from cloudscan.providers.scan_root import scan_root

    options["mutes"] = None
    mute_file = options.get("mute_file")
    if mute_file is None and not options.get("no_default_mutes"):
        default = scan_root(paths or [Path.cwd()]) / DEFAULT_MUTE_FILE
        mute_file = default if default.is_file() else None
        if mute_file is not None:
            click.echo(f"cloudscan: accepted risks from {mute_file}", err=True)
    if mute_file is not None:
        try:
            options["mutes"] = load_mutes(mute_file)
        except MuteFileError as exc:
            raise UsageError(str(exc)) from None
    options["baseline_report"] = None
    if options.get("only_new") and not options.get("baseline"):
        raise UsageError("--only-new needs --baseline: new findings are those the baseline does not have")
    if options.get("baseline"):
        source = click.get_current_context().info_name or ""  # each scan command is named for its source
        try:
            options["baseline_report"] = load_baseline(options["baseline"], source)
        except BaselineError as exc:
            raise UsageError(str(exc)) from None


def selected_policies(options: dict[str, Any]) -> list[Policy]:
    try:
        policies = load_policies(options["policy_dirs"], builtin=not options["no_builtin_policies"])
    except PolicyErrors as exc:
        raise UsageError(f"invalid policy:\n{exc}") from None
    selected = select(policies, options.get("only", ()), options.get("skip", ()))
    if not selected:
        raise UsageError("no policy left to run: check --only, --skip and --policies")
    return selected


def report_and_exit(result: Any, options: dict[str, Any]) -> None:
    from datetime import date

    from cloudscan import report
    from cloudscan.mutes import apply_mutes
    from cloudscan.report.escape import escape

    mutes = options.get("mutes")
    if mutes is not None:
        today = date.today()
        apply_mutes(result.findings, mutes.entries, today)
        # An entry that mutes nothing (malformed, or past its date) is said, not silently dropped.
        result.warnings += mutes.warnings + mutes.expired(today)
    for warning in result.warnings:
        click.echo(f"cloudscan: warning: {escape(warning)}", err=True)
    result.fail_closed = options.get("on_unreadable") == "fail"
    if options.get("baseline_report") is not None:
        from cloudscan.baseline import compare

        result.baseline = compare(result, options["baseline_report"], options["baseline"])
        if options.get("only_new"):
            result.findings = [f for f in result.findings if f.get("change") == "new"]

    fmt = report.Format(options["fmt"])
    output: Path | None = options["output"]
    color = output is None and fmt is report.Format.TEXT and sys.stdout.isatty()
    if output is None:
        click.echo(report.render(fmt, result, color=color, verbose=options["verbose"]), nl=False)
    else:
        verbose = options["verbose"]
        _write_atomically(output, lambda stream: report.write(fmt, result, stream, verbose=verbose))
    _summary_line(result)
    sys.exit(exit_code(result, options["fail_on"], options["strict"]))


def _write_atomically(output: Path, write: Callable[[Any], None]) -> None:
    """Write beside `output`, then rename: a reader never sees half a report. What is not a
    regular file (/dev/null, /dev/stdout, a FIFO) is written to as it is, never replaced."""
    import os
    import stat
    import tempfile

    try:
        if output.exists() and not stat.S_ISREG(output.stat().st_mode):
            with open(output, "w", encoding="utf-8") as stream:
                write(stream)
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        descriptor, partial = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(descriptor, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                write(stream)
            os.replace(partial, output)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None


def exit_code(result: Any, fail_on: str, strict: bool) -> int:
    from cloudscan.scan import blocking_errors, read_nothing

    if fail_on != "none":
        threshold = SEVERITIES.index(fail_on)
        # With a baseline, what was already there does not fail the run: only what is new.
        counted = [f for f in result.findings if result.baseline is None or f.get("change") == "new"]
        if any(f["status"] == "FAIL" and SEVERITIES.index(f["severity"]) <= threshold for f in counted):
            return EXIT_FINDINGS
    if read_nothing(result) or (result.fail_closed and blocking_errors(result)):
        return EXIT_INCOMPLETE
    # Incomplete: a result that could not be judged, or an input that could not be read. A call
    # that failed on a field no selected policy reads leaves nothing unjudged.
    incomplete = result.errors or any(f["status"] == "UNKNOWN" for f in result.findings)
    return EXIT_INCOMPLETE if strict and incomplete else EXIT_OK


def _summary_line(result: Any) -> None:
    from cloudscan.report.escape import escape
    from cloudscan.report.summary import summarise
    from cloudscan.scan import error_count, read_nothing

    errors = error_count(result)
    s = summarise(result.findings, len(result.resources), errors)
    failed = ", ".join(f"{n} {sev}" for sev, n in s["failed_by_severity"].items() if n)
    counts = s["results"]
    click.echo(
        f"cloudscan: {s['resources']} resources, {len(result.policies)} policies: "
        f"{counts['FAIL']} FAIL"
        + (f" ({failed})" if failed else "")
        + f", {counts['UNKNOWN']} UNKNOWN, {counts['PASS']} PASS"
        + (f", {counts['MUTED']} MUTED" if counts["MUTED"] else "")
        + f", {errors} error{'' if errors == 1 else 's'}",
        err=True,
    )
    nothing = read_nothing(result)
    if nothing:
        click.echo(
            f"cloudscan: nothing could be judged (exit 3): {nothing['call']} {nothing['code']}: "
            f"{escape(str(nothing['message']))[:300]}",
            err=True,
        )
