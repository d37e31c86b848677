"""EBS and RDS snapshots of a Terraform module as the storage.snapshot documents the live AWS
adapter makes.

- `aws_ebs_snapshot` and `aws_ebs_snapshot_copy`, shared by `aws_snapshot_create_volume_permission`
  (one account each). The provider has no argument that shares with all (its `account_id`
  takes an account); an `account_id` of "all" is judged public all the same, as its author
  meant. A permission on a snapshot this configuration does not declare is a document of its
  own, named by the snapshot id, whose encryption is unknown.
- `aws_db_snapshot` and `aws_db_cluster_snapshot`, shared by `shared_accounts` ("all": public).

An EBS snapshot's guard is the module's `aws_ebs_snapshot_block_public_access` (not declared: no
guard, as for buckets: the account may have been made before anyone switched it on).

A snapshot is encrypted as what it copies is: the `aws_ebs_volume` (or the module's
`aws_ebs_encryption_by_default`), the `aws_db_instance` or the `aws_rds_cluster` it names.
When that is not declared here, its encryption is unknown; a copy says its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudscan.model import Document, new_resource
from cloudscan.providers.terraform.attributes import named_identity, placeholder
from cloudscan.providers.terraform.aws_iam import account_of
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
from cloudscan.providers.terraform.expressions import Unknown, as_bool

PUBLIC = "all"
EBS_TYPES = ("aws_ebs_snapshot", "aws_ebs_snapshot_copy")
PERMISSION = "aws_snapshot_create_volume_permission"
# type -> (snapshot type, what it copies, the argument naming it, the resource that is it,
# that resource's identifier argument, its encryption argument)
RDS_TYPES = {
    "aws_db_snapshot": (
        "database",
        "db-instance",
        "db_instance_identifier",
        "aws_db_instance",
        "identifier",
        "storage_encrypted",
    ),
    "aws_db_cluster_snapshot": (
        "database-cluster",
        "db-cluster",
        "db_cluster_identifier",
        "aws_rds_cluster",
        "cluster_identifier",
        "storage_encrypted",
    ),
}
RDS_NAME = {
    "aws_db_snapshot": "db_snapshot_identifier",
    "aws_db_cluster_snapshot": "db_cluster_snapshot_identifier",
}


def snapshots(module: Module) -> Iterator[Document]:
    ebs = [i for t in EBS_TYPES for i in module.managed(t)]
    ids = {i.address: placeholder(i, "id") for i in ebs}
    permissions: dict[Any, list[Instance]] = {}
    for permission in module.managed(PERMISSION):
        target = referred(permission, "snapshot_id", ids)
        key = target if isinstance(target, str) else permission.address
        permissions.setdefault(key, []).append(permission)
    declared = set(ids.values())
    yield from isolated(
        module,
        ebs,
        "storage.snapshot",
        "aws",
        lambda i: [_ebs(module, i, permissions.pop(ids[i.address], []), ids)],
    )
    undeclared = [group for key, group in permissions.items() if key not in declared]
    yield from isolated(
        module,
        [group[0] for group in undeclared],
        "storage.snapshot",
        "aws",
        lambda i: [_undeclared(module, i, next(g for g in undeclared if g[0] is i))],
    )
    for type_ in RDS_TYPES:
        yield from isolated(
            module, module.managed(type_), "storage.snapshot", "aws", lambda i: [_rds(module, i)]
        )


def _guards(module: Module, holder: Instance, doc: Document) -> None:
    """The module's block public access for EBS snapshots, as the live adapter reads the region's."""
    declared = module.managed("aws_ebs_snapshot_block_public_access")
    state = declared[0].value("state") if declared else None
    if isinstance(state, Unknown):
        doc["guards"] = {"block_public_access": None}
        unresolved(doc, ["/guards/block_public_access"], declared[0], state.reason)
    elif state is not None and state not in ("block-all-sharing", "block-new-sharing", "unblocked"):
        doc["guards"] = {"block_public_access": None}
        unresolved(doc, ["/guards/block_public_access"], declared[0], f"state = {state!r} is not a state")
    else:
        doc["guards"] = {"block_public_access": state}


def _document(module: Module, instance: Instance, name: Any) -> Document:
    tags = instance.value("tags")
    tags = {k: v for k, v in tags.items() if isinstance(v, str)} if isinstance(tags, dict) else {}
    return new_resource(
        "storage.snapshot",
        "aws",
        resource_id(module, instance),
        name=name if isinstance(name, str) else instance.address,
        account=account_of(module),
        labels=tags,
        source=source_of(instance),
    )


# -- EBS ------------------------------------------------------------------------------------------


def _ebs(module: Module, instance: Instance, permissions: list[Instance], ids: dict[str, str]) -> Document:
    tags = instance.value("tags")
    doc = _document(module, instance, tags.get("Name") if isinstance(tags, dict) else None)
    volume_id: Any = None
    if instance.type == "aws_ebs_snapshot":
        volume_id = _volume_of(module, instance)
        encryption = _volume_encryption(module, volume_id)
    else:
        encryption = _copy_encryption(module, instance, ids)
    doc["snapshot"] = {
        "type": "disk",
        "taken_from": {"type": "volume", "id": volume_id if isinstance(volume_id, str) else None},
        "engine": None,
        "created": None,
        "creation": None,
    }
    _set_encryption(doc, encryption, instance)
    set_blocks(doc, {"sharing": _permitted(permissions)}, instance)
    _guards(module, instance, doc)
    return doc


def _undeclared(module: Module, permission: Instance, permissions: list[Instance]) -> Document:
    target = permission.value("snapshot_id")
    doc = _document(module, permission, target)
    doc["snapshot"] = {
        "type": "disk",
        "taken_from": {"type": "volume", "id": None},
        "engine": None,
        "created": None,
        "creation": None,
    }
    reason = Unknown(f"snapshot {target if isinstance(target, str) else '(unknown)'} is not declared here")
    set_blocks(doc, {"encryption": reason, "sharing": _permitted(permissions)}, permission)
    _guards(module, permission, doc)
    return doc


def _permitted(permissions: list[Instance]) -> dict[str, Any] | Unknown:
    return _shared([p.value("account_id") for p in permissions])


def _shared(accounts: list[Any]) -> dict[str, Any] | Unknown:
    """Who may restore the snapshot, from the account ids that share it ("all": everyone)."""
    for account in accounts:
        if isinstance(account, Unknown):
            return account
        if not isinstance(account, str):
            return Unknown(f"{account!r} is not an account id")
    return {"public": PUBLIC in accounts, "accounts": sorted({a for a in accounts if a != PUBLIC})}


def _volume_of(module: Module, snapshot: Instance) -> Any:
    """The volume id a snapshot names (in a plan, where the id is known only after apply, the
    declared volume its expression referred to)."""
    volumes = {v.address: placeholder(v, "id") for v in module.managed("aws_ebs_volume")}
    return referred(snapshot, "volume_id", volumes)


def _volume_encryption(module: Module, volume_id: Any) -> dict[str, Any] | Unknown:
    volumes = [v for v in module.managed("aws_ebs_volume") if placeholder(v, "id") == volume_id]
    if not volumes:
        return Unknown(
            f"volume {volume_id if isinstance(volume_id, str) else '(unknown)'} is not declared here"
        )
    volume = volumes[0]
    by_default = any(
        as_bool(d.value("enabled"), True) is True for d in module.managed("aws_ebs_encryption_by_default")
    )
    encrypted = as_bool(volume.value("encrypted"), False)
    if isinstance(encrypted, Unknown):
        return encrypted
    return _encryption(bool(encrypted) or by_default, volume.value("kms_key_id"))


def _copy_encryption(module: Module, copy: Instance, ids: dict[str, str]) -> dict[str, Any] | Unknown:
    encrypted = as_bool(copy.value("encrypted"), False)
    if isinstance(encrypted, Unknown):
        return encrypted
    if encrypted:
        return _encryption(True, copy.value("kms_key_id"))
    # Not asked to encrypt: the copy is encrypted as its source is.
    source = copy.value("source_snapshot_id")
    sources = [i for i in module.managed("aws_ebs_snapshot") if ids.get(i.address) == source]
    if not sources:
        return Unknown(
            f"source snapshot {source if isinstance(source, str) else '(unknown)'} is not declared here"
        )
    return _volume_encryption(module, _volume_of(module, sources[0]))


def _encryption(enabled: bool, key: Any) -> dict[str, Any]:
    """Whether it is encrypted, and with which key; a key known only after apply (a plan's
    aws_kms_key.x.arn) stays Unknown inside, so that only the key is unknown."""
    if not enabled:
        return {"enabled": False, "kms_key": None}
    return {"enabled": True, "kms_key": key if isinstance(key, str | Unknown) else None}


def _set_encryption(doc: Document, encryption: dict[str, Any] | Unknown, holder: Instance) -> None:
    if isinstance(encryption, dict) and isinstance(encryption["kms_key"], Unknown):
        doc["encryption"] = {**encryption, "kms_key": None}
        unresolved(doc, ["/encryption/kms_key"], holder, encryption["kms_key"].reason)
    else:
        set_blocks(doc, {"encryption": encryption}, holder)


# -- RDS ------------------------------------------------------------------------------------------


def _rds(module: Module, instance: Instance) -> Document:
    type_, of, argument, source_type, identifier, encrypted_argument = RDS_TYPES[instance.type]
    doc = _document(module, instance, instance.value(RDS_NAME[instance.type]))
    source_id = instance.value(argument)
    sources = [s for s in module.managed(source_type) if named_identity(s, identifier) == source_id]
    engine = sources[0].value("engine") if sources else None
    doc["snapshot"] = {
        "type": type_,
        "taken_from": {"type": of, "id": source_id if isinstance(source_id, str) else None},
        "engine": engine if isinstance(engine, str) else None,
        "created": None,
        "creation": "manual",
    }
    encryption: dict[str, Any] | Unknown
    if sources:
        encrypted = as_bool(sources[0].value(encrypted_argument), False)
        encryption = (
            encrypted
            if isinstance(encrypted, Unknown)
            else _encryption(bool(encrypted), sources[0].value("kms_key_id"))
        )
    else:
        shown = source_id if isinstance(source_id, str) else "(unknown)"
        encryption = Unknown(f"{source_type} {shown} is not declared here")
    shared = instance.value("shared_accounts")
    sharing = shared if isinstance(shared, Unknown) else _shared(as_list(shared))
    _set_encryption(doc, encryption, instance)
    set_blocks(doc, {"sharing": sharing}, instance)
    doc["guards"] = {"block_public_access": None}  # RDS has no such setting
    return doc
