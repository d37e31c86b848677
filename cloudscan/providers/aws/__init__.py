"""AWS: S3 buckets (with the CloudFront distributions that serve them), EC2 security-group
ingress, HealthImaging data stores, and EBS and RDS snapshots, read with an injected boto3
session."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

from cloudscan.model import CredentialsRefused, Document, scan_error, scan_warning
from cloudscan.providers import ReadsFields
from cloudscan.providers.aws import cloudfront, ec2, healthimaging, inventory, s3
from cloudscan.providers.aws import snapshots as aws_snapshots
from cloudscan.providers.aws.access_points import AccessPointListing
from cloudscan.providers.aws.aggregator import Aggregator, AggregatorUnusable
from cloudscan.providers.aws.calls import error_of, persist
from cloudscan.providers.aws.clients import AwsClients
from cloudscan.providers.aws.permissions import TABLE
from cloudscan.providers.fanout import read_safely
from cloudscan.providers.pacing import Pacing
from cloudscan.providers.sampling import Sampling


@dataclass(frozen=True)
class AwsScope(ReadsFields):
    """What to read (see ReadsFields for `fields`)."""

    regions: tuple[str, ...] = ()
    fields: dict[str, frozenset[str]] | None = None
    concurrency: int = 16
    sampling: Sampling = field(default_factory=Sampling)
    # Where bucket settings come from: the API; AWS Config's recordings, read live where it
    # cannot answer, with a warning ("inventory"); or the same without the warning ("auto").
    source: str = "api"
    pacing: Pacing = field(default_factory=Pacing)
    # With an inventory source: the AWS Config aggregator to read bucket items from (with the
    # scanner's own credentials) before each account's own Config, and the region it lives in
    # (None: the credentials' default region).
    aggregator: str | None = None
    aggregator_region: str | None = None


def enumerate_aws(
    session: Any,
    scope: AwsScope,
    errors: list[dict[str, Any]],
    *,
    account: str | None = None,
    aggregator: Aggregator | None = None,
) -> Iterator[Document]:
    """Yield documents as they are read; account-wide failures go to `errors`. `account` is the
    account the session acts in when it is known beforehand (a member of an organization): the
    documents carry it even when sts:GetCallerIdentity fails. `aggregator` is scope.aggregator
    as asked with the scanner's own credentials (an organization's accounts share one); made
    from `session` when not given."""
    clients = AwsClients(session, max_pool=scope.concurrency, pacing=scope.pacing)
    account = _account_id(clients, errors) or account
    if aggregator is None and scope.aggregator and scope.source != "api":
        aggregator = Aggregator(clients, scope.aggregator, scope.aggregator_region)
    with ThreadPoolExecutor(max_workers=scope.concurrency, thread_name_prefix="cloudscan-aws") as pool:
        reading = _Reading(clients, pool, scope, account, errors, aggregator)
        account_bpa = {}
        if scope.makes(TABLE, "s3control:GetPublicAccessBlock"):
            account_bpa = s3.read_account_block_public_access(clients, account)
        if scope.wants("storage.account"):
            yield from accounts(reading, account_bpa)
        if scope.wants("storage.bucket"):
            yield from buckets(reading, account_bpa)
        if scope.wants("network.ingress"):
            yield from ingress_rules(reading)
        if scope.wants("dicom.store"):
            yield from dicom_stores(reading)
        if scope.wants("storage.snapshot"):
            yield from snapshots(reading)


@dataclass
class _Reading:
    """What every reader of one account's scan shares."""

    clients: AwsClients
    pool: ThreadPoolExecutor
    scope: AwsScope
    account: str | None
    errors: list[dict[str, Any]]
    aggregator: Aggregator | None = None

    @property
    def bucket_fields(self) -> frozenset[str]:
        return self.scope.fields_of("storage.bucket", s3.BUCKET_FIELDS)

    @cached_property
    def regions(self) -> list[str]:
        """The regions of regional resources: those asked for, or every enabled one (asked once
        for security groups and snapshots alike)."""
        return list(self.scope.regions) or ec2.enabled_regions(self.clients, self.errors)


# The readers have the names of the Terraform mappers' and the other clouds' readers.


def accounts(reading: _Reading, account_bpa: dict[str, Any]) -> Iterator[Document]:
    yield s3.describe_account(reading.account, account_bpa)


