"""cloudscan demo, and listing, showing and validating policies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from cloudscan.cli.clouds import run_aws
from cloudscan.cli.groups import UsageError, cli
from cloudscan.cli.options import FORMATS, policy_options
from cloudscan.cli.output import before_scan, selected_policies
from cloudscan.policyset import Policy


@cli.command()
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Report format."
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE instead of standard output.",
)
@click.option("--verbose", "-v", is_flag=True, help="List PASS results too.")
def demo(fmt: str, output: Path | None, verbose: bool) -> None:
    """Scan a small simulated AWS account of imaging archives, no cloud account needed.

    The account is built in memory with moto (pip install 'cloudscan[demo]'): a public PACS
    export bucket holding identifiable DICOM (read with --deep), a teleradiology inbox open to
    every AWS user and another account, a
    research bucket saved by Block Public Access, a locked-down archive, and an Orthanc
    server open to the internet. Exits 0 when the demo ran, whatever it found.
    """
    try:
        from cloudscan.demo import demo_account
    except ImportError as exc:
        raise UsageError(
            f"the demo needs moto ({exc.name} is missing): pip install 'cloudscan[demo]'"
        ) from None
    options: dict[str, Any] = {
        "fmt": fmt,
        "output": output,
        "verbose": verbose,
        "fail_on": "none",
        "strict": False,
        "mute_file": None,
        "no_default_mutes": True,  # the demo's account is no one's: no accepted risk of theirs
        "trusted_account": (),
        "policy_dirs": (),
        "no_builtin_policies": False,
        # moto has no HealthImaging: asking it would only print a warning about the demo itself
        "skip": ("dicom-store-*",),
    }
    from cloudscan.providers.sampling import Sampling

    options["sampling"] = Sampling(size=5, deep=True)
    click.echo(
        "cloudscan demo: scanning a simulated AWS account built in memory with moto "
        "(no cloud account is used; the patient in its studies is fictitious)",
        err=True,
    )
    before_scan(options)
    with demo_account() as (session, regions):
        run_aws(session, regions, 8, options)


@cli.group("policies")
def policies_group() -> None:
    """List, show and validate policies."""


def _load_for_listing(policy_dirs: tuple[Path, ...], no_builtin: bool) -> list[Policy]:
    return selected_policies({"policy_dirs": policy_dirs, "no_builtin_policies": no_builtin})


@policies_group.command("list")
@policy_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def policies_list(policy_dirs: tuple[Path, ...], no_builtin_policies: bool, fmt: str) -> None:
    """List every policy: id, severity, kind and title."""
    policies = _load_for_listing(policy_dirs, no_builtin_policies)
    if fmt == "json":
        click.echo(json.dumps([_policy_summary(p) for p in policies], indent=2))
        return
    width = max(len(p.id) for p in policies)
    for p in policies:
        click.echo(f"{p.id:<{width}}  {p.severity:<8}  {p.kind:<17}  {p.meta['title']}")


@policies_group.command("show")
@click.argument("policy_id")
@policy_options
def policies_show(policy_id: str, policy_dirs: tuple[Path, ...], no_builtin_policies: bool) -> None:
    """Print one policy file, metadata and schema, as JSON."""
    for policy in _load_for_listing(policy_dirs, no_builtin_policies):
        if policy.id == policy_id:
            click.echo(json.dumps(policy.schema, indent=2))
            return
    raise UsageError(f"no policy with id {policy_id!r} (see: cloudscan policies list)")


@policies_group.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def policies_validate(paths: tuple[Path, ...]) -> None:
    """Validate policy files: JSON, metadata, JSON Schema, unique ids, and that every
    property path exists in the kind's schema. Without PATHS, validates the built-in set;
    with PATHS, validates them together with the built-in set (ids must not clash)."""
    policies = selected_policies({"policy_dirs": paths, "no_builtin_policies": False})
    click.echo(f"{len(policies)} policies valid")


def _policy_summary(p: Policy) -> dict[str, Any]:
    return {
        "id": p.id,
        "severity": p.severity,
        "category": p.meta["category"],
        "kind": p.kind,
        "providers": p.providers,
        "title": p.meta["title"],
        "file": p.file,
    }
