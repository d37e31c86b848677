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


def before_scan(options: dict[str, Any], paths: list[Path] | None = None) -> None:
    """Read the mute file and the baseline before scanning: a broken one is a configuration
    error (exit 2) found before the scan's minutes, not after. Without --mute, the mute file
    is .cloudscan/mutes.json at the root of the repository under scan (for a live scan, the
    one of the working directory), when there is one. Then show progress, on a terminal."""
    check_outputs(options)
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
    _start_progress(options)


def selected_policies(options: dict[str, Any]) -> list[Policy]:
    try:
        policies = load_policies(options["policy_dirs"], builtin=not options["no_builtin_policies"])
    except PolicyErrors as exc:
        raise UsageError(f"invalid policy:\n{exc}") from None
    selected = select(policies, options.get("only", ()), options.get("skip", ()))
    if not selected:
        raise UsageError("no policy left to run: check --only, --skip and --policies")
    return selected


def check_outputs(options: dict[str, Any]) -> None:
    """The output options, checked before anything is read (exit 2)."""
    if options.get("post"):
        from cloudscan.report.post import check_url

        problem = check_url(options["post"])
        if problem:
            raise UsageError(f"--post: {problem}")
    formats = options.get("fmt") or ("text",)
    if isinstance(formats, str):
        formats = (formats,)
    options["formats"] = tuple(dict.fromkeys(formats))
    if len(options["formats"]) > 1 and options.get("output_dir") is None:
        raise UsageError("several --format need --output-dir DIR: each report is written there")
    if options.get("output") is not None and options.get("output_dir") is not None:
        raise UsageError("give --output FILE or --output-dir DIR, not both")


def _start_progress(options: dict[str, Any]) -> None:
    """Progress for the scan to come, on a terminal: scan.run draws it while it reads."""
    from cloudscan.progress import CURRENT, Progress, shown

    stderr = click.get_text_stream("stderr")
    if shown(stderr, options.get("quiet", False)):
        CURRENT.set(Progress(stderr))


def _stop_progress() -> None:
    from cloudscan.progress import CURRENT

    progress = CURRENT.get()
    if progress is not None:
        progress.stop()
        CURRENT.set(None)


def settle(result: Any, options: dict[str, Any]) -> None:
    """What the run's options do to a scan's result before it is reported: mutes (and the
    warnings of entries that mute nothing), failing closed on unread input, the baseline."""
    from datetime import date

    from cloudscan.mutes import apply_mutes

    mutes = options.get("mutes")
    if mutes is not None:
        today = date.today()
        apply_mutes(result.findings, mutes.entries, today)
        # An entry that mutes nothing (malformed, or past its date) is said, not silently dropped.
        result.warnings += mutes.warnings + mutes.expired(today)
    result.fail_closed = options.get("on_unreadable") == "fail"
    if options.get("baseline_report") is not None:
        from cloudscan.baseline import compare

        result.baseline = compare(result, options["baseline_report"], options["baseline"])
        if options.get("only_new"):
            result.findings = [f for f in result.findings if f.get("change") == "new"]


def report_and_exit(result: Any, options: dict[str, Any]) -> None:
    from cloudscan import report
    from cloudscan.report.escape import escape

    _stop_progress()
    settle(result, options)
    for warning in result.warnings:
        click.echo(f"cloudscan: warning: {escape(warning)}", err=True)
    formats = [report.Format(f) for f in options.get("formats") or [options["fmt"]]]
    verbose = options["verbose"]
    output_dir: Path | None = options.get("output_dir")
    output: Path | None = options["output"]

    def writer(fmt: report.Format) -> Callable[[Any], None]:
        return lambda stream: report.write(fmt, result, stream, verbose=verbose)

    if output_dir is not None:
        for fmt in formats:
            _write_atomically(output_dir / f"cloudscan.{report.EXTENSIONS[fmt]}", writer(fmt))
    elif output is not None:
        _write_atomically(output, writer(formats[0]))
    else:
        color = formats[0] is report.Format.TEXT and sys.stdout.isatty()
        click.echo(report.render(formats[0], result, color=color, verbose=verbose), nl=False)
    if not options.get("quiet"):
        _summary_line(result)
    code = exit_code(result, options["fail_on"], options["strict"])
    if options.get("post") and not _posted(result, options):
        code = EXIT_INCOMPLETE if code == EXIT_OK else code
    sys.exit(code)


def _posted(result: Any, options: dict[str, Any]) -> bool:
    """Send the findings to --post; False (said on stderr) when they did not all arrive."""
    import os

    from cloudscan.report.post import Delivery, PostError, post

    delivery = Delivery(
        options["post"],
        authorization=os.environ.get(options.get("post_auth_env") or "") or None,
        timeout=options.get("post_timeout") or 10.0,
    )
    try:
        sent = post(result, delivery)
    except PostError as exc:
        click.echo(f"cloudscan: error: findings not posted (the reports are written): {exc}", err=True)
        return False
    if not options.get("quiet"):
        click.echo(f"cloudscan: {sent} findings posted", err=True)
    return True


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
    from cloudscan.scan import error_count, read_nothing, resources_with_errors

    errors, noted = error_count(result), resources_with_errors(result)
    s = summarise(result.findings, len(result.resources), errors, noted)
    failed = ", ".join(f"{n} {sev}" for sev, n in s["failed_by_severity"].items() if n)
    counts = s["results"]
    baseline = result.baseline["counts"] if result.baseline else None
    click.echo(
        f"cloudscan: {s['resources']} resources, {len(result.policies)} policies: "
        f"{counts['FAIL']} FAIL"
        + (f" ({failed})" if failed else "")
        + f", {counts['UNKNOWN']} UNKNOWN, {counts['PASS']} PASS"
        + (f", {counts['MUTED']} MUTED" if counts["MUTED"] else "")
        + (f"; {baseline['new']} new, {baseline['resolved']} resolved" if baseline else "")
        + f"; {errors} scan error{'' if errors == 1 else 's'}"
        + (f", {noted} resource{'' if noted == 1 else 's'} partly unknown" if noted else ""),
        err=True,
    )
    nothing = read_nothing(result)
    if nothing:
        click.echo(
            f"cloudscan: nothing could be judged (exit 3): {nothing['call']} {nothing['code']}: "
            f"{escape(str(nothing['message']))[:300]}",
            err=True,
        )
