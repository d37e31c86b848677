"""scan aws, scan gcp and scan azure: live clouds, with their credentials."""

from __future__ import annotations

from typing import Any

import click

from cloudscan.cli.estate import (
    aggregator_of,
    aggregator_options,
    organization_options,
    organization_scope,
    run_aws_organization,
    shard_option,
    source_option,
)
from cloudscan.cli.groups import UsageError, scan
from cloudscan.cli.options import (
    organization_id_option,
    pacing_of,
    pacing_options,
    sample_options,
    sampling_of,
    scan_options,
)
from cloudscan.cli.output import before_scan, report_and_exit, selected_policies
from cloudscan.model import CredentialsRefused
from cloudscan.progress import CURRENT


@scan.command("aws")
@click.option(
    "--profile",
    help="AWS profile from ~/.aws/config. Default: the standard credential "
    "chain (environment, profile, SSO, instance role).",
)
@click.option(
    "--region",
    "regions",
    multiple=True,
    metavar="REGION",
    help="Region to scan for security groups, and to which buckets are limited. "
    "Repeatable. Default: every region enabled for the account, and all buckets.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=16,
    show_default=True,
    help="Parallel API calls (per account, with --organization).",
)
@source_option(
    "Where bucket settings come from: the S3 API (about ten calls a bucket), or AWS Config's "
    "recordings (one call per hundred buckets).",
    "region",
)
@aggregator_options
@organization_options
@organization_id_option
@pacing_options
@sample_options
@scan_options
def scan_aws(
    profile: str | None,
    regions: tuple[str, ...],
    concurrency: int,
    settings_source: str,
    max_rate: float | None,
    max_attempts: int,
    sample: int,
    deep: bool,
    show_object_keys: bool,
    **options: Any,
) -> None:
    """Scan an AWS account, or every account of an AWS Organization: S3 buckets and EC2 security
    groups.

    Honours AWS_ENDPOINT_URL and AWS_PROFILE like the AWS CLI. Needs read-only permissions
    (the SecurityAudit managed policy covers them); with --organization, organizations:ListAccounts
    and sts:AssumeRole on the role in each account, which needs the same read-only permissions.
    The account's AWS Organization is read (organizations:DescribeOrganization) to judge bucket
    policies pinned to an organisation; --organization-id adds organisations to trust (a
    partner's), and stands in for the read where it is refused.
    """
    import boto3  # heavy: imported only when an AWS scan runs
    from botocore.exceptions import BotoCoreError

    organization = organization_scope(options)
    aggregator = aggregator_of(options, settings_source)
    before_scan(options)
    try:
        session = boto3.Session(profile_name=profile)
        credentials = session.get_credentials()
    except BotoCoreError as exc:
        raise UsageError(f"AWS credentials: {exc}") from None
    if credentials is None:
        raise UsageError(
            "no AWS credentials found: set AWS_PROFILE or --profile, AWS_ACCESS_KEY_ID, "
            "or run where an instance or SSO role is available"
        )
    options["sampling"] = sampling_of(sample, deep, show_object_keys)
    options["settings_source"] = settings_source
    options["aggregator"] = aggregator
    options["pacing"] = pacing_of(max_rate, max_attempts)
    if organization is not None:
        run_aws_organization(session, organization, regions, concurrency, options)
    else:
        run_aws(session, regions, concurrency, options)


