"""aws_cloudfront_distribution as the live adapter reads it: each distribution is written as the
summary ListDistributions gives, and turned into buckets' `access.cdn` entries by the same code
(providers/aws/cloudfront.py), so one check judges an account and the Terraform that changes it.

The distribution's ARN and the origin access identity's id and IAM user exist only after apply:
they stay placeholders ("${aws_cloudfront_distribution.viewer.arn}") that a bucket policy
naming them holds too, so a grant to this distribution is still recognised as one."""

from __future__ import annotations

from typing import Any

from cloudscan.model import Document
from cloudscan.providers.aws.cloudfront import bucket_of_origin, distribution_entries
from cloudscan.providers.terraform.attributes import NOT_COMPUTED, as_blocks, computed, placeholder
from cloudscan.providers.terraform.config import Instance, Module
from cloudscan.providers.terraform.documents import unresolved
from cloudscan.providers.terraform.expressions import Unknown, first_unknown

OAI_PATH = "origin-access-identity/cloudfront/"
OAI_USER = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity "


@computed("managed", "aws_cloudfront_origin_access_identity")
def _identity(instance: Instance, name: str) -> Any:
    if name == "cloudfront_access_identity_path":
        return OAI_PATH + placeholder(instance, "id")
    if name == "iam_arn":
        return OAI_USER + placeholder(instance, "id")
    return NOT_COMPUTED


def served_buckets(module: Module) -> dict[str, list[tuple[Instance, dict[str, Any] | Unknown]]]:
    """bucket identity -> (distribution, its entry, or why it cannot be told) for every origin
    of every distribution in the module's tree that is an S3 bucket."""
    out: dict[str, list[tuple[Instance, dict[str, Any] | Unknown]]] = {}
    for instance in module.related("aws_cloudfront_distribution"):
        summary = _summary(instance)
        unknown = first_unknown(summary) or (Unknown(instance.uncertain) if instance.uncertain else None)
        if unknown is None:
            for bucket, entry in distribution_entries(summary):
                out.setdefault(bucket, []).append((instance, entry))
            continue
        # Part of it is not known: the buckets it serves are, and an origin whose domain is
        # not known may be any bucket ("*").
        for origin in summary["Origins"]["Items"]:
            domain = origin["DomainName"]
            found = bucket_of_origin(domain) if isinstance(domain, str) else ("*", "")
            if found:
                out.setdefault(found[0], []).append((instance, unknown))
    return out


def attach(doc: Document, served: dict[str, list[tuple[Instance, dict[str, Any] | Unknown]]]) -> None:
    """The bucket's access.cdn: the distributions of this configuration that serve it."""
    if doc.get("access") is None:
        return
    entries = []
    for instance, entry in served.get(doc["name"], []) + served.get("*", []):
        if isinstance(entry, Unknown):
            unresolved(doc, ["/access/cdn"], instance, entry.reason)
            return
        entries.append(entry)
    doc["access"]["cdn"] = entries


def _summary(instance: Instance) -> dict[str, Any]:
    """The distribution as ListDistributions would list it once applied."""
    origins = []
    for origin in instance.blocks("origin"):
        s3 = (as_blocks(origin.get("s3_origin_config")) or [{}])[0]
        origins.append(
            {
                "Id": origin.get("origin_id"),
                "DomainName": origin.get("domain_name") or "",
                "OriginAccessControlId": origin.get("origin_access_control_id") or "",
                "S3OriginConfig": {"OriginAccessIdentity": s3.get("origin_access_identity") or ""},
            }
        )
    groups = [
        {
            "Id": group.get("origin_id"),
            "Members": {"Items": [{"OriginId": m.get("origin_id")} for m in as_blocks(group.get("member"))]},
        }
        for group in instance.blocks("origin_group")
    ]
    default = (instance.blocks("default_cache_behavior") or [{}])[0]
    restriction = (as_blocks((instance.blocks("restrictions") or [{}])[0].get("geo_restriction")) or [{}])[0]
    enabled = instance.value("enabled")
    return {
        "Id": instance.address,
        "ARN": placeholder(instance, "arn"),
        "DomainName": None,  # known only after apply
        "Enabled": enabled if isinstance(enabled, Unknown) else enabled is not False,
        "Aliases": {"Items": instance.value("aliases") or []},
        "Origins": {"Items": origins},
        "OriginGroups": {"Items": groups},
        "DefaultCacheBehavior": _behaviour(default),
        "CacheBehaviors": {"Items": [_behaviour(b) for b in instance.blocks("ordered_cache_behavior")]},
        "Restrictions": {
            "GeoRestriction": {
                "RestrictionType": restriction.get("restriction_type") or "none",
                "Items": restriction.get("locations") or [],
            }
        },
        "WebACLId": instance.value("web_acl_id"),
    }


def _behaviour(block: dict[str, Any]) -> dict[str, Any]:
    return {
        "PathPattern": block.get("path_pattern", "*"),
        "TargetOriginId": block.get("target_origin_id"),
        "ViewerProtocolPolicy": block.get("viewer_protocol_policy"),
        "TrustedKeyGroups": _signers(block.get("trusted_key_groups")),
        "TrustedSigners": _signers(block.get("trusted_signers")),
        "FunctionAssociations": {
            "Items": [
                {"FunctionARN": f.get("function_arn"), "EventType": f.get("event_type")}
                for f in as_blocks(block.get("function_association"))
            ]
        },
        "LambdaFunctionAssociations": {
            "Items": [
                {"LambdaFunctionARN": f.get("lambda_arn"), "EventType": f.get("event_type")}
                for f in as_blocks(block.get("lambda_function_association"))
            ]
        },
    }


def _signers(value: Any) -> dict[str, Any]:
    if isinstance(value, Unknown) or not isinstance(value, list | None):
        return {"Enabled": value, "Quantity": 0, "Items": []}
    return {"Enabled": bool(value), "Quantity": len(value or []), "Items": value or []}
