"""cloudscan permissions: the least privilege a live scan needs with the enabled policies,
written from the table the adapters consult (cloudscan/providers/<cloud>/permissions.py)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cloudscan.cli.groups import UsageError, cli
from cloudscan.cli.options import policy_options
from cloudscan.cli.output import selected_policies
from cloudscan.providers.permissions import CLOUDS, EVERY, Needed, least_privilege

DOCUMENTS = {
    "aws": "an IAM policy document (aws iam create-policy --policy-document file://FILE)",
    "gcp": "a custom role (gcloud iam roles create ROLE --organization ORG --file FILE)",
    "azure": "a custom role definition (az role definition create --role-definition @FILE)",
}


@cli.command("permissions")
@click.argument("cloud", type=click.Choice(CLOUDS))
@click.option("--only", multiple=True, metavar="ID", help="As for scan: only these policy ids. Repeatable.")
@click.option("--skip", multiple=True, metavar="ID", help="As for scan: not these policy ids. Repeatable.")
@policy_options
@click.option(
    "--sample",
    type=click.IntRange(0, 100),
    default=5,
    show_default=True,
    help="As for scan: 0 leaves out what the content sample needs (listing and reading objects).",
)
@click.option(
    "--organization",
    is_flag=True,
    help="aws: add what scan aws --organization needs (listing the accounts, assuming the role in "
    "each); gcp: what --organization or --folder needs (listing folders and projects).",
)
@click.option(
    "--source",
    type=click.Choice(["api", "inventory", "auto"]),
    default="api",
    show_default=True,
    help="As for scan aws and scan gcp: inventory or auto add what reading AWS Config or Cloud "
    "Asset Inventory needs (the API's permissions stay: what the inventory cannot answer is read live).",
)
@click.option(
    "--config-aggregator",
    metavar="NAME",
    help="aws, with --source inventory or auto: add what reading an AWS Config aggregator needs "
    "(config:BatchGetAggregateResourceConfig, for the credentials the scan starts with).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "text"]),
    default="json",
    show_default=True,
    help="json: the document the cloud's own tools take; text: each permission, the calls that "
    "need it, what they read (kind and field), and when they are made at all.",
)
def permissions(
    cloud: str,
    only: tuple[str, ...],
    skip: tuple[str, ...],
    policy_dirs: tuple[Path, ...],
    no_builtin_policies: bool,
    sample: int,
    organization: bool,
    source: str,
    config_aggregator: str | None,
    fmt: str,
) -> None:
    """Print what `cloudscan scan CLOUD` needs with the enabled policies, and nothing more.

    \b
    aws    an IAM policy document: one Allow statement of read actions on "*"
    gcp    a custom role: title, includedPermissions, stage GA
    azure  a custom role definition: Actions, DataActions, and AssignableScopes to fill in

    A scan reads only what its enabled policies need, so --only, --skip and --policies shrink
    the list as they shrink the scan. A few permissions serve calls made only where the account
    holds what they read (a managed prefix list, a bucket with fine-grained ACLs); they stay in,
    and --format text says when each call is made. Tests run scans under read-only guards and
    check that every call they make is covered and that nothing listed goes unused.
    """
    from cloudscan.scan import needed_fields

    if organization and cloud == "azure":
        raise UsageError("--organization: scan azure reads management groups with Reader alone")
    if config_aggregator and (cloud != "aws" or source == "api"):
        raise UsageError("--config-aggregator: for aws, with --source inventory or auto")
    options = {"policy_dirs": policy_dirs, "no_builtin_policies": no_builtin_policies}
    policies = selected_policies({**options, "only": only, "skip": skip})
    chosen = {"sample"} if sample > 0 else set()
    chosen |= {"organization"} if organization else set()
    chosen |= {"inventory"} if source != "api" else set()
    chosen |= {"aggregator"} if config_aggregator else set()
    needed, document = least_privilege(cloud, needed_fields(policies, cloud), frozenset(chosen))
    if not needed:
        click.echo(f"cloudscan: these policies read nothing of {cloud}: its scan makes no call", err=True)
    if fmt == "json":
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(text(cloud, needed))


def text(cloud: str, needed: list[Needed]) -> str:
    lines = [f"# What scan {cloud} needs; --format json gives it as {DOCUMENTS[cloud]}."]
    for item in needed:
        lines.append(item.permission + (" (data action)" if item.data else ""))
        reads = "; ".join(_read(kind, field) for kind, field in item.reads)
        only = f" ({', '.join(item.only)})" if item.only else ""
        lines.append(f"    {', '.join(item.calls)}: {reads}{only}")
    return "\n".join(lines)


def _read(kind: str, field: str) -> str:
    if kind == EVERY:
        return "every scan"
    if field == EVERY:
        return kind
    return f"{kind} {field.replace('+', ' with ')}"