@scan.command("gcp")
@click.option(
    "--project",
    "projects",
    multiple=True,
    metavar="PROJECT",
    help="Project id to scan. Repeatable. Default: the project of the credentials.",
)
@click.option(
    "--organization",
    metavar="ORG",
    help="Scan every active project below this organization id, through its folders.",
)
@click.option(
    "--folder",
    metavar="FOLDER",
    help="Scan every active project below this folder id, through the folders beneath it.",
)
@click.option(
    "--impersonate-service-account",
    metavar="EMAIL",
    help="Act as this service account (the credentials need roles/iam.serviceAccountTokenCreator on it).",
)
@click.option(
    "--location",
    "locations",
    multiple=True,
    metavar="LOCATION",
    help="Healthcare API location to look for DICOM stores in. Repeatable. Default: every "
    "location the API offers.",
)
@click.option(
    "--anonymous",
    is_flag=True,
    help="Send no credentials: for an emulator or a local test server.",
)
@click.option(
    "--storage-endpoint",
    envvar="STORAGE_EMULATOR_HOST",
    metavar="URL",
    help="Cloud Storage API endpoint (default: Google's). Also read from STORAGE_EMULATOR_HOST.",
)
@click.option(
    "--healthcare-endpoint",
    envvar="CLOUDSCAN_HEALTHCARE_ENDPOINT",
    metavar="URL",
    help="Healthcare API endpoint (env CLOUDSCAN_HEALTHCARE_ENDPOINT).",
)
@click.option(
    "--compute-endpoint",
    envvar="CLOUDSCAN_COMPUTE_ENDPOINT",
    metavar="URL",
    help="Compute API endpoint, without /compute/v1 (env CLOUDSCAN_COMPUTE_ENDPOINT).",
)
@click.option(
    "--resource-manager-endpoint",
    envvar="CLOUDSCAN_RESOURCE_MANAGER_ENDPOINT",
    metavar="URL",
    help="Resource Manager API endpoint (env CLOUDSCAN_RESOURCE_MANAGER_ENDPOINT).",
)
@click.option(
    "--asset-endpoint",
    envvar="CLOUDSCAN_ASSET_ENDPOINT",
    metavar="URL",
    help="Cloud Asset Inventory endpoint, for --source (env CLOUDSCAN_ASSET_ENDPOINT).",
)
@source_option(
    "Where buckets' IAM policies come from: Cloud Storage (a call a bucket), or Cloud Asset "
    "Inventory (a paginated call a project).",
    "project",
)
@click.option(
    "--concurrency", type=click.IntRange(1, 64), default=16, show_default=True, help="Parallel API calls."
)
@shard_option("projects")
@pacing_options
@sample_options
@scan_options
def scan_gcp(
    projects: tuple[str, ...],
    organization: str | None,
    folder: str | None,
    impersonate_service_account: str | None,
    locations: tuple[str, ...],
    anonymous: bool,
    storage_endpoint: str | None,
    healthcare_endpoint: str | None,
    compute_endpoint: str | None,
    resource_manager_endpoint: str | None,
    asset_endpoint: str | None,
    settings_source: str,
    concurrency: int,
    shard: Any,
    max_rate: float | None,
    max_attempts: int,
    sample: int,
    deep: bool,
    show_object_keys: bool,
    **options: Any,
) -> None:
    """Scan Google Cloud projects: Cloud Storage buckets, Healthcare API DICOM stores and VPC
    firewall rules.

    Uses Application Default Credentials (gcloud auth application-default login, or
    GOOGLE_APPLICATION_CREDENTIALS) with the read-only cloud-platform scope. Needs
    roles/iam.securityReviewer (the IAM policies), roles/storage.objectViewer (the content
    sample), roles/healthcare.datasetViewer and dicomStoreViewer, roles/compute.networkViewer,
    and roles/browser for --organization and --folder; every call is a read. Against an emulator, add
    --anonymous and point the APIs it does not serve at a local server: an API out of reach is
    an error naming it, and what it hides is UNKNOWN.
    """
    from cloudscan.providers.gcp.clients import Endpoints, GcpClients, load_credentials
    from cloudscan.scan import scan_gcp as run_gcp

    below = [name for name, value in (("--organization", organization), ("--folder", folder)) if value]
    if (projects and below) or len(below) > 1:
        raise UsageError("give --project, --organization or --folder, one of them")
    before_scan(options)
    try:
        credentials, default_project = load_credentials(
            anonymous=anonymous, impersonate=impersonate_service_account
        )
    except CredentialsRefused as exc:
        hint = " (against an emulator, add --anonymous)" if storage_endpoint else ""
        raise UsageError(f"{exc}{hint}") from None
    if not projects and not below:
        if default_project is None:
            raise UsageError("no project to scan: give --project, --organization or --folder")
        projects = (default_project,)
    endpoints = Endpoints(
        storage_endpoint, healthcare_endpoint, compute_endpoint, resource_manager_endpoint, asset_endpoint
    )
    pacing = pacing_of(max_rate, max_attempts)
    clients = GcpClients(credentials, endpoints, max_pool=concurrency, pacing=pacing)
    policies = selected_policies(options)
    try:
        result = run_gcp(
            clients,
            policies,
            projects=projects,
            organization=organization,
            folder=folder,
            locations=locations,
            concurrency=concurrency,
            trusted_accounts=options["trusted_account"],
            sampling=sampling_of(sample, deep, show_object_keys),
            source=settings_source,
            shard=shard,
        )
    except CredentialsRefused as exc:
        raise UsageError(f"nothing was scanned: {exc}") from None
    report_and_exit(result, options)


