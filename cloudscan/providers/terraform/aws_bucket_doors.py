"""The doors to an S3 bucket that Terraform declares apart from the bucket: its access points
(`aws_s3_access_point`, with `aws_s3control_access_point_policy`), the Multi-Region Access
Points in front of it (`aws_s3control_multi_region_access_point`, with
`aws_s3control_multi_region_access_point_policy` naming it literally), and the canned ACLs of the
objects it uploads (`aws_s3_object`, `aws_s3_bucket_object`), as the live adapter's
access.access_points and object-ACL grants.

An object a configuration does not upload is not in it: only the ACLs Terraform writes are
judged, and an object's key, which may name a patient, never appears (its address does)."""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from cloudscan.model import Document
from cloudscan.providers.aws.iam_policy import (
    PolicyParseError,
    canned_acl,
    parse_policy,
    policy_grants,
    statements,
)
from cloudscan.providers.aws.object_acls import object_grants
from cloudscan.providers.terraform.attributes import NOT_COMPUTED, computed, placeholder
from cloudscan.providers.terraform.aws_iam import account_of, bucket_identity
from cloudscan.providers.terraform.config import Instance, Module
from cloudscan.providers.terraform.documents import as_list, referred, unresolved
from cloudscan.providers.terraform.expressions import Unknown, as_bool

BPA_FLAGS = ("block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets")
OBJECT_TYPES = ("aws_s3_object", "aws_s3_bucket_object")


@computed("managed", "aws_s3_access_point")
def _access_point(instance: Instance, name: str) -> Any:
    """An access point's ARN, where its name, the provider's region and the account are known."""
    if name == "arn":
        return _arn(instance.module, instance.value("name")) or NOT_COMPUTED
    return NOT_COMPUTED


def _arn(module: Module, name: Any) -> str | None:
    region, account = module.providers.get("aws", {}).get("region"), account_of(module)
    if isinstance(name, str) and isinstance(region, str) and account is not None:
        return f"arn:aws:s3:{region}:{account}:accesspoint/{name}"
    return None


class BucketDoors:
    """The access points and object ACLs a module declares, attached to each of its buckets;
    the buckets' identities are worked out once per module, not once per bucket."""

    def __init__(self, module: Module) -> None:
        self.module = module

    @cached_property
    def buckets(self) -> dict[str, str]:
        return {i.address: bucket_identity(i) for i in self.module.managed("aws_s3_bucket")}

    @cached_property
    def _by_bucket(self) -> dict[str, dict[str, list[Instance]]]:
        """Access points and objects with an ACL, by the name of the bucket they refer to;
        under "" those whose bucket the files do not tell (they may be any bucket's)."""
        found: dict[str, dict[str, list[Instance]]] = {"points": {}, "objects": {}}
        declared = [("points", i) for i in self.module.managed("aws_s3_access_point")]
        declared += [
            ("objects", i)
            for type_ in OBJECT_TYPES
            for i in self.module.managed(type_)
            if i.value("acl") is not None
        ]
        for what, instance in declared:
            bucket = referred(instance, "bucket", self.buckets)
            found[what].setdefault(bucket if isinstance(bucket, str) else "", []).append(instance)
        return found

    def attach(self, doc: Document) -> None:
        if doc.get("access") is None:
            return
        points, objects = self._by_bucket["points"], self._by_bucket["objects"]
        _access_points(self.module, doc, points.get(doc["name"], []))
        _object_acls(doc, objects.get(doc["name"], []))
        # A door whose bucket cannot be told may be this bucket's: what it adds is not known.
        for pointer, unplaced in (("/access/access_points", points), ("/access/object_acls", objects)):
            if unplaced.get(""):
                unresolved(doc, [pointer], unplaced[""][0], "its bucket cannot be told from the files")


def _access_points(module: Module, doc: Document, mine: list[Instance]) -> None:
    policies = module.managed("aws_s3control_access_point_policy")
    points: list[dict[str, Any]] = []
    doc["access"]["access_points"] = points
    for i, instance in enumerate(sorted(mine, key=lambda found: found.address)):
        name = instance.value("name")
        name = name if isinstance(name, str) else instance.address
        vpc = instance.blocks("vpc_configuration")
        entry: dict[str, Any] = {
            "name": name,
            "arn": _arn(module, name),
            "network_origin": "VPC" if vpc else "Internet",
            "vpc_id": vpc[0].get("vpc_id") if vpc and isinstance(vpc[0].get("vpc_id"), str) else None,
            "block_public_access": _flags(instance),
            "policy": None,
            "grants": [],
            "multi_region": False,
        }
        points.append(entry)
        here = f"/access/access_points/{i}"
        if isinstance(entry["block_public_access"], Unknown):
            unresolved(doc, [f"{here}/block_public_access"], instance, entry["block_public_access"].reason)
        holder = next((p for p in policies if _names(p, instance, entry["arn"])), instance)
        _policy(doc, here, entry, holder)
    for instance in module.managed("aws_s3control_multi_region_access_point"):
        details = (instance.blocks("details") or [{}])[0]
        if any(region.get("bucket") == doc["name"] for region in as_list(details.get("region"))):
            _multi_region(module, doc, instance, details, points)


