"""The flow of one scan: documents from an adapter -> derived facts -> policy results."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cloudscan import engine
from cloudscan.checks import (
    DERIVED_FROM,
    READS_OTHERS,
    CheckContext,
    Organizations,
    StorageSeen,
    derive,
    fold_storage,
    waits_for_storage,
)
from cloudscan.model import Document, load_schema, mark_unknown, split_pointer
from cloudscan.policyset import Policy
from cloudscan.progress import CURRENT
from cloudscan.sources import (
    AwsSource,
    AzureSource,
    ConfigSource,
    EndpointSource,
    GcpSource,
    Source,
    TerraformSource,
)


@dataclass
class ScanResult:
    source: str
    policies: list[Policy]
    started_at: str = field(default_factory=lambda: _now())
    finished_at: str | None = None
    resources: list[Document] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    # With --baseline: the comparison (baseline.compare), else None.
    baseline: dict[str, Any] | None = None
    # What the user should know that is no error of the scan: a mute entry that mutes nothing.
    warnings: list[str] = field(default_factory=list)
    # Inputs that were not judged at all (see blocking_errors) fail the run and are alerts in
    # SARIF, not notifications: a pull request cannot go green past a file nobody read.
    fail_closed: bool = False
    # "I/N" when the scan read one shard of the accounts, projects or subscriptions (shard.py).
    shard: str | None = None


# Errors that leave part of the input under scan unjudged: a file that could not be read or
# parsed, or a construct cloudscan failed on. A value that is only unknown (a variable without
# a value, a denied call) is not among them: that is UNKNOWN, and --strict is for it.
BLOCKING_CODES = {"FileError", "InternalError", "LimitExceeded"}
BLOCKING_CALLS = {"terraform:read", "cloudscan:derive", "cloudscan:internal"}


def read_nothing(result: ScanResult) -> dict[str, Any] | None:
    """The first error of a scan that read nothing at all (a listing that failed, endpoints that
    did not answer, a path with no file to scan), or None. Such a scan is no clean result."""
    if any(read_something(r) for r in result.resources):
        return None
    errors = result.errors + [e for r in result.resources for e in r["_meta"]["errors"]]
    # A registry module not fetched is a limit of the scan: its files were read.
    errors = [e for e in errors if e.get("code") not in NOT_FAILURES]
    return errors[0] if errors else None


NOT_FAILURES = {"ModuleNotRead"}


def error_count(result: ScanResult) -> int:
    """Scan errors: what failed for the scan as a whole (a listing, a file), each listed."""
    return len(result.errors)


def resources_with_errors(result: ScanResult) -> int:
    """Resources a read failed for, in part or whole, or cloudscan failed on: each says why
    with its UNKNOWN results (or once, when nothing of it could be read)."""
    return sum(bool(r["_meta"]["errors"]) for r in result.resources)


# Fields a document has before anything is read: what was asked for (the URL of an endpoint,
# its address) and what checks derive.
NOT_READ_FIELDS = {"exposure", "data", "url", "address"}


def read_something(doc: Document) -> bool:
    """Whether any field of the resource was read (what was asked and what is derived do not count)."""
    meta = doc["_meta"]
    unknown = set(meta["unknown"]) | set(meta["not_collected"])
    fields = [f for f in load_schema(doc["kind"])["required"] if f not in NOT_READ_FIELDS]
    # A field of another cloud is null without being unknown: it was not read either.
    return any(doc.get(f) is not None and f"/{f}" not in unknown for f in fields)


def blocking_errors(result: ScanResult) -> list[dict[str, Any]]:
    """Scan errors and resource errors that mean an input was not judged, each with the
    `resource` (a file:line where one is known) it concerns."""

    def blocks(error: dict[str, Any]) -> bool:
        return error.get("code") in BLOCKING_CODES or error.get("call") in BLOCKING_CALLS

    found = [e for e in result.errors if blocks(e)]
    for resource in result.resources:
        source = resource.get("source") or {}
        where = source.get("file")
        if where and source.get("line_start"):
            where = f"{where}:{source['line_start']}"
        found += [
            {**e, "resource": where or resource["id"]} for e in resource["_meta"]["errors"] if blocks(e)
        ]
    return found


def needed_fields(policies: list[Policy], provider: str | None = None) -> dict[str, frozenset[str]]:
    """Top-level blocks of each kind that the policies read, directly or through a check; with
    `provider`, only of the policies that judge its documents (an Azure-only policy on stores
    makes `scan aws` read no data store)."""
    out: dict[str, set[str]] = {}
    for policy in policies:
        if provider is not None and policy.providers is not None and provider not in policy.providers:
            continue
        names = out.setdefault(policy.kind, set())
        for path in policy.paths:
            top = split_pointer(path)[0]
            names.add(top)
            names.update(DERIVED_FROM.get(policy.kind, {}).get(top, []))
            for kind, blocks in READS_OTHERS.get(policy.kind, {}).get(top, {}).items():
                out.setdefault(kind, set()).update(blocks)
    return {kind: frozenset(names) for kind, names in out.items()}


def run(
    source: str,
    documents: Iterable[Document],
    policies: list[Policy],
    context: CheckContext,
    errors: list[dict[str, Any]],
) -> ScanResult:
    """Judge each document as it arrives; `errors` is the adapter's sink for scan-wide failures."""
    result = ScanResult(source=source, policies=policies, errors=errors)
    progress = CURRENT.get()
    if progress is not None:
        progress.errors = errors
        progress.start()
    try:
        _judge_all(documents, policies, context, result, progress)
    finally:
        if progress is not None:
            progress.stop()
    said = [e for e in errors if e.get("warning")]
    errors[:] = [e for e in errors if not e.get("warning")]
    result.warnings += [f"{e['call']}: {e['message']}" for e in said]
    result.finished_at = _now()
    return result