def buckets(reading: _Reading, account_bpa: dict[str, Any]) -> Iterator[Document]:
    regions = frozenset(reading.scope.regions) or None
    listed = s3.list_buckets(reading.clients, reading.errors)
    # The account's CloudFront distributions by bucket, read once for all its buckets.
    distributions = None
    if listed and reading.scope.makes(TABLE, cloudfront.CALL):
        distributions = cloudfront.read_distributions(reading.clients)
    items, origin = recorded_buckets(reading, listed) if reading.scope.source != "api" else ({}, {})
    # Listed once per region of the account, on first use, for every bucket of that region.
    access_points = None
    if reading.scope.makes(TABLE, "s3control:ListAccessPoints"):
        access_points = AccessPointListing(reading.clients, reading.account)
    futures = [
        reading.pool.submit(
            read_safely,
            reading.errors,
            f"arn:aws:s3:::{bucket['Name']}",
            partial(
                _listed,
                _describe,
                reading.clients,
                bucket,
                items.get(bucket["Name"]),
                origin,
                account=reading.account,
                account_bpa=account_bpa,
                distributions=distributions,
                fields=reading.bucket_fields,
                regions=regions,
                sampling=reading.scope.sampling,
                access_points=access_points,
            ),
            error_of,
        )
        for bucket in listed
    ]
    for future in futures:
        yield from future.result()


