"""The ACLs of the objects the content sample read: one public study makes its bucket public.

Read only where ACLs can still grant: Object Ownership other than BucketOwnerEnforced, and
IgnorePublicAcls off at both the account and the bucket (a guard that could not be read counts
as off, so the ACL is read and the guard's own unknown decides). Object names never reach an
error or a reason: the sample's shown name stands for them."""

from __future__ import annotations

from typing import Any

from cloudscan import model
from cloudscan.model import Document, mark_unknown
from cloudscan.providers.aws.calls import error_of, persist
from cloudscan.providers.aws.iam_policy import GROUPS
from cloudscan.providers.sampling import Sampling, shown_name

CALL = "s3:GetObjectAcl"
POINTER = "/access/object_acls"
# What an object ACL permission allows on that object (S3 User Guide, "Access control list
# (ACL) overview"); WRITE means nothing on an object.
OBJECT_PERMISSIONS = {
    "READ": ["read"],
    "WRITE": [],
    "READ_ACP": ["read_acl"],
    "WRITE_ACP": ["write_acl"],
    "FULL_CONTROL": ["read", "read_acl", "write_acl"],
}


def acls_apply(guards: dict[str, Any]) -> bool:
    """Whether an object ACL could still grant anything: ACLs enabled and public ones not ignored."""
    if guards.get("object_ownership") == "BucketOwnerEnforced":
        return False
    for level in ("account", "bucket"):
        block = guards.get(f"{level}_block_public_access")
        if block is not None and block.get("ignore_public_acls"):
            return False
    return True


def read_object_acls(doc: Document, s3: Any, names: list[str], sampling: Sampling) -> None:
    """Add the grants of each sampled object's ACL to the bucket's grants (via `object_acl`),
    and count what was read under access.object_acls; a failed read leaves it unknown."""
    access = doc["access"]
    owner = (access.get("acl") or {}).get("owner")
    grants: list[dict[str, Any]] = []
    for i, name in enumerate(names):
        shown = shown_name(name, sampling)
        try:
            answer = persist(s3.get_object_acl, Bucket=doc["name"], Key=name)
        except Exception as exc:
            code, _ = error_of(exc)  # S3's message may echo the key: it may be a patient's name
            message = f"reading the ACL of sampled object {i + 1} of {len(names)} ({shown}) failed ({code})"
            mark_unknown(doc, [POINTER], call=CALL, code=code, message=message)
            access["grants"] += grants  # what was read stands: a public object stays public
            return
        origin = f"ACL of sampled object {i + 1} of {len(names)} ({shown})"
        grants += object_grants(answer, origin, owner)
    access["object_acls"] = {"read": len(names), "grant_count": len(grants)}
    access["grants"] += grants


def object_grants(acl: dict[str, Any], origin: str, owner: str | None) -> list[dict[str, Any]]:
    """The object's grants but the bucket owner's own (an object another account wrote keeps
    that account's grant: it is access by another account)."""
    out = []
    for j, entry in enumerate(acl.get("Grants", [])):
        grantee = entry.get("Grantee", {})
        if grantee.get("Type") == "Group":
            uri = grantee.get("URI", "")
            who = model.principal(GROUPS.get(uri, "unknown"), uri)
        else:
            pid = grantee.get("ID") or grantee.get("EmailAddress", "")
            if owner is not None and pid == owner:
                continue
            who = model.principal("canonical_user", pid)
        permission = entry.get("Permission", "")
        out.append(
            model.grant(
                who,
                OBJECT_PERMISSIONS.get(permission, []),
                via="object_acl",
                origin=f"{origin} Grants[{j}]",
                actions=[permission],
            )
        )
    return out