def run_aws(session: Any, regions: tuple[str, ...], concurrency: int, options: dict[str, Any]) -> None:

    from cloudscan.scan import scan_aws

    progress = CURRENT.get()
    if progress is not None:  # every API call the scan's clients make, for the progress line
        session.events.register("before-call.*.*", progress.call)
    policies = selected_policies(options)
    try:
        result = scan_aws(
            session,
            policies,
            regions=regions,
            concurrency=concurrency,
            trusted_accounts=options["trusted_account"],
            sampling=options.get("sampling"),
            source=options.get("settings_source", "api"),
            pacing=options.get("pacing"),
            aggregator=options.get("aggregator"),
            organization_ids=options.get("organization_ids", ()),
        )
    except CredentialsRefused as exc:
        raise UsageError(f"nothing was scanned: {exc}") from None
    report_and_exit(result, options)


@scan.command("azure")
@click.option(
    "--subscription",
    "subscriptions",
    multiple=True,
    metavar="ID",
    help="Subscription to scan. Repeatable. Default: every enabled subscription the credentials see.",
)
@click.option(
    "--all-subscriptions",
    is_flag=True,
    help="Scan every enabled subscription the credentials see (the default without --subscription).",
)
@click.option(
    "--management-group",
    metavar="ID",
    help="Scan every subscription below this management group, through its child groups "
    "(needs Reader on the group).",
)
@click.option("--tenant", metavar="ID", help="Entra ID tenant to ask tokens of (multi-tenant identities).")
@click.option(
    "--arm-endpoint",
    envvar="CLOUDSCAN_ARM_ENDPOINT",
    metavar="URL",
    help="Resource Manager endpoint of a sovereign cloud, or a local server (env CLOUDSCAN_ARM_ENDPOINT). "
    "Default: https://management.azure.com.",
)
@click.option(
    "--blob-connection-string",
    envvar="AZURE_STORAGE_CONNECTION_STRING",
    metavar="TEXT",
    help="Reach the blobs of the account it names with this connection string (Azurite, or an account "
    "whose data plane the identity cannot read); env AZURE_STORAGE_CONNECTION_STRING. Never printed.",
)
@source_option(
    "Where storage accounts, network security groups, NICs and DICOM services come from: Resource "
    "Manager's listings, or Azure Resource Graph (a few queries for all subscriptions).",
    "subscription",
)
@click.option(
    "--concurrency", type=click.IntRange(1, 64), default=16, show_default=True, help="Parallel API calls."
)
@shard_option("subscriptions")
@pacing_options
@sample_options
@scan_options
def scan_azure(
    subscriptions: tuple[str, ...],
    all_subscriptions: bool,
    management_group: str | None,
    tenant: str | None,
    arm_endpoint: str | None,
    blob_connection_string: str | None,
    settings_source: str,
    concurrency: int,
    shard: Any,
    max_rate: float | None,
    max_attempts: int,
    sample: int,
    deep: bool,
    show_object_keys: bool,
    **options: Any,
) -> None:
    """Scan Azure subscriptions: storage accounts and blob containers, network security groups,
    Health Data Services DICOM services.

    Uses DefaultAzureCredential (environment, workload or managed identity, Azure CLI login).
    Needs the Reader role on the subscriptions, and Storage Blob Data Reader on accounts whose
    content is sampled; every call is a read (never listKeys or a SAS; a Resource Graph query,
    for --source, is a POST that reads).
    """
    from cloudscan.providers.azure.clients import AzureClients, Endpoints, load_credential
    from cloudscan.scan import scan_azure as run_azure

    chosen = [
        name
        for name, value in (
            ("--subscription", subscriptions),
            ("--all-subscriptions", all_subscriptions),
            ("--management-group", management_group),
        )
        if value
    ]
    if len(chosen) > 1:
        raise UsageError(f"give one of {', '.join(chosen)}")
    before_scan(options)
    try:
        credential = load_credential(tenant)
    except Exception as exc:  # azure-identity raises its own types for a broken environment
        raise UsageError(f"Azure credentials: {exc}") from None
    progress = CURRENT.get()
    clients = AzureClients(
        credential,
        Endpoints(arm=arm_endpoint, blob_connection_string=blob_connection_string),
        on_request=progress.call if progress else None,
        pacing=pacing_of(max_rate, max_attempts),
    )
    policies = selected_policies(options)
    try:
        result = run_azure(
            clients,
            policies,
            subscriptions=subscriptions,
            management_group=management_group,
            concurrency=concurrency,
            trusted_accounts=options["trusted_account"],
            sampling=sampling_of(sample, deep, show_object_keys),
            shard=shard,
            source=settings_source,
        )
    except CredentialsRefused as exc:
        raise UsageError(f"nothing was scanned: {exc}") from None
    report_and_exit(result, options)
