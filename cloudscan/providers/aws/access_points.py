"""S3 access points: the doors to a bucket that its own settings do not show.

A request through an access point must be allowed by the access point's policy and by the
bucket's (which commonly delegates with a condition on s3:DataAccessPointAccount); the Block
Public Access of the account, the bucket and the access point all apply, and an access point
whose network origin is a VPC is reachable from that VPC only. This module reads what that
judgement needs and attaches it to the bucket's document under access.access_points; checks/
judges it.

Multi-Region Access Points are read the same way: each is reachable from the internet, and its
Block Public Access, fixed when it was made, comes with the listing.

Calls: ListAccessPoints once per account and region (shared by every bucket of the region),
then for each access point of a scanned bucket its policy, and its own Block Public Access only
where it has a policy (without one it grants nothing); ListMultiRegionAccessPoints once per
account, and the policy of each one in front of a scanned bucket, once."""

from __future__ import annotations

import threading
from typing import Any

from cloudscan.model import Document, mark_unknown
from cloudscan.providers.aws.calls import ABSENT, FAILED, error_of, persist, read
from cloudscan.providers.aws.iam_policy import PolicyParseError, parse_policy, policy_grants, statements

LIST = "s3control:ListAccessPoints"
LIST_MULTI_REGION = "s3control:ListMultiRegionAccessPoints"
MULTI_REGION_POLICY = "s3control:GetMultiRegionAccessPointPolicy"
# Multi-Region Access Points are managed through US West (Oregon) only, whichever the regions.
MULTI_REGION_HOME = "us-west-2"
POINTER = "/access/access_points"
BPA_FIELDS = {
    "BlockPublicAcls": "block_public_acls",
    "IgnorePublicAcls": "ignore_public_acls",
    "BlockPublicPolicy": "block_public_policy",
    "RestrictPublicBuckets": "restrict_public_buckets",
}


# 1,000 access points a page (S3 Control's most): ten thousand pages is far beyond any account.
MAX_PAGES = 10_000


class AccessPointListing:
    """The account's access points per region and its Multi-Region Access Points, each listed
    once on first use, and each Multi-Region Access Point's policy read once whatever the
    number of its buckets (thread-safe: buckets are read in parallel)."""

    def __init__(self, clients: Any, account: str | None) -> None:
        self.clients, self.account = clients, account
        self._lock = threading.Lock()
        self._by_region: dict[str, dict[str, Any]] = {}
        self._multi_region: dict[str, Any] | None = None
        self._multi_region_policies: dict[str, dict[str, Any]] = {}

    def multi_region(self) -> dict[str, Any]:
        """{'value': [Multi-Region Access Point summaries]} or {'error': (code, message)}."""
        with self._lock:
            if self._multi_region is None:
                self._multi_region = self._pages(
                    "list_multi_region_access_points", "AccessPoints", MULTI_REGION_HOME
                )
            return self._multi_region

    def multi_region_policy(self, name: str) -> dict[str, Any]:
        """{'value': policy text or None when it has none} or {'error': (code, message)}."""
        with self._lock:
            if name not in self._multi_region_policies:
                client = self.clients.client("s3control", MULTI_REGION_HOME)
                try:
                    answer = persist(
                        client.get_multi_region_access_point_policy, AccountId=self.account, Name=name
                    )
                    # The established policy is the one in force; a proposed one is not yet.
                    found = {"value": answer.get("Policy", {}).get("Established", {}).get("Policy")}
                except Exception as exc:
                    code, message = error_of(exc)
                    found = (
                        {"value": None}
                        if code == "NoSuchMultiRegionAccessPointPolicy"
                        else {"error": (code, message)}
                    )
                self._multi_region_policies[name] = found
            return self._multi_region_policies[name]

    def of_region(self, region: str) -> dict[str, Any]:
        """{'value': [access point summaries]} or {'error': (code, message)}."""
        with self._lock:
            if region not in self._by_region:
                self._by_region[region] = self._list(region)
            return self._by_region[region]

    def _list(self, region: str) -> dict[str, Any]:
        return self._pages("list_access_points", "AccessPointList", region)

    def _pages(self, operation: str, key: str, region: str) -> dict[str, Any]:
        if self.account is None:
            return {"error": ("AccountUnknown", "the account id could not be read (sts:GetCallerIdentity)")}
        call = getattr(self.clients.client("s3control", region), operation)
        found: list[dict[str, Any]] = []
        token: str | None = None
        try:
            for _ in range(MAX_PAGES):
                extra = {"NextToken": token} if token else {}
                page = persist(call, AccountId=self.account, **extra)
                found += page.get(key, [])
                following = page.get("NextToken")
                if not following:
                    return {"value": found}
                if following == token:  # an endpoint that hands the same page out again
                    return {"error": ("RepeatedToken", f"{operation} gave the same NextToken twice")}
                token = following
        except Exception as exc:
            return {"error": error_of(exc)}
        return {"error": ("TooManyPages", f"{operation} gave more than {MAX_PAGES} pages")}