def _judge_all(
    documents: Iterable[Document],
    policies: list[Policy],
    context: CheckContext,
    result: ScanResult,
    progress: Any,
) -> None:
    judgements = engine.Judgements()
    storage, waiting = StorageSeen(), []
    for doc in documents:
        if progress is not None:
            progress.seen(doc["kind"])
        try:
            derive(doc, context)
        except Exception as exc:  # a check's bug must neither pass a resource nor end the scan
            blocks = [f"/{block}" for block in DERIVED_FROM.get(doc["kind"], {})]
            mark_unknown(doc, blocks, call="cloudscan:derive", code=type(exc).__name__, message=str(exc))
        storage.note(doc)
        if waits_for_storage(doc):
            waiting.append(doc)  # few: the stores kept on the customer's own storage
            continue
        result.resources.append(doc)
        result.findings.extend(engine.evaluate(policies, doc, judgements))
    for doc in waiting:
        fold_storage(doc, storage)
        result.resources.append(doc)
        result.findings.extend(engine.evaluate(policies, doc, judgements))


def scan(
    source: Source,
    policies: list[Policy],
    *,
    trusted_accounts: Iterable[str] = (),
    organizations: Organizations | None = None,
) -> ScanResult:
    """The one entry point: read `source`, derive the facts, judge with `policies`."""
    errors: list[dict[str, Any]] = []
    context = CheckContext(frozenset(trusted_accounts), organizations or Organizations())
    return run(source.name, source.documents(errors), policies, context, errors)


def scan_aws(
    session: Any,
    policies: list[Policy],
    *,
    regions: tuple[str, ...] = (),
    trusted_accounts: Iterable[str] = (),
    concurrency: int = 16,
    sampling: Any = None,
    source: str = "api",
    pacing: Any = None,
    aggregator: tuple[str, str | None] | None = None,
    organization_ids: Iterable[str] = (),
) -> ScanResult:
    """Scan an AWS account through `session` (a boto3.Session). `sampling`
    (providers.sampling.Sampling) says how much of each bucket's content to read; `source`
    whether bucket settings come from the S3 API or AWS Config ("inventory", "auto"), and
    `aggregator` (name, region or None) the Config aggregator to read them from first; `pacing`
    (providers.pacing.Pacing) how fast to ask and how often to retry."""
    from cloudscan.organizations import trusted_organizations

    scope = _aws_scope(policies, regions, concurrency, sampling, source, pacing, aggregator)
    organizations = trusted_organizations(session, scope, organization_ids)
    return scan(
        AwsSource(session, scope), policies, trusted_accounts=trusted_accounts, organizations=organizations
    )


def _aws_scope(
    policies: list[Policy],
    regions: tuple[str, ...],
    concurrency: int,
    sampling: Any,
    source: str,
    pacing: Any,
    aggregator: tuple[str, str | None] | None,
) -> Any:
    """What one AWS account's scan reads (providers.aws.AwsScope), for one account or each member."""
    from cloudscan.providers.aws import AwsScope
    from cloudscan.providers.pacing import Pacing
    from cloudscan.providers.sampling import Sampling

    name, region = aggregator or (None, None)
    return AwsScope(
        regions=regions,
        fields=needed_fields(policies, "aws"),
        concurrency=concurrency,
        sampling=sampling or Sampling(),
        source=source,
        pacing=pacing or Pacing(),
        aggregator=name,
        aggregator_region=region,
    )


