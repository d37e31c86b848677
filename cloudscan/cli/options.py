"""Options every scan command shares: policies, output, failing, muting, and how much content
a live scan samples."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cloudscan.policyset import SEVERITIES

# The names of cloudscan.report.Format, written out: importing the reports here would load the
# scan machinery before any command is chosen (tests/test_report_formats.py keeps them equal).
FORMATS = ("text", "json", "sarif", "jsonl", "csv", "junit", "ocsf", "html")


def policy_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option(
        "--policies",
        "policy_dirs",
        multiple=True,
        type=click.Path(path_type=Path),
        help="Directory or file of extra policies (JSON Schema). Repeatable. Added to the built-in policies.",
    )(fn)
    fn = click.option(
        "--no-builtin-policies", is_flag=True, help="Use only the policies given with --policies."
    )(fn)
    return fn


def on_unreadable_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--on-unreadable",
        type=click.Choice(["fail", "warn"]),
        default="fail",
        show_default=True,
        help="What a file under scan that cannot be read (a syntax error, a symlink to a device, "
        "a file too large) or a resource cloudscan fails on does to the run: fail (exit 3, "
        "and an error-level alert on that file in SARIF) or warn (a notification only). "
        "Values that are only unknown (a variable without a value) are UNKNOWN either way.",
    )(fn)


Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _apply(options: list[Decorator], fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(options):
        fn = option(fn)
    return fn


def output_options(default_format: str = "text") -> Decorator:
    """Where the report goes and in which formats (scan and merge)."""
    options: list[Decorator] = [
        click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            multiple=True,
            default=(default_format,),
            show_default=True,
            help="Report format: text for people, json for tickets and pipelines, "
            "sarif for GitHub code scanning, jsonl for queues (a finding a line), csv for "
            "spreadsheets, junit for CI test reports, ocsf for SIEMs (OCSF Detection Findings), "
            "html for one self-contained page to share. "
            "Repeatable with --output-dir: one scan, every report.",
        ),
        click.option(
            "--output",
            "-o",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Write the report to FILE instead of standard output (written whole or not at all).",
        ),
        click.option(
            "--output-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Write each --format to DIR/cloudscan.<format's extension> (txt, json, sarif...), "
            "each written whole or not at all.",
        ),
        click.option(
            "--quiet",
            "-q",
            is_flag=True,
            help="No progress and no summary line on stderr (warnings and errors still go there). "
            "Progress is only ever shown when stderr is a terminal.",
        ),
    ]
    return lambda fn: _apply(options, fn)


def judging_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """What fails the run: the exit code's options."""
    options: list[Decorator] = [
        click.option(
            "--fail-on",
            type=click.Choice([*SEVERITIES, "none"]),
            default="low",
            show_default=True,
            help="Exit 1 when a FAIL of this severity or higher is found; 'none' never does.",
        ),
        click.option(
            "--strict",
            is_flag=True,
            help="Exit 3 when any result is UNKNOWN or an input could not be read (incomplete "
            "scan), unless exit 1 applies.",
        ),
    ]
    return _apply(options, fn)


def baseline_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options: list[Decorator] = [
        click.option(
            "--baseline",
            type=click.Path(dir_okay=False, path_type=Path),
            help="A previous JSON report (--format json) of the same kind of scan and cloudscan "
            "version. Each FAIL and UNKNOWN is marked new or unchanged, problems of the baseline "
            "that are gone are listed as resolved (so tickets can close), and --fail-on counts "
            "new FAILs only.",
        ),
        click.option(
            "--only-new",
            is_flag=True,
            help="With --baseline: report only the new problems (for pull requests).",
        ),
    ]
    return _apply(options, fn)


