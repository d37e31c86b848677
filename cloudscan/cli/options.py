"""Options every scan command shares: policies, output, failing, muting, and how much content
a live scan samples."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cloudscan.policyset import SEVERITIES

FORMATS = ("text", "json", "sarif", "html")


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


def scan_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            default="text",
            show_default=True,
            help="Report format: text for people, json for tickets and pipelines, "
            "sarif for GitHub code scanning, html for one self-contained page to share.",
        ),
        click.option(
            "--output",
            "-o",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Write the report to FILE instead of standard output.",
        ),
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
        click.option("--verbose", "-v", is_flag=True, help="Text format: list PASS results too."),
        policy_options,
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


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
