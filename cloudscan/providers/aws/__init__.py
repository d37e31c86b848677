"""AWS: S3 buckets and EC2 security-group ingress, read with an injected boto3 session."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from cloudscan.model import CredentialsRefused, Document, scan_error
from cloudscan.providers import ReadsFields
from cloudscan.providers.aws import ec2, s3
from cloudscan.providers.aws.calls import error_of, persist
from cloudscan.providers.aws.clients import AwsClients
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
    pacing: Pacing = field(default_factory=Pacing)


def enumerate_aws(session: Any, scope: AwsScope, errors: list[dict[str, Any]]) -> Iterator[Document]:
    """Yield documents as they are read; account-wide failures go to `errors`."""
    clients = AwsClients(session, max_pool=scope.concurrency, pacing=scope.pacing)
    account = _account_id(clients, errors)
    with ThreadPoolExecutor(max_workers=scope.concurrency, thread_name_prefix="cloudscan-aws") as pool:
        reading = _Reading(clients, pool, scope, account, errors)
        account_bpa = {}
        if scope.wants("storage.account") or "access" in reading.bucket_fields:
            account_bpa = s3.read_account_block_public_access(clients, account)
        if scope.wants("storage.account"):
            yield from accounts(reading, account_bpa)
        if scope.wants("storage.bucket"):
            yield from buckets(reading, account_bpa)
        if scope.wants("network.ingress"):
            yield from ingress_rules(reading)


@dataclass
class _Reading:
    """What every reader of one account's scan shares."""

    clients: AwsClients
    pool: ThreadPoolExecutor
    scope: AwsScope
    account: str | None
    errors: list[dict[str, Any]]

    @property
    def bucket_fields(self) -> frozenset[str]:
        return self.scope.fields_of("storage.bucket", s3.BUCKET_FIELDS)


# The readers have the names of the Terraform mappers' and the other clouds' readers.


def accounts(reading: _Reading, account_bpa: dict[str, Any]) -> Iterator[Document]:
    yield s3.describe_account(reading.account, account_bpa)


def buckets(reading: _Reading, account_bpa: dict[str, Any]) -> Iterator[Document]:
    regions = frozenset(reading.scope.regions) or None
    futures = [
        reading.pool.submit(
            read_safely,
            reading.errors,
            f"arn:aws:s3:::{bucket['Name']}",
            partial(
                _listed,
                s3.describe_bucket,
                reading.clients,
                bucket,
                account=reading.account,
                account_bpa=account_bpa,
                fields=reading.bucket_fields,
                regions=regions,
                sampling=reading.scope.sampling,
            ),
            error_of,
        )
        for bucket in s3.list_buckets(reading.clients, reading.errors)
    ]
    for future in futures:
        yield from future.result()


def ingress_rules(reading: _Reading) -> Iterator[Document]:
    regions = list(reading.scope.regions) or ec2.enabled_regions(reading.clients, reading.errors)
    futures = [
        reading.pool.submit(
            read_safely,
            reading.errors,
            f"security groups in {region}",
            partial(_rules_of_region, reading.clients, region, reading.account, reading.errors),
            error_of,
        )
        for region in regions
    ]
    for future in futures:
        yield from future.result()


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
