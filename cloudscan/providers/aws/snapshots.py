"""EBS snapshots and RDS DB and DB cluster snapshots as `storage.snapshot` documents.

Each region is listed once per service (the account's own snapshots, every page), and the
listing already carries what a snapshot copies, its encryption and its tags. Who may restore
a snapshot is its own attribute: one call per snapshot, made only when an enabled policy reads
`sharing`, and never for an automated RDS snapshot, which AWS does not let anyone share. The
region's block public access for EBS snapshots, which can make a share with all private again,
is one more call in a region that holds EBS snapshots.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from typing import Any

from cloudscan.model import Document, leave_out, mark_unknown, new_resource, scan_error
from cloudscan.providers.aws.calls import FAILED, error_of, persist, read
from cloudscan.providers.aws.clients import AwsClients

# Top-level blocks the adapter fills; `sharing` is the one that costs a call per snapshot.
SNAPSHOT_FIELDS = ("snapshot", "encryption", "sharing", "guards")
GUARD_CALL = "ec2:GetSnapshotBlockPublicAccessState"
# The region's guard as read: its state, or the (code, message) of the failed read.
Guard = tuple[str | None, tuple[str, str] | None]
PUBLIC = "all"  # the group (EBS) or the attribute value (RDS) that shares with every account
NEVER_SHARED = frozenset(("automated",))  # RDS refuses to share these: copy them first

Submit = Callable[..., "Future[list[Document]]"]


def region_snapshots(
    clients: AwsClients,
    region: str,
    account: str | None,
    errors: list[dict[str, Any]],
    fields: frozenset[str],
    submit: Submit,
) -> list[Future[list[Document]]]:
    """List a region's snapshots of the three kinds; the reading of each one's sharing is
    queued with `submit` (which records its failure) and its future returned. A listing
    that fails is the region's error for that service, and the other listings go on."""
    futures: list[Future[list[Document]]] = []
    for call, listing in (
        ("ec2:DescribeSnapshots", _ebs_listing),
        ("rds:DescribeDBSnapshots", _db_listing),
        ("rds:DescribeDBClusterSnapshots", _cluster_listing),
    ):
        try:
            found = persist(listing, clients, region, account)
        except Exception as exc:
            code, message = error_of(exc)
            errors.append(scan_error(call, code, message, f"region {region}"))
            continue
        guard: Guard | None = None  # RDS has no such setting
        if call == "ec2:DescribeSnapshots" and found and "guards" in fields:
            guard = _block_public_access(clients, region)
        for item, describe in found:
            what = f"snapshot {_name(item)} in {region}"
            futures.append(submit(what, _described, describe, clients, item, region, account, fields, guard))
    return futures


def _block_public_access(clients: AwsClients, region: str) -> Guard:
    try:
        answer = persist(clients.client("ec2", region).get_snapshot_block_public_access_state)
        return answer.get("State"), None
    except Exception as exc:  # an emulator without the call (moto) raises NotImplementedError
        return None, error_of(exc)


def _described(
    describe: Callable[..., Document],
    clients: AwsClients,
    item: dict[str, Any],
    region: str,
    account: str | None,
    fields: frozenset[str],
    guard: Guard | None,
) -> list[Document]:
    doc = describe(clients, item, region, account, "sharing" in fields)
    doc["guards"] = {"block_public_access": guard[0] if guard else None}
    leave_out(doc, SNAPSHOT_FIELDS, fields | {"snapshot", "encryption"})  # they come with the listing
    if guard and guard[1] and "guards" in fields:
        code, message = guard[1]
        mark_unknown(doc, ["/guards/block_public_access"], call=GUARD_CALL, code=code, message=message)
    return [doc]


def _name(item: dict[str, Any]) -> str:
    return str(
        item.get("SnapshotId") or item.get("DBSnapshotIdentifier") or item.get("DBClusterSnapshotIdentifier")
    )