def read_access_points(doc: Document, listing: AccessPointListing) -> None:
    """Fill access.access_points of a bucket whose access block has been read."""
    access, region = doc["access"], doc.get("region")
    if region is None:
        # Access points are regional: without the bucket's region they cannot be looked up.
        mark_unknown(
            doc, [POINTER], call=LIST, code="RegionUnknown", message="the bucket's region is unknown"
        )
        return
    listed, global_ = listing.of_region(region), listing.multi_region()
    for answer, call in ((listed, LIST), (global_, LIST_MULTI_REGION)):
        if "error" in answer:
            code, message = answer["error"]
            mark_unknown(doc, [POINTER], call=call, code=code, message=message)
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
            "multi_region": False,
        }
        points.append(entry)  # in the document first: a failed read points into it
        _read_policy(doc, client, listing.account, f"{POINTER}/{i}", entry)
    for found in global_["value"]:
        regions = found.get("Regions", [])
        if any(
            r.get("Bucket") == doc["name"] and r.get("BucketAccountId", listing.account) == listing.account
            for r in regions
        ):
            _multi_region(doc, listing, found, points)


def _multi_region(
    doc: Document, listing: AccessPointListing, found: dict[str, Any], points: list[dict[str, Any]]
) -> None:
    """A Multi-Region Access Point in front of the bucket: always reachable from the internet,
    its Block Public Access fixed when it was made (and given by the listing)."""
    name, here = str(found.get("Name", "")), f"{POINTER}/{len(points)}"
    config = found.get("PublicAccessBlock")
    entry: dict[str, Any] = {
        "name": name,
        "arn": f"arn:aws:s3::{listing.account}:accesspoint/{found.get('Alias', name)}",
        "network_origin": "Internet",
        "vpc_id": None,
        "block_public_access": None
        if config is None
        else {ours: bool(config.get(key)) for key, ours in BPA_FIELDS.items()},
        "policy": None,
        "grants": [],
        "multi_region": True,
    }
    points.append(entry)
    answer = listing.multi_region_policy(name)
    if "error" in answer:
        code, message = answer["error"]
        mark_unknown(doc, [f"{here}/policy"], call=MULTI_REGION_POLICY, code=code, message=message)
    else:
        _policy_into(doc, here, entry, answer["value"], MULTI_REGION_POLICY, "Multi-Region Access Point")


def _policy_into(
    doc: Document, here: str, entry: dict[str, Any], text: str | None, call: str, what: str
) -> bool:
    """The policy `text` (None: no policy) into `entry`; whether it grants anything."""
    if text is None:
        entry["policy"] = {"present": False, "statement_count": 0}
        return False
    try:
        document = parse_policy(text)
        grants = policy_grants(document)
    except PolicyParseError as exc:
        mark_unknown(doc, [f"{here}/policy"], call=call, code="MalformedPolicy", message=str(exc))
        return False
    for grant in grants:
        grant["origin"] = f"{what} {entry['name']} {grant['origin']}"
    entry["policy"] = {"present": True, "statement_count": len(statements(document))}
    entry["grants"] = grants
    return True


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
    if answer is FAILED:
        return
    text = None if answer is ABSENT else answer["Policy"]
    if not _policy_into(doc, here, entry, text, "s3control:GetAccessPointPolicy", "access point"):
        return
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