def _multi_region(
    module: Module, doc: Document, instance: Instance, details: dict[str, Any], points: list[dict[str, Any]]
) -> None:
    name = details.get("name")
    name = name if isinstance(name, str) else instance.address
    here = f"/access/access_points/{len(points)}"
    block = (as_list(details.get("public_access_block")) or [{}])[0]
    flags = {flag: as_bool(block.get(flag), True) for flag in BPA_FLAGS}
    entry: dict[str, Any] = {
        "name": name,
        "arn": None,  # its alias is known only after apply
        "network_origin": "Internet",
        "vpc_id": None,
        "block_public_access": {f: bool(v) for f, v in flags.items()},
        "policy": {"present": False, "statement_count": 0},
        "grants": [],
        "multi_region": True,
    }
    points.append(entry)
    unknown = next((v for v in flags.values() if isinstance(v, Unknown)), None)
    if unknown is not None:
        unresolved(doc, [f"{here}/block_public_access"], instance, unknown.reason)
    for policy in module.managed("aws_s3control_multi_region_access_point_policy"):
        wanted = (policy.blocks("details") or [{}])[0]
        if wanted.get("name") == name:
            _policy(doc, here, entry, policy, wanted.get("policy"), "Multi-Region Access Point")
        elif not isinstance(wanted.get("name"), str):
            unresolved(doc, [f"{here}/policy"], policy, "the Multi-Region Access Point it names is not known")


def _names(policy: Instance, point: Instance, arn: str | None) -> bool:
    """Whether an access point policy resource is that access point's: by reference (in a
    plan), by its ARN, or by the placeholder of an ARN known only after apply."""
    target = referred(policy, "access_point_arn", {point.address: point.address})
    return target in (point.address, placeholder(point, "arn")) or (arn is not None and target == arn)


def _flags(instance: Instance) -> dict[str, bool] | Unknown:
    """The access point's own Block Public Access: every flag on unless declared off (S3's and
    the provider's default)."""
    block = (instance.blocks("public_access_block_configuration") or [{}])[0]
    values = {flag: as_bool(block.get(flag), True) for flag in BPA_FLAGS}
    for value in values.values():
        if isinstance(value, Unknown):
            return value
    return {flag: bool(value) for flag, value in values.items()}


def _policy(
    doc: Document,
    here: str,
    entry: dict[str, Any],
    holder: Instance,
    text: Any = None,
    what: str = "access point",
) -> None:
    text = holder.value("policy") if text is None else text
    if text is None:
        entry["policy"] = {"present": False, "statement_count": 0}
        return
    if isinstance(text, Unknown):
        unresolved(doc, [f"{here}/policy"], holder, text.reason)
        return
    try:
        document = parse_policy(text if isinstance(text, str) else json.dumps(text))
        grants = policy_grants(document)
    except PolicyParseError as exc:
        unresolved(doc, [f"{here}/policy"], holder, str(exc))
        return
    for grant in grants:
        grant["origin"] = f"{what} {entry['name']} ({holder.address}) {grant['origin']}"
    entry["policy"] = {"present": True, "statement_count": len(statements(document))}
    entry["grants"] = grants


def _object_acls(doc: Document, objects: list[Instance]) -> None:
    if not objects:
        return
    grants: list[dict[str, Any]] = []
    for instance in objects:
        canned = instance.value("acl")
        acl = canned_acl(canned) if isinstance(canned, str) else None
        if acl is None:
            reason = canned.reason if isinstance(canned, Unknown) else f"unknown canned ACL {canned!r}"
            unresolved(doc, ["/access/object_acls"], instance, reason)
            doc["access"]["grants"] += grants
            return
        grants += object_grants(acl, f"{instance.address} acl {canned}", owner=None)
    doc["access"]["object_acls"] = {"read": len(objects), "grant_count": len(grants)}
    doc["access"]["grants"] += grants