def scan_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options: list[Decorator] = [
        output_options(),
        judging_options,
        click.option(
            "--only",
            multiple=True,
            metavar="ID",
            help="Run only these policy ids (shell wildcards allowed). Repeatable.",
        ),
        click.option(
            "--skip",
            multiple=True,
            metavar="ID",
            help="Do not run these policy ids (shell wildcards allowed). Repeatable.",
        ),
        click.option(
            "--trusted-account",
            multiple=True,
            metavar="ID",
            help="Whose access is intended, e.g. a vendor's: an AWS account id or S3 canonical user id, "
            "a Google Cloud project id. Repeatable.",
        ),
        click.option(
            "--mute",
            "mute_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help='JSON file of accepted risks ({"mutes": [{"policy", "resource", '
            '"reason", "until"}]}): matching findings are reported as MUTED '
            "with their reason and no longer fail the run.",
        ),
        baseline_options,
        click.option(
            "--post",
            metavar="URL",
            help="Also send the FAIL and UNKNOWN findings (with --baseline: the new and the "
            "resolved ones) as JSON to this webhook, in batches of 500, after the reports are "
            "written; retried with back-off. https only (http to this machine). A failed "
            "delivery is said on stderr and makes a clean run exit 3.",
        ),
        click.option(
            "--post-auth-env",
            metavar="VAR",
            default="CLOUDSCAN_POST_AUTHORIZATION",
            show_default=True,
            help="Environment variable whose value is sent as the webhook's Authorization header "
            "(e.g. 'Bearer ...'); never printed.",
        ),
        click.option(
            "--post-timeout",
            type=click.FloatRange(0.1, 300),
            default=10.0,
            show_default=True,
            help="Seconds to wait for the webhook's answer, per attempt.",
        ),
        click.option("--verbose", "-v", is_flag=True, help="Text format: list PASS results too."),
        policy_options,
    ]
    return _apply(options, fn)


def sample_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """How much of each bucket's content a live scan reads (AWS and Google Cloud alike)."""
    for option in reversed(
        [
            click.option(
                "--sample",
                type=click.IntRange(0, 100),
                default=5,
                show_default=True,
                help="Objects per bucket whose first 132 bytes are read to tell DICOM (imaging-looking "
                "keys first). 0 reads no object.",
            ),
            click.option(
                "--deep",
                is_flag=True,
                help="Also read the header (first 64 KiB, no pixels) of sampled DICOM objects to tell "
                "identifiable from de-identified studies. Tag names only are kept, never values.",
            ),
            click.option(
                "--show-object-keys",
                is_flag=True,
                help="Show sampled object keys as they are. By default every part that is not a UID "
                "is hashed, since keys can carry patient names.",
            ),
        ]
    ):
        fn = option(fn)
    return fn


def sampling_of(sample: int, deep: bool, show_object_keys: bool) -> Any:
    from cloudscan.providers.sampling import Sampling

    return Sampling(size=sample, deep=deep, show_keys=show_object_keys)


def pacing_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """How fast a live scan asks a cloud, apart from how many requests run at once."""
    fn = click.option(
        "--max-attempts",
        type=click.IntRange(1, 20),
        default=8,
        show_default=True,
        help="Tries of one request, the first included, when the cloud throttles it (429, 503 SlowDown, "
        "Throttling) or fails it for a moment (5xx). Throttled requests back off before each try.",
    )(fn)
    fn = click.option(
        "--max-rate",
        type=click.FloatRange(0, min_open=True),
        metavar="N",
        help="At most N requests a second to each service (S3, EC2, Cloud Storage, Resource Manager, "
        "a storage account...), however many run at once. Default: no limit beyond --concurrency.",
    )(fn)
    return fn


def pacing_of(max_rate: float | None, max_attempts: int) -> Any:
    from cloudscan.providers.pacing import Pacing

    return Pacing(max_rate=max_rate, max_attempts=max_attempts)


ORGANIZATION_ID = re.compile(r"o-[a-z0-9]{10,32}")


def _organization_ids(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    bad = [v for v in value if not ORGANIZATION_ID.fullmatch(v)]
    if bad:
        shown = ", ".join(repr(v[:40]) for v in bad)
        raise click.BadParameter(f"not an AWS Organizations id (o- and 10 to 32 letters or digits): {shown}")
    return tuple(dict.fromkeys(value))


def organization_id_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The AWS Organizations whose accounts are trusted, for grants pinned to one (aws:PrincipalOrgID...)."""
    return click.option(
        "--organization-id",
        "organization_ids",
        multiple=True,
        metavar="o-ID",
        callback=_organization_ids,
        help="An AWS Organization whose accounts are trusted: a bucket policy pinned to it "
        "(aws:PrincipalOrgID, aws:PrincipalOrgPaths, aws:SourceOrgID, aws:SourceOrgPaths) is no "
        "grant to another account. Repeatable. A live scan also reads the account's own with "
        "organizations:DescribeOrganization; without either, such grants are UNKNOWN.",
    )(fn)
