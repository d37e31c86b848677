"""CloudFront distributions that serve S3 buckets, as entries of each bucket's `access.cdn`.

One paginated ListDistributions per account carries every distribution's origins, cache
behaviours, origin groups and geo restriction: no call per distribution or per bucket. An
origin is a bucket's when its domain is the bucket's REST endpoint (`<bucket>.s3.amazonaws.com`,
`<bucket>.s3.<region>.amazonaws.com`, dual-stack and legacy `s3-<region>` forms) or its website
endpoint (`<bucket>.s3-website-<region>.amazonaws.com`, a custom origin). What the bucket's
policy grants the distribution is not judged here: checks/cdn.py does that."""

from __future__ import annotations

import re
from typing import Any

from cloudscan.model import Document, mark_unknown
from cloudscan.providers.aws.calls import error_of, persist
from cloudscan.providers.aws.clients import AwsClients

CALL = "cloudfront:ListDistributions"
PAGE = "1000"  # MaxItems of one page (a string in CloudFront's API)
# The bucket is whatever comes before the endpoint (a Terraform placeholder for a name known
# only after apply included).
SUFFIX = r"\.amazonaws\.com(?:\.cn)?$"
WEBSITE = re.compile(r"^(?P<bucket>.+?)\.s3-website[.-][a-z0-9-]+" + SUFFIX, re.IGNORECASE)
REST = re.compile(
    r"^(?P<bucket>.+?)\.s3(?:\.dualstack)?(?:[.-][a-z]{2}(?:-[a-z]+)+-\d+)?" + SUFFIX, re.IGNORECASE
)
GEO_TYPES = {"none": "none", "whitelist": "allow", "blacklist": "deny"}
VIEWER_REQUEST = "viewer-request"


def bucket_of_origin(domain: str) -> tuple[str, str] | None:
    """(bucket, 'rest' or 'website') for an S3 endpoint; None for any other origin."""
    domain = domain.rstrip(".")
    for kind, pattern in (("website", WEBSITE), ("rest", REST)):
        match = pattern.match(domain)
        if match:
            return match["bucket"], kind
    return None


def read_distributions(clients: AwsClients) -> dict[str, Any]:
    """{'value': bucket name -> its CDN entries} or {'error': (code, message)}: read once per
    account, shared by every bucket."""

    def listing() -> list[dict[str, Any]]:
        paginator = clients.client("cloudfront").get_paginator("list_distributions")
        pages = paginator.paginate(PaginationConfig={"PageSize": PAGE})
        return [item for page in pages for item in page.get("DistributionList", {}).get("Items") or []]

    try:
        summaries = persist(listing)
    except Exception as exc:
        return {"error": error_of(exc)}
    by_bucket: dict[str, list[dict[str, Any]]] = {}
    for summary in summaries:
        for bucket, entry in distribution_entries(summary):
            by_bucket.setdefault(bucket, []).append(entry)
    return {"value": by_bucket}


def attach(doc: Document, distributions: dict[str, Any]) -> None:
    """Put the distributions that serve this bucket into its access block, or say why not."""
    if doc.get("access") is None:
        return
    if "error" in distributions:
        code, message = distributions["error"]
        mark_unknown(doc, ["/access/cdn"], call=CALL, code=code, message=message)
        return
    doc["access"]["cdn"] = distributions["value"].get(doc["name"], [])


def distribution_entries(summary: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(bucket, entry) for every origin of one distribution summary that is an S3 bucket."""
    groups = {
        g["Id"]: [m["OriginId"] for m in (g.get("Members") or {}).get("Items") or []]
        for g in (summary.get("OriginGroups") or {}).get("Items") or []
    }
    behaviours = [("*", summary.get("DefaultCacheBehavior") or {})]
    behaviours += [
        (b.get("PathPattern", ""), b) for b in (summary.get("CacheBehaviors") or {}).get("Items") or []
    ]
    geo = (summary.get("Restrictions") or {}).get("GeoRestriction") or {}
    out = []
    for origin in (summary.get("Origins") or {}).get("Items") or []:
        found = bucket_of_origin(origin.get("DomainName", ""))
        if found is None:
            continue
        bucket, endpoint = found
        # A behaviour targets an origin, or an origin group whose members all serve it.
        routes = [
            _route(path, behaviour)
            for path, behaviour in behaviours
            if origin["Id"] in groups.get(target := behaviour.get("TargetOriginId", ""), [target])
        ]
        entry = {
            "service": "cloudfront",
            "id": summary["Id"],
            "resource": summary.get("ARN"),
            "domain": summary.get("DomainName"),
            "aliases": list((summary.get("Aliases") or {}).get("Items") or []),
            "enabled": bool(summary.get("Enabled", True)),
            "origin": {"id": origin["Id"], "domain": origin["DomainName"], "endpoint": endpoint},
            "origin_identity": _identity(origin, endpoint),
            "routes": routes,
            "geo_restriction": {
                "type": GEO_TYPES.get(geo.get("RestrictionType", "none"), geo.get("RestrictionType")),
                "locations": list(geo.get("Items") or []),
            },
            "firewall": summary.get("WebACLId") or None,
        }
        out.append((bucket, entry))
    return out


def _identity(origin: dict[str, Any], endpoint: str) -> dict[str, Any]:
    """How the CDN signs its requests to the bucket: origin access control, origin access
    identity, or not at all (anonymous, as it must for a website endpoint)."""
    if endpoint == "rest" and origin.get("OriginAccessControlId"):
        return {"type": "oac", "id": origin["OriginAccessControlId"]}
    oai = ((origin.get("S3OriginConfig") or {}).get("OriginAccessIdentity") or "").strip()
    if endpoint == "rest" and oai:
        return {"type": "oai", "id": oai.rsplit("/", 1)[-1]}
    return {"type": None, "id": None}


def _route(path: str, behaviour: dict[str, Any]) -> dict[str, Any]:
    key_groups = behaviour.get("TrustedKeyGroups") or {}
    signers = behaviour.get("TrustedSigners") or {}
    signed_by = []
    if key_groups.get("Enabled") and key_groups.get("Quantity", len(key_groups.get("Items") or [])):
        signed_by.append("trusted key groups")
    if signers.get("Enabled") and signers.get("Quantity", len(signers.get("Items") or [])):
        signed_by.append("trusted signers")
    code = [
        f["FunctionARN"]
        for f in (behaviour.get("FunctionAssociations") or {}).get("Items") or []
        if f.get("EventType") == VIEWER_REQUEST
    ]
    code += [
        f["LambdaFunctionARN"]
        for f in (behaviour.get("LambdaFunctionAssociations") or {}).get("Items") or []
        if f.get("EventType") == VIEWER_REQUEST
    ]
    return {
        "path": path,
        "signed_requests": signed_by,
        "viewer_request_code": code,
        "viewer_protocol": behaviour.get("ViewerProtocolPolicy"),
    }
