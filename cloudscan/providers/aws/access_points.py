"""S3 access points: the doors to a bucket that its own settings do not show.

A request through an access point must be allowed by the access point's policy and by the
bucket's (which commonly delegates with a condition on s3:DataAccessPointAccount); the Block
Public Access of the account, the bucket and the access point all apply, and an access point
whose network origin is a VPC is reachable from that VPC only. This module reads what that
judgement needs and attaches it to the bucket's document under access.access_points; checks/
judges it.

Calls: ListAccessPoints once per account and region (shared by every bucket of the region),
then for each access point of a scanned bucket its policy, and its own Block Public Access only
where it has a policy (without one it grants nothing)."""

from __future__ import annotations

import threading
from typing import Any

from cloudscan.model import Document, mark_unknown
from cloudscan.providers.aws.calls import ABSENT, FAILED, error_of, persist, read
from cloudscan.providers.aws.iam_policy import PolicyParseError, parse_policy, policy_grants, statements

LIST = "s3control:ListAccessPoints"
POINTER = "/access/access_points"
BPA_FIELDS = {
    "BlockPublicAcls": "block_public_acls",
    "IgnorePublicAcls": "ignore_public_acls",
    "BlockPublicPolicy": "block_public_policy",
    "RestrictPublicBuckets": "restrict_public_buckets",
}


class AccessPointListing:
    """The account's access points per region, listed once on first use (thread-safe: the
    buckets of a region are read in parallel)."""

    def __init__(self, clients: Any, account: str | None) -> None:
        self.clients, self.account = clients, account
        self._lock = threading.Lock()
        self._by_region: dict[str, dict[str, Any]] = {}

    def of_region(self, region: str) -> dict[str, Any]:
        """{'value': [access point summaries]} or {'error': (code, message)}."""
        with self._lock:
            if region not in self._by_region:
                self._by_region[region] = self._list(region)
            return self._by_region[region]

    def _list(self, region: str) -> dict[str, Any]:
        if self.account is None:
            return {"error": ("AccountUnknown", "the account id could not be read (sts:GetCallerIdentity)")}
        client = self.clients.client("s3control", region)
        found: list[dict[str, Any]] = []
        token: str | None = None
        try:
            while True:
                extra = {"NextToken": token} if token else {}
                page = persist(client.list_access_points, AccountId=self.account, **extra)
                found += page.get("AccessPointList", [])
                token = page.get("NextToken")
                if not token:
                    return {"value": found}
        except Exception as exc:
            return {"error": error_of(exc)}


def read_access_points(doc: Document, listing: AccessPointListing) -> None:
    """Fill access.access_points of a bucket whose access block has been read."""
    access, region = doc["access"], doc.get("region")
    if region is None:
        # Access points are regional: without the bucket's region they cannot be looked up.
        mark_unknown(
            doc, [POINTER], call=LIST, code="RegionUnknown", message="the bucket's region is unknown"
        )
        return
    listed = listing.of_region(region)
    if "error" in listed:
        code, message = listed["error"]
        mark_unknown(doc, [POINTER], call=LIST, code=code, message=message)
        return
    # Access points of another account can name this bucket too: only the bucket owner's are
    # listed here (the bucket policy must still delegate to any other).
    mine = [
        ap
        for ap in listed["value"]
        if ap.get("Bucket") == doc["name"] and ap.get("BucketAccountId", listing.account) == listing.account
    ]
    client = listing.clients.client("s3control", region)
    points: list[dict[str, Any]] = []
    access["access_points"] = points
    for i, ap in enumerate(sorted(mine, key=lambda found: str(found.get("Name", "")))):
        entry = {
            "name": str(ap.get("Name", "")),
            "arn": ap.get("AccessPointArn"),
            "network_origin": ap.get("NetworkOrigin"),
            "vpc_id": (ap.get("VpcConfiguration") or {}).get("VpcId"),
            "block_public_access": None,
            "policy": None,
            "grants": [],
        }
        points.append(entry)  # in the document first: a failed read points into it
        _read_policy(doc, client, listing.account, f"{POINTER}/{i}", entry)


def _read_policy(doc: Document, client: Any, account: str | None, here: str, entry: dict[str, Any]) -> None:
    name = entry["name"]
    answer = read(
        doc,
        "s3control:GetAccessPointPolicy",
        [f"{here}/policy"],
        client.get_access_point_policy,
        absent=("NoSuchAccessPointPolicy",),
        AccountId=account,
        Name=name,
    )
    if answer is ABSENT:
        entry["policy"] = {"present": False, "statement_count": 0}
        return
    if answer is FAILED:
        return
    try:
        document = parse_policy(answer["Policy"])
        grants = policy_grants(document)
    except PolicyParseError as exc:
        call, pointer = "s3control:GetAccessPointPolicy", f"{here}/policy"
        mark_unknown(doc, [pointer], call=call, code="MalformedPolicy", message=str(exc))
        return
    for grant in grants:
        grant["origin"] = f"access point {name} {grant['origin']}"
    entry["policy"] = {"present": True, "statement_count": len(statements(document))}
    entry["grants"] = grants
    # Its own Block Public Access matters only to a policy that grants something.
    got = read(
        doc,
        "s3control:GetAccessPoint",
        [f"{here}/block_public_access"],
        client.get_access_point,
        AccountId=account,
        Name=name,
    )
    if got is not FAILED:
        config = got.get("PublicAccessBlockConfiguration") or {}
        entry["block_public_access"] = {ours: bool(config.get(key)) for key, ours in BPA_FIELDS.items()}
        entry["network_origin"] = got.get("NetworkOrigin") or entry["network_origin"]
