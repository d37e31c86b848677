"""The `cloudscan` command line.

Exit codes: 0 no FAIL at or above --fail-on; 1 such findings; 2 usage or configuration error;
3 the scan is incomplete: a file under scan could not be read or a resource could not be judged
(unless --on-unreadable warn), or, with --strict, any result is UNKNOWN.
"""

from __future__ import annotations

import sys

import click

# Each module registers its commands on the groups.
from cloudscan.cli import clouds, endpoints, files, merge, mutes, permissions, policies  # noqa: F401
from cloudscan.cli.groups import EXIT_INTERNAL, cli
from cloudscan.cli.output import exit_code

__all__ = ["cli", "exit_code", "main"]


def main() -> None:
    try:
        cli.main(prog_name="cloudscan", standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception:  # a bug: never let it pass for "findings" (1) or "clean" (0)
        import traceback

        traceback.print_exc()
        click.echo("cloudscan: internal error (exit 4): please report it with the traceback above", err=True)
        sys.exit(EXIT_INTERNAL)