def _pages(client: Any, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    pages = client.get_paginator(operation).paginate(**params)
    return [x for page in pages for x in page.get(key, [])]


def _iso(when: Any) -> str | None:
    return when.isoformat() if hasattr(when, "isoformat") else (str(when) if when else None)


def _tags(pairs: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in pairs or []}


# -- EBS ------------------------------------------------------------------------------------------


def _ebs_listing(clients: AwsClients, region: str, account: str | None) -> list[tuple[dict[str, Any], Any]]:
    # OwnerIds=self is what AWS needs; the owner-id filter says the same where the account is
    # known, for emulators that ignore OwnerIds (moto lists every public AMI's snapshot).
    filters = [{"Name": "owner-id", "Values": [account]}] if account else []
    # Pages of 1,000: without MaxResults, EC2 answers every snapshot at once, which AWS warns
    # can time out in an account that holds many.
    listed = _pages(
        clients.client("ec2", region),
        "describe_snapshots",
        "Snapshots",
        OwnerIds=["self"],
        Filters=filters,
        PaginationConfig={"PageSize": 1000},
    )
    return [(item, _ebs_document) for item in listed]


def _ebs_document(
    clients: AwsClients, item: dict[str, Any], region: str, account: str | None, sharing: bool
) -> Document:
    owner = account or item.get("OwnerId")
    tags = _tags(item.get("Tags"))
    doc = new_resource(
        "storage.snapshot",
        "aws",
        f"arn:aws:ec2:{region}:{owner or ''}:snapshot/{item['SnapshotId']}",
        name=tags.get("Name") or item["SnapshotId"],
        account=owner,
        region=region,
        labels=tags,
    )
    doc["snapshot"] = {
        "type": "disk",
        "taken_from": {"type": "volume", "id": item.get("VolumeId")},
        "engine": None,
        "created": _iso(item.get("StartTime")),
        "creation": None,
    }
    doc["encryption"] = _encryption(item.get("Encrypted"), item.get("KmsKeyId"))
    if sharing:
        answer = read(
            doc,
            "ec2:DescribeSnapshotAttribute",
            ["/sharing"],
            clients.client("ec2", region).describe_snapshot_attribute,
            SnapshotId=item["SnapshotId"],
            Attribute="createVolumePermission",
        )
        if answer is not FAILED:
            permissions = answer.get("CreateVolumePermissions", [])
            doc["sharing"] = {
                "public": any(p.get("Group") == PUBLIC for p in permissions),
                "accounts": sorted({p["UserId"] for p in permissions if p.get("UserId")}),
            }
    return doc


def _encryption(enabled: Any, key: Any) -> dict[str, Any]:
    enabled = bool(enabled)
    return {"enabled": enabled, "kms_key": key if enabled and key else None}


# -- RDS ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RdsKind:
    """What differs between a DB instance's snapshots and a cluster's: the names of the same
    fields, and the call that reads who a snapshot is shared with."""

    snapshot_type: str
    source_type: str
    ident: str  # DBSnapshotIdentifier / DBClusterSnapshotIdentifier
    arn: str
    source: str
    encrypted: str
    call: str
    method: str
    answer: tuple[str, str]


_DB = _RdsKind(
    "database",
    "db-instance",
    "DBSnapshotIdentifier",
    "DBSnapshotArn",
    "DBInstanceIdentifier",
    "Encrypted",
    "rds:DescribeDBSnapshotAttributes",
    "describe_db_snapshot_attributes",
    ("DBSnapshotAttributesResult", "DBSnapshotAttributes"),
)
_CLUSTER = _RdsKind(
    "database-cluster",
    "db-cluster",
    "DBClusterSnapshotIdentifier",
    "DBClusterSnapshotArn",
    "DBClusterIdentifier",
    "StorageEncrypted",
    "rds:DescribeDBClusterSnapshotAttributes",
    "describe_db_cluster_snapshot_attributes",
    ("DBClusterSnapshotAttributesResult", "DBClusterSnapshotAttributes"),
)


def _db_listing(clients: AwsClients, region: str, account: str | None) -> list[tuple[dict[str, Any], Any]]:
    listed = _pages(clients.client("rds", region), "describe_db_snapshots", "DBSnapshots")
    return [(item, partial(_rds_snapshot_document, _DB)) for item in listed]


def _cluster_listing(
    clients: AwsClients, region: str, account: str | None
) -> list[tuple[dict[str, Any], Any]]:
    listed = _pages(clients.client("rds", region), "describe_db_cluster_snapshots", "DBClusterSnapshots")
    return [(item, partial(_rds_snapshot_document, _CLUSTER)) for item in listed]


def _rds_snapshot_document(
    kind: _RdsKind, clients: AwsClients, item: dict[str, Any], region: str, account: str | None, sharing: bool
) -> Document:
    ident = item[kind.ident]
    doc = _rds_document(item, item.get(kind.arn), ident, region, account)
    doc["snapshot"] = _rds_snapshot(item, kind.snapshot_type, kind.source_type, item.get(kind.source))
    doc["encryption"] = _encryption(item.get(kind.encrypted), item.get("KmsKeyId"))
    if sharing:
        read_attributes = getattr(clients.client("rds", region), kind.method)
        _rds_sharing(doc, item, kind.call, lambda: read_attributes(**{kind.ident: ident}), kind.answer)
    return doc


def _rds_document(
    item: dict[str, Any], arn: str | None, ident: str, region: str, account: str | None
) -> Document:
    kind = "cluster-snapshot" if "DBClusterSnapshotIdentifier" in item else "snapshot"
    return new_resource(
        "storage.snapshot",
        "aws",
        arn or f"arn:aws:rds:{region}:{account or ''}:{kind}:{ident}",
        name=ident,
        account=account or (arn.split(":")[4] if arn and arn.count(":") >= 5 else None),
        region=region,
        labels=_tags(item.get("TagList")),
    )


def _rds_snapshot(item: dict[str, Any], type_: str, of: str, source: str | None) -> dict[str, Any]:
    return {
        "type": type_,
        "taken_from": {"type": of, "id": source},
        "engine": item.get("Engine"),
        "created": _iso(item.get("SnapshotCreateTime")),
        "creation": item.get("SnapshotType"),
    }


def _rds_sharing(
    doc: Document, item: dict[str, Any], call: str, attributes: Callable[[], Any], keys: tuple[str, str]
) -> None:
    """The restore attribute: who may restore or copy the snapshot ("all": everyone)."""
    if item.get("SnapshotType") in NEVER_SHARED:
        doc["sharing"] = {"public": False, "accounts": []}
        return
    answer = read(doc, call, ["/sharing"], attributes)
    if answer is FAILED:
        return
    listed = (answer.get(keys[0]) or {}).get(keys[1]) or []
    values = [
        v for a in listed if a.get("AttributeName") == "restore" for v in a.get("AttributeValues") or []
    ]
    doc["sharing"] = {"public": PUBLIC in values, "accounts": sorted({v for v in values if v != PUBLIC})}
