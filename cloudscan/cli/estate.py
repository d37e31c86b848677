"""Options of scans that cover a whole estate: an AWS Organization's accounts through an assumed
role, and `--shard I/N` to split the accounts, projects or subscriptions between machines."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

from cloudscan.cli.groups import UsageError
from cloudscan.shard import Shard, ShardError

ACCOUNT_ID = re.compile(r"\d{12}")
# An IAM role name, optionally behind its path (`audit/cloudscan`), as the role's ARN spells it.
ROLE_NAME = re.compile(r"(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}")
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")
# As AWS Config names aggregators (ConfigurationAggregatorName), and AWS region names.
AGGREGATOR = re.compile(r"[\w-]{1,256}")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")


def _shard(ctx: click.Context, param: click.Parameter, value: str | None) -> Shard | None:
    if value is None:
        return None
    try:
        return Shard.parse(value)
    except ShardError as exc:
        raise click.BadParameter(str(exc)) from None


def shard_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--shard",
        metavar="I/N",
        callback=_shard,
        help=f"Scan only shard I of N (I from 1 to N) of the {what}: a hash of each id picks its "
        "shard, so N machines each run one and `cloudscan merge` combines their JSON reports. "
        "A Kubernetes Indexed Job gives $((JOB_COMPLETION_INDEX + 1))/N.",
    )


def source_option(what: str, unit: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--source: `what` says where settings come from either way; `unit` is what falls back."""
    return click.option(
        "--source",
        "settings_source",
        type=click.Choice(["api", "inventory", "auto"]),
        default="api",
        show_default=True,
        help=f"{what} Each recorded document says when it was recorded, and what the inventory does "
        f"not carry is read live. A {unit} whose inventory cannot answer is read through the API: "
        "with a warning for 'inventory', silently for 'auto'.",
    )


def organization_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        click.option(
            "--organization",
            is_flag=True,
            help="Scan every active account of the AWS Organization that the credentials' account "
            "manages (the management account, or a delegated administrator), through --role-name.",
        ),
        click.option(
            "--role-name",
            metavar="ROLE",
            help="With --organization: the role to assume in each account "
            "(arn:aws:iam::ACCOUNT:role/ROLE), read-only, trusting the credentials' account.",
        ),
        click.option(
            "--external-id",
            envvar="CLOUDSCAN_AWS_EXTERNAL_ID",
            metavar="ID",
            help="With --organization: the external id the role's trust policy asks for "
            "(env CLOUDSCAN_AWS_EXTERNAL_ID). Never printed.",
        ),
        click.option(
            "--accounts",
            "account_lists",
            multiple=True,
            metavar="ID[,ID...]",
            help="With --organization: scan only these account ids. Repeatable, or comma-separated.",
        ),
        click.option(
            "--account-concurrency",
            type=click.IntRange(1, 32),
            default=4,
            show_default=True,
            help="With --organization: accounts scanned at once, each with --concurrency parallel calls "
            "(so at most their product in flight). AWS throttles per account: --concurrency is what "
            "meets its limits.",
        ),
        shard_option("organization's accounts (needs --organization)"),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def aggregator_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option(
        "--config-aggregator-region",
        metavar="REGION",
        help="With --config-aggregator: the region the aggregator lives in. Default: the "
        "credentials' region (AWS_DEFAULT_REGION, the profile's), else us-east-1.",
    )(fn)
    return click.option(
        "--config-aggregator",
        metavar="NAME",
        help="With --source inventory or auto: read bucket settings from this AWS Config aggregator "
        "(one call per hundred buckets of an account, whatever their regions), with the credentials' "
        "own permissions (the management account or Config's delegated administrator), instead "
        "of each account's own Config. An aggregator that cannot answer is said once (a warning for "
        "'inventory') and each account's own Config, then the API, answers instead.",
    )(fn)


def aggregator_of(options: dict[str, Any], source: str) -> tuple[str, str | None] | None:
    """The --config-aggregator options, checked (exit 2), and taken out of `options`."""
    name, region = options.pop("config_aggregator"), options.pop("config_aggregator_region")
    if name is None:
        if region is not None:
            raise UsageError("--config-aggregator-region needs --config-aggregator")
        return None
    if source == "api":
        raise UsageError("--config-aggregator needs --source inventory or auto")
    if not AGGREGATOR.fullmatch(name):
        raise UsageError("--config-aggregator: 1 to 256 letters, digits, _ and - only")
    if region is not None and not REGION.fullmatch(region):
        raise UsageError(f"--config-aggregator-region: not an AWS region name: {region!r}")
    return name, region