def recorded_buckets(
    reading: _Reading, listed: list[dict[str, Any]]
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """AWS Config's latest item of each bucket, and where it came from: the aggregator when
    there is one and it answers, else the Config of the bucket's region; a region whose Config
    cannot answer is read through the API. Falling back is said as a warning ("inventory")."""
    by_region: dict[str, list[str]] = {}
    scanned = frozenset(reading.scope.regions)
    for bucket in listed:
        region = bucket.get("BucketRegion") or s3.location(reading.clients, bucket["Name"])
        if region:
            bucket["BucketRegion"] = region  # asked once: describe_bucket does not ask again
            if not scanned or region in scanned:  # the others are not described
                by_region.setdefault(region, []).append(bucket["Name"])
    warn = reading.scope.source == "inventory"
    if reading.aggregator is not None and reading.account and by_region:
        aggregator = reading.aggregator
        try:
            items = aggregator.recorded(reading.account, by_region)
            for region, names in sorted(by_region.items()) if warn else ():
                if not any(name in items for name in names):  # not among its sources, likely
                    message = (
                        f"AWS Config aggregator {aggregator.name} holds none of the {len(names)} buckets of "
                        f"account {reading.account} in {region}; they are read through the API"
                    )
                    reading.errors.append(scan_warning("config:BatchGetAggregateResourceConfig", message))
            return items, {"aggregator": aggregator.name}
        except AggregatorUnusable as exc:
            if exc.first and warn:
                message = (
                    f"AWS Config aggregator {aggregator.name} in {aggregator.region} cannot answer ({exc}); "
                    "each account's buckets are read from its own Config, or through the API"
                )
                reading.errors.append(scan_warning("config:BatchGetAggregateResourceConfig", message))
    out: dict[str, dict[str, Any]] = {}
    for region, names in sorted(by_region.items()):
        try:
            out.update(inventory.recorded(reading.clients.client("config", region), names))
        except inventory.Unusable as exc:
            if warn:
                message = (
                    f"AWS Config in {region} cannot answer ({exc}); its buckets are read through the API"
                )
                reading.errors.append(scan_warning("config:BatchGetResourceConfig", message))
    return out, {}


def _describe(
    clients: AwsClients,
    bucket: dict[str, Any],
    item: dict[str, Any] | None,
    origin: dict[str, str],
    distributions: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """A bucket from the API, or from its recorded item where Config carries the setting, with
    the CloudFront distributions that serve it; `origin` names the aggregator the item came
    from, if any."""
    if item is None:
        doc = s3.describe_bucket(clients, bucket, **kwargs)
    else:
        doc = s3.describe_bucket(_Recorded(clients, item), bucket, **kwargs)
    if doc is not None and distributions is not None:
        cloudfront.attach(doc, distributions)
    if doc is not None and item is not None:
        asked = {f"/{f}" for f in kwargs["fields"]}
        answered = [p for p in inventory.RECORDED_CALLS.values() if any(p.startswith(a) for a in asked)]
        doc["source"] = {
            "type": "inventory",
            "service": "aws-config",
            "recorded_at": _iso(item.get("configurationItemCaptureTime")),
            "recorded": answered,
            **origin,
        }
    return doc


def _iso(when: Any) -> str | None:
    """boto3 gives the capture time as a datetime."""
    return when.isoformat() if hasattr(when, "isoformat") else (str(when) if when else None)


class _Recorded:
    """The scan's clients, with the bucket's S3 client answering from its recorded item."""

    def __init__(self, clients: AwsClients, item: dict[str, Any]) -> None:
        self.clients, self.item = clients, item

    def client(self, service: str, region: str | None = None) -> Any:
        live = self.clients.client(service, region)
        return inventory.RecordedS3(live, self.item) if service == "s3" else live


def ingress_rules(reading: _Reading) -> Iterator[Document]:
    futures = [
        reading.pool.submit(
            read_safely,
            reading.errors,
            f"security groups in {region}",
            partial(_rules_of_region, reading.clients, region, reading.account, reading.errors),
            error_of,
        )
        for region in reading.regions
    ]
    for future in futures:
        yield from future.result()


def dicom_stores(reading: _Reading) -> Iterator[Document]:
    """HealthImaging data stores of the regions scanned (those it is offered in, without
    --region): each region listed, then each store read, side by side on the pool."""
    regions = list(reading.scope.regions) or list(healthimaging.OFFERED_REGIONS)
    not_offered: list[str] = []
    listings = [
        (
            region,
            reading.pool.submit(
                read_safely,
                reading.errors,
                f"HealthImaging data stores in {region}",
                partial(healthimaging.list_stores, reading.clients, region, reading.errors, not_offered),
                error_of,
            ),
        )
        for region in regions
    ]
    fields = reading.scope.fields_of("dicom.store", healthimaging.STORE_FIELDS)
    futures = [
        reading.pool.submit(
            read_safely,
            reading.errors,
            store.get("datastoreArn") or store["datastoreId"],
            partial(
                _listed,
                healthimaging.describe_store,
                reading.clients,
                store,
                region=region,
                account=reading.account,
                fields=fields,
            ),
            error_of,
        )
        for region, listing in listings
        for store in listing.result()
    ]
    if not_offered:
        reading.errors.append(healthimaging.not_offered_warning(not_offered))
    for future in futures:
        yield from future.result()


def snapshots(reading: _Reading) -> Iterator[Document]:
    """Each region's listings run on the pool and queue the read of each snapshot's sharing on
    it without waiting; this thread collects the documents in the listings' order."""
    fields = reading.scope.fields_of("storage.snapshot", aws_snapshots.SNAPSHOT_FIELDS)

    def submit(what: str, read: Any, *args: Any) -> Future[list[Document]]:
        return reading.pool.submit(read_safely, reading.errors, what, partial(read, *args), error_of)

    listed = [
        reading.pool.submit(
            aws_snapshots.region_snapshots,
            reading.clients,
            region,
            reading.account,
            reading.errors,
            fields,
            submit,
        )
        for region in reading.regions
    ]
    for future in listed:
        for snapshot in future.result():
            yield from snapshot.result()


def _listed(read: Any, *args: Any, **kwargs: Any) -> list[Document]:
    """A bucket's document as a list: none when it lies outside the regions scanned."""
    doc = read(*args, **kwargs)
    return [] if doc is None else [doc]


def _rules_of_region(
    clients: AwsClients, region: str, account: str | None, errors: list[dict[str, Any]]
) -> list[Document]:
    return list(ec2.ingress_rules(clients, region, account, errors))


# Codes that say the credentials themselves are refused: every other call would fail too.
CREDENTIALS_REFUSED = frozenset(
    (
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
        "InvalidAccessKeyId",
        "AuthFailure",
        "CredentialRetrievalError",
        "NoCredentialsError",
        "InvalidConfigError",
    )
)


# Codes that say AWS cannot be reached at all from here: no call of the scan would get through.
UNREACHABLE = frozenset(
    (
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ConnectionClosedError",
        "EndpointResolutionError",
        "ProxyConnectionError",
        "SSLError",
    )
)


def _account_id(clients: AwsClients, errors: list[dict[str, Any]]) -> str | None:
    try:
        return persist(clients.first_call_client("sts").get_caller_identity)["Account"]
    except Exception as exc:
        code, message = error_of(exc)
        if code in CREDENTIALS_REFUSED:
            raise CredentialsRefused(f"sts:GetCallerIdentity {code}: {message}") from None
        if code in UNREACHABLE:
            raise CredentialsRefused(f"cannot reach AWS: sts:GetCallerIdentity {code}: {message}") from None
        errors.append(scan_error("sts:GetCallerIdentity", code, message))
        return None
