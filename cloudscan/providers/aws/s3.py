"""S3 buckets as `storage.bucket` documents: at most ten read calls per bucket."""

from __future__ import annotations

from typing import Any, Protocol

from cloudscan.model import Document, bucket_access, leave_out, mark_unknown, new_resource, scan_error
from cloudscan.providers.aws.access_points import AccessPointListing, read_access_points
from cloudscan.providers.aws.calls import ABSENT, FAILED, error_of, persist, read
from cloudscan.providers.aws.clients import AwsClients
from cloudscan.providers.aws.iam_policy import (
    PolicyParseError,
    acl_grants,
    parse_policy,
    policy_grants,
    statements,
)
from cloudscan.providers.aws.object_acls import acls_apply, read_object_acls
from cloudscan.providers.aws.permissions import TABLE
from cloudscan.providers.sampling import LIST_LIMIT, ReadFailed, Sampling, sample_objects

BPA_FIELDS = {
    "BlockPublicAcls": "block_public_acls",
    "IgnorePublicAcls": "ignore_public_acls",
    "BlockPublicPolicy": "block_public_policy",
    "RestrictPublicBuckets": "restrict_public_buckets",
}
NO_BPA = "NoSuchPublicAccessBlockConfiguration"
# Blocks of a bucket document, each filled by its own calls (permissions.py says which); a scan
# reads only those it needs.
BUCKET_FIELDS = TABLE.fields("storage.bucket")
BUCKET_PAGE = 10_000  # the most buckets S3 lists in one page


class S3Clients(Protocol):
    """Where describe_bucket gets its clients: the scan's, or ones that answer from a recording."""

    def client(self, service: str, region: str | None = None) -> Any: ...


