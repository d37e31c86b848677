"""The command groups, and the exit codes every command shares."""

from __future__ import annotations

import click

from cloudscan import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE, EXIT_INTERNAL = 0, 1, 2, 3, 4


class UsageError(click.ClickException):
    exit_code = EXIT_USAGE


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="cloudscan")
def cli() -> None:
    """Find medical-imaging archives left open in the cloud.

    cloudscan enumerates buckets, grants and network rules, and probes DICOMweb and DICOM
    endpoints, derives who can reach them, and judges them against JSON-Schema policies for
    public exposure, broad access and weak authentication. It only reads: List, Get, Describe
    and Head calls, and endpoint probes that ask about a study that cannot exist (the STOW-RS
    probe POSTs a body no server can store; default logins only with --probe-credentials).

    \b
    Exit codes:
      0  no FAIL at or above --fail-on
      1  FAIL results at or above --fail-on
      2  usage or configuration error (bad option, malformed policy, no credentials)
      3  incomplete scan: a file under scan could not be read (scan terraform and scan
         config, unless --on-unreadable warn), or, with --strict, UNKNOWN results
      4  internal error (a bug in cloudscan)
    """


@cli.group()
def scan() -> None:
    """Scan a live account, DICOMweb and DICOM endpoints, or Terraform before it is applied."""
