"""AWS resources of a Terraform module as the documents the live AWS adapter makes.

A bucket is `aws_s3_bucket` merged with the resources that configure it (`aws_s3_bucket_acl`,
`_policy`, `_public_access_block`, ...), matched by reference or by literal name, and with the
legacy inline blocks. Block Public Access and object ownership that the configuration leaves
out are not guards: the bucket may be older than AWS's 2023 defaults. Encryption left out is
SSE-S3, which S3 applies to every bucket.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from cloudscan.model import Document, bucket_access, new_resource
from cloudscan.providers.aws.iam_policy import (
    PolicyParseError,
    acl_grants,
    canned_acl,
    parse_policy,
    policy_grants,
    statements,
)
from cloudscan.providers.terraform import aws_cloudfront
from cloudscan.providers.terraform.aws_bucket_doors import BucketDoors
from cloudscan.providers.terraform.aws_iam import account_of, bucket_identity
from cloudscan.providers.terraform.aws_security_groups import ingress_rules
from cloudscan.providers.terraform.aws_snapshots import snapshots
from cloudscan.providers.terraform.config import Instance, Module
from cloudscan.providers.terraform.documents import (
    as_list,
    isolated,
    referred,
    resource_id,
    set_blocks,
    source_of,
    unresolved,
)
from cloudscan.providers.terraform.expressions import Unknown, as_bool, first_unknown

BPA_FLAGS = ("block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets")
NOT_DECLARED_BPA = dict.fromkeys(BPA_FLAGS, False)
SPLIT_TYPES = (
    "aws_s3_bucket_acl",
    "aws_s3_bucket_policy",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_logging",
    "aws_s3_bucket_object_lock_configuration",
)
# The bucket field each split resource sets.
SPLIT_FIELDS = {
    "aws_s3_bucket_acl": "/access/acl",
    "aws_s3_bucket_policy": "/access/policy",
    "aws_s3_bucket_public_access_block": "/access/guards/bucket_block_public_access",
    "aws_s3_bucket_ownership_controls": "/access/guards/object_ownership",
    "aws_s3_bucket_versioning": "/versioning",
    "aws_s3_bucket_server_side_encryption_configuration": "/encryption",
    "aws_s3_bucket_logging": "/logging",
    "aws_s3_bucket_object_lock_configuration": "/object_lock",
}


# -- account ------------------------------------------------------------------------------------


def accounts(module: Module) -> Iterator[Document]:
    declared = module.managed("aws_s3_account_public_access_block")
    yield from isolated(module, declared, "storage.account", "aws", lambda i: [_account(module, i)])


def _account(module: Module, instance: Instance) -> Document:
    account = instance.value("account_id")
    account = account if isinstance(account, str) else account_of(module)
    doc = new_resource(
        "storage.account",
        "aws",
        resource_id(module, instance),
        account=account,
        name=f"account {account or '(applying account)'} S3 settings",
        source=source_of(instance),
    )
    set_blocks(doc, {"block_public_access": _flags(instance)}, instance)
    return doc


def declared_account_bpa(module: Module) -> dict[str, bool] | Unknown | None:
    """The account-level Block Public Access this module declares, if any. Another directory
    may well configure another account, so a declaration never reaches across modules."""
    for instance in module.managed("aws_s3_account_public_access_block"):
        return _flags(instance)
    if module.unreadable:
        return Unknown(f"{', '.join(module.unreadable)} could not be read and may declare it")
    return None


def _flags(instance: Instance) -> dict[str, bool] | Unknown:
    if instance.uncertain:
        return Unknown(f"{instance.address}: {instance.uncertain}")
    values = {flag: as_bool(instance.value(flag), False) for flag in BPA_FLAGS}
    unknown = first_unknown(values)
    return unknown or {flag: bool(values[flag]) for flag in BPA_FLAGS}


# -- buckets ------------------------------------------------------------------------------------


def buckets(module: Module) -> Iterator[Document]:
    account_bpa = declared_account_bpa(module)
    related, unlinked = _related_by_bucket(module)
    served = aws_cloudfront.served_buckets(module)
    doors = BucketDoors(module)
    yield from isolated(
        module,
        module.managed("aws_s3_bucket"),
        "storage.bucket",
        "aws",
        lambda instance: [_cdn(_bucket(module, instance, related, unlinked, account_bpa, doors), served)],
    )


def _cdn(doc: Document, served: dict[str, Any]) -> Document:
    aws_cloudfront.attach(doc, served)  # the CloudFront distributions that serve the bucket
    return doc


def _bucket(
    module: Module,
    instance: Instance,
    related: dict[Any, dict[str, Instance]],
    unlinked: dict[str, tuple[Instance, str]],
    account_bpa: dict[str, bool] | Unknown | None,
    doors: BucketDoors,
) -> Document:
    identity = bucket_identity(instance)
    parts = related.get(identity, {})
    doc = new_resource(
        "storage.bucket",
        "aws",
        resource_id(module, instance),
        name=identity,
        account=account_of(module),
        source=source_of(instance),
    )
    tags = instance.value("tags")
    if isinstance(unknown := first_unknown(tags), Unknown):
        unresolved(doc, ["/labels"], instance, unknown.reason)
    else:
        doc["labels"] = {str(k): str(v) for k, v in (tags or {}).items()}
    _access(doc, instance, parts, account_bpa)
    doors.attach(doc)  # access points, and the ACLs of the objects it uploads
    _encryption(doc, instance, parts.get("aws_s3_bucket_server_side_encryption_configuration"))
    _versioning(doc, instance, parts.get("aws_s3_bucket_versioning"))
    _object_lock(doc, instance, parts.get("aws_s3_bucket_object_lock_configuration"))
    _logging(doc, instance, parts.get("aws_s3_bucket_logging"))
    for type_, pointer in SPLIT_FIELDS.items():
        # A setting this scan could not attach (or a file it could not read) may be this
        # bucket's: what was taken from the bucket or from defaults is then not known.
        if type_ in parts:
            continue
        if type_ in unlinked:
            other, reason = unlinked[type_]
            unresolved(doc, [pointer], other, f"configures a bucket this scan cannot tell: {reason}")
        elif module.unreadable:
            unresolved(
                doc,
                [pointer],
                instance,
                f"{', '.join(module.unreadable)} could not be read and may configure it",
            )
    return doc


def _related_by_bucket(
    module: Module,
) -> tuple[dict[Any, dict[str, Instance]], dict[str, tuple[Instance, str]]]:
    """bucket identity -> split resource type -> the instance configuring that bucket; and per
    type, a split resource whose bucket (or existence) cannot be known, with the reason."""
    buckets = {i.address: bucket_identity(i) for i in module.managed("aws_s3_bucket")}
    linked: dict[Any, dict[str, Instance]] = {}
    unlinked: dict[str, tuple[Instance, str]] = {}
    for type_ in SPLIT_TYPES:
        for instance in module.related(type_):
            target = referred(instance, "bucket", buckets)
            if instance.module is not module and not isinstance(target, str):
                continue  # another module's setting for a bucket it cannot name: that module's
            if instance.uncertain:
                unlinked.setdefault(type_, (instance, f"{instance.address}: {instance.uncertain}"))
            elif isinstance(target, str):
                linked.setdefault(target, {})[type_] = instance
            else:
                reason = target.reason if isinstance(target, Unknown) else "its bucket argument is missing"
                unlinked.setdefault(type_, (instance, f"{instance.address}: {reason}"))
    return linked, unlinked


def _access(
    doc: Document, bucket: Instance, parts: dict[str, Instance], account_bpa: dict[str, bool] | Unknown | None
) -> None:
    access = bucket_access(
        {"account_block_public_access": None, "bucket_block_public_access": None, "object_ownership": None}
    )
    doc["access"] = access
    guards = access["guards"]
    if isinstance(account_bpa, Unknown):
        unresolved(doc, ["/access/guards/account_block_public_access"], bucket, account_bpa.reason)
    else:
        # Not declared in this configuration: judge the bucket as written, without it.
        guards["account_block_public_access"] = account_bpa or NOT_DECLARED_BPA

    pab = parts.get("aws_s3_bucket_public_access_block")
    flags = _flags(pab) if pab else NOT_DECLARED_BPA
    if pab and isinstance(flags, Unknown):
        unresolved(doc, ["/access/guards/bucket_block_public_access"], pab, flags.reason)
    else:
        guards["bucket_block_public_access"] = flags

    ownership = parts.get("aws_s3_bucket_ownership_controls")
    value: object = "ObjectWriter"  # ACLs enabled, as on every bucket made before April 2023
    if ownership:
        rules = ownership.blocks("rule")
        value = rules[0].get("object_ownership") if rules else None
    if isinstance(value, str):
        guards["object_ownership"] = value
    else:
        unresolved(
            doc,
            ["/access/guards/object_ownership"],
            ownership or bucket,
            value.reason if isinstance(value, Unknown) else "no object_ownership rule",
        )

    _acl(doc, bucket, parts.get("aws_s3_bucket_acl"))
    _policy(doc, bucket, parts.get("aws_s3_bucket_policy"))
    # The configuration does not say when its bucket was made, and hospitals bring old buckets
    # under Terraform: a public grant whose only protection would be a default is unprotected.
    defaults = (("Block Public Access", pab), ("object ownership", ownership))
    for grant in access["grants"]:
        who = grant["principal"]
        public = who["type"] in ("public", "all_authenticated") or who["negated"]
        undeclared = [
            name
            for name, declared in defaults
            if declared is None and (grant["via"] == "acl" or name != "object ownership")
        ]
        if public and undeclared:
            grant["origin"] += (
                f" (no {' or '.join(undeclared)} is declared for this bucket: the defaults "
                "of buckets made since April 2023 are not assumed)"
            )


def _acl(doc: Document, bucket: Instance, acl_resource: Instance | None) -> None:
    holder = acl_resource or bucket
    canned = holder.value("acl")
    grants_block = holder.blocks("access_control_policy") if acl_resource else []
    legacy_grants = bucket.blocks("grant") if not acl_resource else []
    if grants_block:
        document: dict[str, Any] = {
            "Grants": [_grant(g) for block in grants_block for g in as_list(block.get("grant"))]
        }
    elif legacy_grants:  # grant { type, uri or id, permissions = [...] } on aws_s3_bucket
        document = {
            "Grants": [
                _grant(
                    {
                        "grantee": {"type": g.get("type"), "uri": g.get("uri"), "id": g.get("id")},
                        "permission": permission,
                    }
                )
                for g in legacy_grants
                for permission in as_list(g.get("permissions"))
            ]
        }
    elif canned is None:
        document = {"Grants": []}  # no ACL configured: the owner alone
    elif isinstance(canned, str) and (canned_document := canned_acl(canned)) is not None:
        document = canned_document
    else:
        reason = canned.reason if isinstance(canned, Unknown) else f"unknown canned ACL {canned!r}"
        unresolved(doc, ["/access/acl"], holder, reason)
        return
    unknown = first_unknown(document)
    if unknown:
        unresolved(doc, ["/access/acl"], holder, unknown.reason)
        return
    grants = acl_grants(document)
    for grant in grants:
        grant["origin"] = f"{holder.address} {grant['origin']}"
    doc["access"]["acl"] = {"owner": None, "grant_count": len(grants)}
    doc["access"]["grants"].extend(grants)


def _grant(block: dict[str, Any]) -> dict[str, Any]:
    grantee = (as_list(block.get("grantee")) or [{}])[0]
    kind = grantee.get("type", "CanonicalUser")
    if kind == "Group":
        entry = {"Type": "Group", "URI": grantee.get("uri")}
    elif kind == "AmazonCustomerByEmail":
        entry = {"Type": kind, "EmailAddress": grantee.get("email_address")}
    else:
        entry = {"Type": "CanonicalUser", "ID": grantee.get("id")}
    return {"Grantee": entry, "Permission": block.get("permission")}


def _policy(doc: Document, bucket: Instance, policy_resource: Instance | None) -> None:
    holder = policy_resource or bucket
    text = holder.value("policy")
    if text is None:
        doc["access"]["policy"] = {"present": False, "statement_count": 0}
        return
    if isinstance(text, Unknown):
        unresolved(doc, ["/access/policy"], holder, text.reason)
        return
    try:
        document = parse_policy(text if isinstance(text, str) else json.dumps(text))
        grants = policy_grants(document)
    except PolicyParseError as exc:
        unresolved(doc, ["/access/policy"], holder, str(exc))
        return
    for grant in grants:
        grant["origin"] = f"{holder.address} {grant['origin']}"
    doc["access"]["policy"] = {"present": True, "statement_count": len(statements(document))}
    doc["access"]["grants"].extend(grants)


def _encryption(doc: Document, bucket: Instance, resource: Instance | None) -> None:
    if resource:
        rules, holder = resource.blocks("rule"), resource
    else:
        legacy = bucket.blocks("server_side_encryption_configuration")
        rules, holder = (as_list(legacy[0].get("rule")) if legacy else []), bucket
    if not rules:
        # Since January 2023 S3 encrypts every new bucket with SSE-S3.
        doc["encryption"] = {"enabled": True, "algorithm": "AES256", "kms_key": None, "bucket_key": None}
        return
    rule = rules[0]
    default = (as_list(rule.get("apply_server_side_encryption_by_default")) or [{}])[0]
    value = {
        "enabled": bool(default.get("sse_algorithm")),
        "algorithm": default.get("sse_algorithm"),
        "kms_key": default.get("kms_master_key_id"),
        "bucket_key": as_bool(rule.get("bucket_key_enabled")),
    }
    set_blocks(doc, {"encryption": value}, holder)


def _versioning(doc: Document, bucket: Instance, resource: Instance | None) -> None:
    if resource:
        config = (resource.blocks("versioning_configuration") or [{}])[0]
        value = {
            "enabled": config.get("status") == "Enabled",
            "mfa_delete": config.get("mfa_delete") == "Enabled",
        }
        unknown = first_unknown(config)
        holder = resource
    else:
        legacy = (bucket.blocks("versioning") or [{}])[0]
        value = {
            "enabled": as_bool(legacy.get("enabled"), False),
            "mfa_delete": as_bool(legacy.get("mfa_delete"), False),
        }
        unknown = first_unknown(legacy)
        holder = bucket
    if unknown:
        unresolved(doc, ["/versioning"], holder, unknown.reason)
    else:
        doc["versioning"] = value


def _object_lock(doc: Document, bucket: Instance, resource: Instance | None) -> None:
    legacy = (bucket.blocks("object_lock_configuration") or [{}])[0]
    enabled = as_bool(bucket.value("object_lock_enabled"), False) is True or (
        legacy.get("object_lock_enabled") == "Enabled"
    )
    rules = resource.blocks("rule") if resource else as_list(legacy.get("rule"))
    retention = (as_list(rules[0].get("default_retention")) or [{}])[0] if rules else {}
    days = retention.get("days") or ((retention.get("years") or 0) * 365) or None
    value = {
        "enabled": bool(enabled or resource),
        "mode": retention.get("mode"),
        "retention_days": days if isinstance(days, int) else None,
    }
    set_blocks(doc, {"object_lock": value}, resource or bucket)


def _logging(doc: Document, bucket: Instance, resource: Instance | None) -> None:
    holder = resource or bucket
    target = (
        resource.value("target_bucket")
        if resource
        else (bucket.blocks("logging") or [{}])[0].get("target_bucket")
    )
    set_blocks(doc, {"logging": {"enabled": target is not None, "target": target}}, holder)


__all__ = ["account_of", "accounts", "buckets", "declared_account_bpa", "ingress_rules", "snapshots"]