def list_buckets(clients: AwsClients, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every bucket of the account, each with its `BucketRegion` where S3 gives it.

    S3 answers BucketRegion only to a listing with a parameter, so the listing always pages with
    MaxBuckets: that saves a GetBucketLocation per bucket. An emulator that cuts a page at
    MaxBuckets and gives no ContinuationToken (moto does) would lose the rest, so a full last
    page is followed by one listing without parameters."""
    s3 = clients.client("s3")

    def listing() -> list[dict[str, Any]]:
        pages = list(s3.get_paginator("list_buckets").paginate(PaginationConfig={"PageSize": BUCKET_PAGE}))
        buckets = [bucket for page in pages for bucket in page.get("Buckets", [])]
        if pages and len(pages[-1].get("Buckets", [])) >= BUCKET_PAGE:
            seen = {bucket["Name"] for bucket in buckets}
            buckets += [b for b in s3.list_buckets().get("Buckets", []) if b["Name"] not in seen]
        return buckets

    try:
        return persist(listing)
    except Exception as exc:
        code, message = error_of(exc)
        errors.append(scan_error("s3:ListBuckets", code, message))
        return []


def read_account_block_public_access(clients: AwsClients, account: str | None) -> dict[str, Any]:
    """{'value': settings} or {'error': (code, message)}; read once, shared by every bucket."""
    if account is None:
        return {"error": ("AccountUnknown", "the account id could not be read (sts:GetCallerIdentity)")}
    try:
        answer = persist(clients.client("s3control").get_public_access_block, AccountId=account)
        return {"value": _bpa(answer["PublicAccessBlockConfiguration"])}
    except Exception as exc:
        code, message = error_of(exc)
        if code == NO_BPA:
            return {"value": _bpa({})}
        return {"error": (code, message)}


def describe_account(account: str | None, account_bpa: dict[str, Any]) -> Document:
    """The account's own S3 settings, as one `storage.account` document."""
    doc = new_resource(
        "storage.account",
        "aws",
        f"aws-account/{account or 'unknown'}/s3",
        name=f"account {account or '(unknown)'} S3 settings",
        account=account,
    )
    if "error" in account_bpa:
        code, message = account_bpa["error"]
        # The call that failed: the read itself, or what kept the scan out of the account.
        call = account_bpa.get("call", "s3control:GetPublicAccessBlock")
        mark_unknown(doc, ["/block_public_access"], call=call, code=code, message=message)
    else:
        doc["block_public_access"] = account_bpa["value"]
    return doc


def describe_bucket(
    clients: S3Clients,
    bucket: dict[str, Any],
    *,
    account: str | None,
    account_bpa: dict[str, Any],
    fields: frozenset[str],
    regions: frozenset[str] | None = None,
    sampling: Sampling | None = None,
    access_points: AccessPointListing | None = None,
) -> Document | None:
    """The bucket as a document, or None when it lies outside `regions`. `access_points` is
    the account's listing, shared by its buckets; None when no enabled policy needs it."""
    name = bucket["Name"]
    doc = new_resource("storage.bucket", "aws", f"arn:aws:s3:::{name}", name=name, account=account)
    region = bucket.get("BucketRegion") or _bucket_region(clients, doc)
    if regions and region is not None and region not in regions:
        return None
    doc["region"] = region
    s3 = clients.client("s3", region)
    if "access" in fields:
        _read_access(doc, s3, account_bpa)
        if access_points is not None:
            read_access_points(doc, access_points)
    if "encryption" in fields:
        _read_encryption(doc, s3)
    if "versioning" in fields:
        answer = read(doc, "s3:GetBucketVersioning", ["/versioning"], s3.get_bucket_versioning, Bucket=name)
        if answer is not FAILED:
            doc["versioning"] = {
                "enabled": answer.get("Status") == "Enabled",
                "mfa_delete": answer.get("MFADelete") == "Enabled",
            }
    if "object_lock" in fields:
        _read_object_lock(doc, s3)
    if "logging" in fields:
        answer = read(doc, "s3:GetBucketLogging", ["/logging"], s3.get_bucket_logging, Bucket=name)
        if answer is not FAILED:
            target = answer.get("LoggingEnabled", {}).get("TargetBucket")
            doc["logging"] = {"enabled": target is not None, "target": target}
    if "labels" in fields:
        answer = read(
            doc,
            "s3:GetBucketTagging",
            ["/labels"],
            s3.get_bucket_tagging,
            absent=("NoSuchTagSet",),
            Bucket=name,
        )
        if answer is not FAILED:
            tags = [] if answer is ABSENT else answer.get("TagSet", [])
            doc["labels"] = {t["Key"]: t["Value"] for t in tags}
    sampling = sampling or Sampling()
    if "objects" in fields and sampling.size > 0:
        names = _sample(doc, s3, sampling)
        if names and _object_acls_needed(doc, fields):
            read_object_acls(doc, s3, names, sampling)
    else:
        fields = fields - {"objects"}
    leave_out(doc, BUCKET_FIELDS, fields)
    return doc


def _object_acls_needed(doc: Document, fields: frozenset[str]) -> bool:
    """An enabled policy needs the exposure, and ACLs may still grant (access is read first)."""
    needed = "s3:GetObjectAcl" in TABLE.calls_for({"storage.bucket": fields})
    return needed and doc.get("access") is not None and acls_apply(doc["access"]["guards"])


def _sample(doc: Document, s3: Any, sampling: Sampling) -> list[str]:
    """Fill `objects`; the names of the objects sampled (none when a read failed)."""
    listed = read(
        doc, "s3:ListObjectsV2", ["/objects"], s3.list_objects_v2, Bucket=doc["name"], MaxKeys=LIST_LIMIT
    )
    if listed is FAILED:
        return []

    def read_prefix(key: str, size: int) -> bytes:
        answer = read(
            doc,
            "s3:GetObject",
            ["/objects"],
            s3.get_object,
            Bucket=doc["name"],
            Key=key,
            Range=f"bytes=0-{size - 1}",
        )
        if answer is FAILED:
            raise ReadFailed(key)
        return answer["Body"].read(size)

    sizes = {o["Key"]: o.get("Size") for o in listed.get("Contents", [])}
    try:
        doc["objects"], names = sample_objects(sizes, read_prefix, sampling)
    except ReadFailed:
        return []
    return names


def location(clients: AwsClients, name: str) -> str | None:
    """The bucket's region, or None when it cannot be read (describe_bucket asks again, and
    then says why)."""
    try:
        answer = clients.client("s3").get_bucket_location(Bucket=name)
    except Exception:
        return None
    return _region_of(answer)


def _region_of(answer: dict[str, Any]) -> str | None:
    # us-east-1 answers null; buckets made long ago in eu-west-1 answer "EU".
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(
        answer.get("LocationConstraint"), answer.get("LocationConstraint")
    )


def _bucket_region(clients: S3Clients, doc: Document) -> str | None:
    answer = read(
        doc, "s3:GetBucketLocation", ["/region"], clients.client("s3").get_bucket_location, Bucket=doc["name"]
    )
    if answer is FAILED:
        return None
    return _region_of(answer)


def _bpa(config: dict[str, Any]) -> dict[str, bool]:
    return {ours: bool(config.get(theirs, False)) for theirs, ours in BPA_FIELDS.items()}


def _read_access(doc: Document, s3: Any, account_bpa: dict[str, Any]) -> None:
    name = doc["name"]
    access = bucket_access(
        {
            "account_block_public_access": account_bpa.get("value"),
            "bucket_block_public_access": None,
            "object_ownership": None,
        }
    )
    doc["access"] = access
    if "error" in account_bpa:
        code, message = account_bpa["error"]
        mark_unknown(
            doc,
            ["/access/guards/account_block_public_access"],
            call="s3control:GetPublicAccessBlock",
            code=code,
            message=message,
        )

    answer = read(
        doc,
        "s3:GetPublicAccessBlock",
        ["/access/guards/bucket_block_public_access"],
        s3.get_public_access_block,
        absent=(NO_BPA,),
        Bucket=name,
    )
    if answer is not FAILED:
        config = {} if answer is ABSENT else answer["PublicAccessBlockConfiguration"]
        access["guards"]["bucket_block_public_access"] = _bpa(config)

    answer = read(
        doc,
        "s3:GetBucketOwnershipControls",
        ["/access/guards/object_ownership"],
        s3.get_bucket_ownership_controls,
        absent=("OwnershipControlsNotFoundError",),
        Bucket=name,
    )
    if answer is not FAILED:
        # Without ownership controls a bucket uses ACLs the legacy way (ObjectWriter).
        rules = [] if answer is ABSENT else answer["OwnershipControls"].get("Rules", [])
        access["guards"]["object_ownership"] = rules[0]["ObjectOwnership"] if rules else "ObjectWriter"

    answer = read(doc, "s3:GetBucketAcl", ["/access/acl"], s3.get_bucket_acl, Bucket=name)
    if answer is not FAILED:
        grants = acl_grants(answer)
        access["acl"] = {"owner": answer.get("Owner", {}).get("ID"), "grant_count": len(grants)}
        access["grants"].extend(grants)

    answer = read(
        doc,
        "s3:GetBucketPolicy",
        ["/access/policy"],
        s3.get_bucket_policy,
        absent=("NoSuchBucketPolicy",),
        Bucket=name,
    )
    if answer is ABSENT:
        access["policy"] = {"present": False, "statement_count": 0}
    elif answer is not FAILED:
        try:
            document = parse_policy(answer["Policy"])
            grants = policy_grants(document)
        except PolicyParseError as exc:
            mark_unknown(
                doc, ["/access/policy"], call="s3:GetBucketPolicy", code="MalformedPolicy", message=str(exc)
            )
        else:
            access["policy"] = {"present": True, "statement_count": len(statements(document))}
            access["grants"].extend(grants)


def _read_encryption(doc: Document, s3: Any) -> None:
    # No configuration is an answer: since 2023 S3 encrypts with SSE-S3 by default and says so,
    # but older buckets and emulators answer this error instead.
    answer = read(
        doc,
        "s3:GetBucketEncryption",
        ["/encryption"],
        s3.get_bucket_encryption,
        absent=("ServerSideEncryptionConfigurationNotFoundError",),
        Bucket=doc["name"],
    )
    if answer is FAILED:
        return
    rules = [] if answer is ABSENT else answer["ServerSideEncryptionConfiguration"].get("Rules", [])
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
    doc["encryption"] = {
        "enabled": bool(default),
        "algorithm": default.get("SSEAlgorithm"),
        "kms_key": default.get("KMSMasterKeyID"),
        "bucket_key": rules[0].get("BucketKeyEnabled") if rules else None,
    }


def _read_object_lock(doc: Document, s3: Any) -> None:
    answer = read(
        doc,
        "s3:GetObjectLockConfiguration",
        ["/object_lock"],
        s3.get_object_lock_configuration,
        absent=("ObjectLockConfigurationNotFoundError",),
        Bucket=doc["name"],
    )
    if answer is FAILED:
        return
    config = {} if answer is ABSENT else answer.get("ObjectLockConfiguration", {})
    retention = config.get("Rule", {}).get("DefaultRetention", {})
    days = retention.get("Days") or (retention.get("Years") or 0) * 365 or None
    doc["object_lock"] = {
        "enabled": config.get("ObjectLockEnabled") == "Enabled",
        "mode": retention.get("Mode"),
        "retention_days": days,
    }