@dataclass(frozen=True)
class OrganizationScope:
    role_name: str
    external_id: str | None = field(default=None, repr=False)
    accounts: tuple[str, ...] = ()
    parallel: int = 4
    shard: Shard | None = None


def organization_scope(options: dict[str, Any]) -> OrganizationScope | None:
    """The --organization options, checked (exit 2); None for a scan of one account. Takes the
    options out of `options`."""
    enabled = options.pop("organization")
    role, external_id = options.pop("role_name"), options.pop("external_id")
    lists, parallel = options.pop("account_lists"), options.pop("account_concurrency")
    shard: Shard | None = options.pop("shard")
    accounts = tuple(dict.fromkeys(a.strip() for text in lists for a in text.split(",") if a.strip()))
    if not enabled:
        given = [
            name
            for name, value in (
                ("--role-name", role),
                ("--external-id", external_id),
                ("--accounts", accounts),
            )
            if value
        ]
        if shard is not None:
            given.append("--shard")
        if given:
            raise UsageError(f"{', '.join(given)} {'needs' if len(given) == 1 else 'need'} --organization")
        return None
    if not role:
        raise UsageError("--organization needs --role-name: the role to assume in each account")
    if not ROLE_NAME.fullmatch(role):
        raise UsageError(f"--role-name: not an IAM role name: {role!r}")
    if external_id is not None and not EXTERNAL_ID.fullmatch(external_id):
        raise UsageError("--external-id: 2 to 1224 letters, digits and +=,.@:/- only")
    bad = [a for a in accounts if not ACCOUNT_ID.fullmatch(a)]
    if bad:
        raise UsageError(f"--accounts: not a 12-digit AWS account id: {', '.join(map(repr, bad))}")
    return OrganizationScope(role, external_id, accounts, parallel, shard)


def run_aws_organization(
    session: Any,
    scope: OrganizationScope,
    regions: tuple[str, ...],
    concurrency: int,
    options: dict[str, Any],
) -> None:
    from cloudscan.cli.output import report_and_exit, selected_policies
    from cloudscan.model import CredentialsRefused
    from cloudscan.progress import CURRENT
    from cloudscan.providers.aws.assume import RoleAccess
    from cloudscan.providers.aws.organization import OrganizationError, choose, list_members
    from cloudscan.scan import scan_aws_organization

    progress = CURRENT.get()

    def watch(acting: Any) -> None:  # every API call of every account, for the progress line
        if progress is not None:
            acting.events.register("before-call.*.*", progress.call)

    watch(session)
    policies = selected_policies(options)
    try:
        listed = list_members(session)
        members = choose(listed, scope.accounts, scope.shard)
    except OrganizationError as exc:
        raise UsageError(str(exc)) from None
    if not options.get("quiet"):
        shard = f" (shard {scope.shard})" if scope.shard else ""
        click.echo(f"cloudscan: {len(members)} of {len(listed)} active accounts to scan{shard}", err=True)
    try:
        result = scan_aws_organization(
            session,
            policies,
            members=members,
            access=RoleAccess(scope.role_name, scope.external_id),
            regions=regions,
            concurrency=concurrency,
            account_concurrency=scope.parallel,
            trusted_accounts=options["trusted_account"],
            sampling=options.get("sampling"),
            settings_source=options.get("settings_source", "api"),
            pacing=options.get("pacing"),
            aggregator=options.get("aggregator"),
            organization_ids=options.get("organization_ids", ()),
            shard=scope.shard,
            watch=watch,
        )
    except CredentialsRefused as exc:
        raise UsageError(f"nothing was scanned: {exc}") from None
    refused = [e for e in result.errors if e["call"] == "sts:AssumeRole"]
    if refused and not options.get("quiet"):
        from cloudscan.report.escape import escape

        names = ", ".join(f"{e['resource'].removeprefix('aws-account/')} ({e['code']})" for e in refused[:10])
        more = f" and {len(refused) - 10} more" if len(refused) > 10 else ""
        click.echo(
            f"cloudscan: {len(members) - len(refused)} of {len(members)} accounts scanned; the role was "
            f"refused in {escape(names)}{more}: see the report's errors",
            err=True,
        )
    report_and_exit(result, options)
