"""GCS IAM bindings and ACL entries as cloudscan grants (GCP vocabulary in, neutral out)."""

from __future__ import annotations

import re
from typing import Any

from cloudscan import model

ALL = ["read", "list", "write", "read_acl", "write_acl"]
# What a predefined role lets its members do with a bucket and its objects. A role not listed
# (a custom one) is taken to allow everything: a false alarm is better than a missed leak.
ROLE_PERMISSIONS = {
    "roles/storage.objectViewer": ["read", "list"],
    "roles/storage.objectUser": ["read", "list", "write"],
    "roles/storage.objectCreator": ["write"],
    "roles/storage.objectAdmin": ["read", "list", "write", "read_acl", "write_acl"],
    "roles/storage.admin": ALL,
    "roles/storage.bucketViewer": [],
    "roles/storage.legacyBucketReader": ["list"],
    "roles/storage.legacyBucketWriter": ["list", "write"],
    "roles/storage.legacyBucketOwner": ["list", "write", "read_acl", "write_acl"],
    "roles/storage.legacyObjectReader": ["read"],
    "roles/storage.legacyObjectOwner": ["read", "read_acl", "write_acl"],
    "roles/viewer": ["read", "list"],
    "roles/editor": ["read", "list", "write"],
    "roles/owner": ALL,
}
# What a role lets its members do with the studies of a Healthcare DICOM store (search and
# retrieve are read and list; store and delete are write).
DICOM_ROLE_PERMISSIONS = {
    "roles/healthcare.dicomViewer": ["read", "list"],
    "roles/healthcare.dicomEditor": ["read", "list", "write"],
    "roles/healthcare.dicomStoreAdmin": ALL,
    "roles/healthcare.dicomStoreViewer": [],
    "roles/healthcare.datasetAdmin": ALL,
    "roles/healthcare.datasetViewer": [],
    "roles/viewer": ["read", "list"],
    "roles/editor": ["read", "list", "write"],
    "roles/owner": ALL,
}
# Bucket ACL roles govern the bucket (listing, adding objects); default object ACL roles are
# what every new object gets.
BUCKET_ACL = {
    "READER": ["list"],
    "WRITER": ["list", "write"],
    "OWNER": ["list", "write", "read_acl", "write_acl"],
}
OBJECT_ACL = {"READER": ["read"], "OWNER": ["read", "read_acl", "write_acl"]}
PREDEFINED_BUCKET_ACL = {
    "publicRead": [("allUsers", "READER")],
    "publicReadWrite": [("allUsers", "WRITER")],
    "authenticatedRead": [("allAuthenticatedUsers", "READER")],
}
PREDEFINED_OBJECT_ACL = {
    "publicRead": [("allUsers", "READER")],
    "authenticatedRead": [("allAuthenticatedUsers", "READER")],
}
SERVICE_ACCOUNT = re.compile(r"@([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$")


def principal(member: str) -> dict[str, Any]:
    """An IAM member (allUsers, user:..., serviceAccount:...) or ACL entity (allUsers,
    user-..., project-viewers-...) as a neutral principal."""
    if member == "allUsers":
        return model.principal("public", member)
    if member == "allAuthenticatedUsers":
        return model.principal("all_authenticated", member)
    project = None
    match = SERVICE_ACCOUNT.search(member)
    if match and not match.group(1).startswith("gcp-sa-"):
        # service-PROJECT_NUMBER@gcp-sa-*.iam.gserviceaccount.com are Google-managed agents
        # acting for the project that uses the service, not accounts of another project.
        project = match.group(1)
    elif member.split(":", 1)[0] in ("projectViewer", "projectEditor", "projectOwner"):
        project = member.split(":", 1)[1]
    return model.principal("member", member, account=project)


def binding_grants(
    role: str,
    members: list[str],
    condition: Any,
    origin: str,
    roles: dict[str, list[str]] | None = None,
    *,
    service: str | None = None,
) -> list[dict[str, Any]]:
    """Grants of one binding. With `service` (storage, healthcare) the binding is inherited from
    a project, where most roles belong to other services: their predefined roles grant nothing
    on this service's resources (a custom role still counts as everything)."""
    table = roles or ROLE_PERMISSIONS
    if (
        service
        and role not in table
        and role.startswith("roles/")
        and not role.startswith(f"roles/{service}.")
    ):
        return []
    permissions = table.get(role, ALL)
    conditions = condition if isinstance(condition, dict) and condition else None
    return [
        model.grant(
            principal(member),
            permissions,
            via="iam_binding",
            origin=origin,
            actions=[role],
            conditions=conditions,
        )
        for member in members
    ]


def policy_grants(
    policy: dict[str, Any],
    origin: str,
    roles: dict[str, list[str]] | None = None,
    *,
    service: str | None = None,
) -> list[dict[str, Any]]:
    """Grants of every binding of an IAM policy as the API answers it (conditions kept)."""
    return [
        grant
        for i, binding in enumerate(policy.get("bindings") or [])
        for grant in binding_grants(
            str(binding.get("role")),
            sorted(str(m) for m in binding.get("members") or ()),
            binding.get("condition"),
            f"{origin} bindings[{i}]",
            roles,
            service=service,
        )
    ]


def acl_grants(
    entries: list[tuple[str, str]], *, objects: bool, origin: str, label: str | None = None
) -> list[dict[str, Any]]:
    """(entity, role) pairs of a bucket ACL, or of an object's (or the default object) ACL when
    `objects`; `label` names the ACL in each grant's action."""
    table = OBJECT_ACL if objects else BUCKET_ACL
    label = ("default object " if objects else "") if label is None else label
    return [
        model.grant(
            principal(entity),
            table.get(role.upper(), ALL),
            via="acl",
            origin=f"{origin}[{i}]",
            actions=[f"{label}{role.upper()}"],
        )
        for i, (entity, role) in enumerate(entries)
    ]


def role_entities(values: list[str]) -> list[tuple[str, str]]:
    """ "READER:allUsers" strings of google_storage_bucket_acl as (entity, role)."""
    out = []
    for value in values:
        role, _, entity = str(value).partition(":")
        out.append((entity, role))
    return out