def scan_aws_organization(
    session: Any,
    policies: list[Policy],
    *,
    members: list[Any],
    access: Any,
    regions: tuple[str, ...] = (),
    trusted_accounts: Iterable[str] = (),
    concurrency: int = 16,
    account_concurrency: int = 4,
    sampling: Any = None,
    shard: Any = None,
    watch: Any = None,
    settings_source: str = "api",
    pacing: Any = None,
    aggregator: tuple[str, str | None] | None = None,
    organization_ids: Iterable[str] = (),
) -> ScanResult:
    """Scan `members` of an AWS Organization (providers.aws.organization.list_members and
    choose), assuming `access` (providers.aws.assume.RoleAccess) in each from `session`'s
    account: `account_concurrency` accounts at a time, each with `concurrency` parallel calls."""
    from cloudscan.organizations import trusted_organizations
    from cloudscan.sources import AwsOrganizationSource

    scope = _aws_scope(policies, regions, concurrency, sampling, settings_source, pacing, aggregator)
    source = AwsOrganizationSource(session, scope, members, access, account_concurrency, watch)
    # Every member belongs to the organization whose accounts were listed: their ARNs name it,
    # and DescribeOrganization is asked only when they do not.
    listed = {m.organization for m in members if getattr(m, "organization", "")}
    organizations = (
        Organizations(frozenset(organization_ids) | listed, None)
        if len(listed) == 1
        else trusted_organizations(session, scope, organization_ids)
    )
    return _sharded(
        scan(source, policies, trusted_accounts=trusted_accounts, organizations=organizations), shard
    )


def scan_gcp(
    clients: Any,
    policies: list[Policy],
    *,
    projects: tuple[str, ...] = (),
    organization: str | None = None,
    folder: str | None = None,
    locations: tuple[str, ...] = (),
    trusted_accounts: Iterable[str] = (),
    concurrency: int = 16,
    sampling: Any = None,
    source: str = "api",
    shard: Any = None,
) -> ScanResult:
    """Scan Google Cloud projects (and every project below `organization` or `folder`) through
    `clients` (providers.gcp.clients.GcpClients); with `shard` (shard.Shard), only its projects."""
    from cloudscan.providers.gcp import GcpScope
    from cloudscan.providers.sampling import Sampling

    scope = GcpScope(
        projects=projects,
        organization=organization,
        folder=folder,
        locations=locations,
        fields=needed_fields(policies, "gcp"),
        concurrency=concurrency,
        sampling=sampling or Sampling(),
        source=source,
        shard=shard,
    )
    return _sharded(scan(GcpSource(clients, scope), policies, trusted_accounts=trusted_accounts), shard)


def scan_azure(
    clients: Any,
    policies: list[Policy],
    *,
    subscriptions: tuple[str, ...] = (),
    management_group: str | None = None,
    trusted_accounts: Iterable[str] = (),
    concurrency: int = 16,
    sampling: Any = None,
    shard: Any = None,
    source: str = "api",
) -> ScanResult:
    """Scan Azure subscriptions (those given; else those below `management_group`; else every
    enabled one) through `clients` (providers.azure.clients.AzureClients); with `shard`
    (shard.Shard), only its subscriptions; `source` "inventory" or "auto": what Resource
    Manager lists, from Azure Resource Graph (providers/azure/graph.py)."""
    from cloudscan.providers.azure import AzureScope
    from cloudscan.providers.sampling import Sampling

    scope = AzureScope(
        subscriptions=subscriptions,
        management_group=management_group,
        fields=needed_fields(policies, "azure"),
        concurrency=concurrency,
        sampling=sampling or Sampling(),
        shard=shard,
        source=source,
    )
    return _sharded(scan(AzureSource(clients, scope), policies, trusted_accounts=trusted_accounts), shard)


def _sharded(result: ScanResult, shard: Any) -> ScanResult:
    result.shard = None if shard is None else str(shard)
    return result


def scan_terraform(
    paths: list[Path],
    policies: list[Policy],
    *,
    var_files: tuple[Path, ...] = (),
    plans: tuple[Path, ...] = (),
    trusted_accounts: Iterable[str] = (),
    organization_ids: Iterable[str] = (),
) -> ScanResult:
    """Judge Terraform configuration (directories are read recursively, one module each), saved
    plans (terraform show -json), and the Orthanc configuration files found under `paths`. The
    files cannot say which AWS Organization the account belongs to: `organization_ids` can."""
    return scan(
        TerraformSource(paths, var_files, plans),
        policies,
        trusted_accounts=trusted_accounts,
        organizations=Organizations.given(organization_ids),
    )


def scan_config(paths: list[Path], policies: list[Policy]) -> ScanResult:
    """Judge PACS server configuration files (Orthanc) only."""
    return scan(ConfigSource(paths), policies)


def scan_dicomweb(
    targets: Any,
    policies: list[Policy],
    *,
    probe: Any = None,
    dimse: Any = None,
    concurrency: int = 32,
    per_host: int = 2,
) -> ScanResult:
    """Probe DICOMweb URLs and DIMSE services (providers.dicomweb.Targets) without credentials,
    unless `probe` (ProbeOptions) asks for the default-login probe."""
    return scan(EndpointSource(targets, probe, dimse, concurrency, per_host), policies)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
