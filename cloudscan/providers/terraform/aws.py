"""AWS resources of a Terraform module as the documents the live AWS adapter makes.

A bucket is `aws_s3_bucket` merged with the resources that configure it (`aws_s3_bucket_acl`,
`_policy`, `_public_access_block`, ...), matched by reference or by literal name, and with the
legacy inline blocks. Block Public Access and object ownership that the configuration leaves
out are not guards: the bucket may be older than AWS's 2023 defaults. Encryption left out is
SSE-S3, which S3 applies to every bucket.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
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
from cloudscan.providers.terraform.attributes import placeholder
from cloudscan.providers.terraform.aws_iam import bucket_identity
from cloudscan.providers.terraform.config import Instance, Module
from cloudscan.providers.terraform.documents import (
    as_list,
    ingress,
    isolated,
    known_only_after_apply,
    protocol_name,
    resource_id,
    set_blocks,
    source_of,
    unknown_problems,
    unresolved,
)
from cloudscan.providers.terraform.expressions import Unknown, as_bool, as_int, first_unknown

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


def account_of(module: Module) -> str | None:
    """The AWS account the provider block pins with a single allowed_account_ids entry."""
    allowed = module.providers.get("aws", {}).get("allowed_account_ids")
    if isinstance(allowed, list) and len(allowed) == 1 and isinstance(allowed[0], str):
        return allowed[0]
    return None


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
    yield from isolated(
        module,
        module.managed("aws_s3_bucket"),
        "storage.bucket",
        "aws",
        lambda instance: [_bucket(module, instance, related, unlinked, account_bpa)],
    )


def _bucket(
    module: Module,
    instance: Instance,
    related: dict[Any, dict[str, Instance]],
    unlinked: dict[str, tuple[Instance, str]],
    account_bpa: dict[str, bool] | Unknown | None,
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
            target = _target(instance, "bucket", buckets)
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


def _target(instance: Instance, attribute: str, identities: dict[str, str]) -> Any:
    """The identity `attribute` points at: its value, or in a plan, where a value known only
    after apply is missing, the resource its expression referred to."""
    value = instance.value(attribute)
    if (value is None or isinstance(value, Unknown)) and attribute in instance.references:
        return identities.get(instance.references[attribute])
    return value


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


# -- security groups ---------------------------------------------------------------------------

# Separate rule resources: rule field -> the arguments that hold it.
RULE_ARGUMENTS = {
    "aws_security_group_rule": {
        "protocol": ["protocol"],
        "from": ["from_port"],
        "to": ["to_port"],
        "cidrs": ["cidr_blocks", "ipv6_cidr_blocks"],
        "prefix_lists": ["prefix_list_ids"],
        "groups": ["source_security_group_id"],
        "description": ["description"],
    },
    "aws_vpc_security_group_ingress_rule": {
        "protocol": ["ip_protocol"],
        "from": ["from_port"],
        "to": ["to_port"],
        "cidrs": ["cidr_ipv4", "cidr_ipv6"],
        "prefix_lists": ["prefix_list_id"],
        "groups": ["referenced_security_group_id"],
        "description": ["description"],
    },
}


def ingress_rules(module: Module) -> Iterator[Document]:
    groups = {placeholder(g, "id"): g for g in module.managed("aws_security_group")}
    group_ids = {g.address: placeholder(g, "id") for g in groups.values()}

    def inline(group: Instance) -> Iterator[Document]:
        for rule in group.blocks("ingress"):
            yield from _rule_documents(
                module,
                group,
                group,
                {
                    "protocol": rule.get("protocol"),
                    "from": rule.get("from_port"),
                    "to": rule.get("to_port"),
                    "cidrs": as_list(rule.get("cidr_blocks")) + as_list(rule.get("ipv6_cidr_blocks")),
                    "prefix_lists": as_list(rule.get("prefix_list_ids")),
                    "groups": as_list(rule.get("security_groups")),
                    "description": rule.get("description"),
                },
            )

    def separate(instance: Instance) -> Iterator[Document]:
        names = RULE_ARGUMENTS[instance.type]
        direction = instance.value("type") if instance.type == "aws_security_group_rule" else "ingress"
        if direction == "egress":
            return
        group = groups.get(_target(instance, "security_group_id", group_ids))
        rule = {
            field: [v for n in arguments for v in as_list(instance.value(n))]
            if field in ("cidrs", "prefix_lists", "groups")
            else instance.value(arguments[0])
            for field, arguments in names.items()
        }
        # A type that is not known may be ingress: judged as one, with every result depending on it.
        maybe = (
            []
            if direction == "ingress"
            else [
                ("/rule", direction if isinstance(direction, Unknown) else Unknown(f"type = {direction!r}"))
            ]
        )
        yield from _rule_documents(module, instance, group, rule, maybe)

    yield from isolated(module, groups.values(), "network.ingress", "aws", inline)
    for type_ in RULE_ARGUMENTS:
        yield from isolated(module, module.managed(type_), "network.ingress", "aws", separate)


def _prefix_list_sources(module: Module, lists: list[Any]) -> list[tuple[Any, str]]:
    """Entries of prefix lists this configuration declares; others stay prefix lists."""
    declared = {placeholder(i, "id"): i for i in module.managed("aws_ec2_managed_prefix_list")}
    out: list[tuple[Any, str]] = []
    for listed in lists:
        instance = declared.get(listed) if isinstance(listed, str) else None
        entries = [e.get("cidr") for e in instance.blocks("entry")] if instance else None
        if entries is None or any(not isinstance(e, str) for e in entries):
            out.append((listed, "prefix_list"))
        else:
            out.extend((cidr, "cidr") for cidr in entries)
    return out


def _rule_documents(
    module: Module,
    holder: Instance,
    group: Instance | None,
    rule: dict[str, Any],
    maybe: Sequence[tuple[str, Unknown]] = (),
) -> Iterator[Document]:
    protocol, _ = protocol_name(rule["protocol"])
    given = (as_int(rule["from"]), as_int(rule["to"]))
    first, last = given
    ports = (
        (first, last)
        if protocol in ("tcp", "udp") and isinstance(first, int) and isinstance(last, int)
        else (0, 65535)
    )
    low, high = max(int(ports[0]), 0), min(int(ports[1]), 65535)
    group_name = group.value("name") if group else None
    group_name = group_name if isinstance(group_name, str) else (group.address if group else holder.address)
    sources = (
        [(known_only_after_apply(c), "cidr") for c in rule["cidrs"]]
        + _prefix_list_sources(module, rule["prefix_lists"])
        + [(g, "security_group") for g in rule["groups"]]
    )
    unknown_sources = [(s, t) for s, t in sources if isinstance(s, Unknown)]
    # A rule block that is unknown as a whole has every argument unknown: one rule, not four.
    sources = [(s, t) for s, t in sources if not isinstance(s, Unknown)] + unknown_sources[:1]
    description = rule["description"]
    for source, source_type in sources:
        shown = source if isinstance(source, str) else "(unknown)"
        problems = unknown_problems(
            [
                ("/rule/source", source),
                ("/rule/from_port", given[0]),
                ("/rule/to_port", given[1]),
                ("/rule/protocol", rule["protocol"]),
                *maybe,
            ]
        )
        if source_type == "prefix_list" and isinstance(source, str):
            problems.append(
                ("/rule/source", f"the entries of prefix list {source} are not known from the configuration")
            )
        yield ingress(
            module,
            "aws",
            holder,
            {
                "id": placeholder(group, "id") if group else "(not in this configuration)",
                "name": group_name,
                "network": None,
            },
            {
                "protocol": protocol,
                "from_port": low,
                "to_port": high,
                "source": shown,
                "source_type": source_type,
                "description": description if isinstance(description, str) else None,
            },
            problems,
            account=account_of(module),
        )
