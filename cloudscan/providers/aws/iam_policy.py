"""Normalise S3 ACLs and bucket policies into cloudscan grants (AWS vocabulary in, neutral out)."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from typing import Any

from cloudscan import model

# Each neutral permission stands for these S3 actions; an action pattern grants the permission
# when it matches one of them (IAM wildcards * and ?, case-insensitive).
PERMISSION_ACTIONS = {
    "read": ("s3:getobject", "s3:getobjectversion"),
    "list": ("s3:listbucket", "s3:listbucketversions"),
    "write": ("s3:putobject", "s3:deleteobject", "s3:deleteobjectversion"),
    "read_acl": ("s3:getbucketacl", "s3:getobjectacl", "s3:getbucketpolicy"),
    "write_acl": ("s3:putbucketacl", "s3:putobjectacl", "s3:putbucketpolicy", "s3:deletebucketpolicy"),
}
ACL_PERMISSIONS = {
    "READ": ["list"],
    "WRITE": ["write"],
    "READ_ACP": ["read_acl"],
    "WRITE_ACP": ["write_acl"],
    "FULL_CONTROL": ["list", "write", "read_acl", "write_acl"],
}
GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "public",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "all_authenticated",
    "http://acs.amazonaws.com/groups/s3/LogDelivery": "log_delivery",
}
ACCOUNT_IN_ARN = re.compile(r"^arn:aws[\w-]*:(?:iam|sts)::(\d{12}):")


class PolicyParseError(ValueError):
    """The bucket policy is not a readable IAM policy document."""


def acl_grants(acl: dict[str, Any]) -> list[dict[str, Any]]:
    grants = []
    for i, entry in enumerate(acl.get("Grants", [])):
        grantee = entry.get("Grantee", {})
        kind = grantee.get("Type")
        if kind == "Group":
            ptype = GROUPS.get(grantee.get("URI", ""), "unknown")
            pid = grantee.get("URI", "")
        elif kind == "CanonicalUser":
            ptype, pid = "canonical_user", grantee.get("ID", "")
        else:  # AmazonCustomerByEmail
            ptype, pid = "canonical_user", grantee.get("EmailAddress", "")
        permission = entry.get("Permission", "")
        grants.append(
            model.grant(
                model.principal(ptype, pid),
                ACL_PERMISSIONS.get(permission, []),
                via="acl",
                origin=f"Acl.Grants[{i}]",
                actions=[permission],
            )
        )
    return grants


# What each canned ACL grants besides the owner's FULL_CONTROL (S3 User Guide, "Canned ACL").
CANNED_ACLS = {
    "private": [],
    "public-read": [("AllUsers", "READ")],
    "public-read-write": [("AllUsers", "READ"), ("AllUsers", "WRITE")],
    "aws-exec-read": [],
    "authenticated-read": [("AuthenticatedUsers", "READ")],
    "bucket-owner-read": [],
    "bucket-owner-full-control": [],
    "log-delivery-write": [("LogDelivery", "WRITE"), ("LogDelivery", "READ_ACP")],
}


def canned_acl(name: str) -> dict[str, Any] | None:
    """The ACL document a canned ACL name stands for (owner entry left out); None if unknown."""
    if name not in CANNED_ACLS:
        return None
    uris = {uri.rsplit("/", 1)[1]: uri for uri in GROUPS}
    return {
        "Grants": [
            {"Grantee": {"Type": "Group", "URI": uris[group]}, "Permission": permission}
            for group, permission in CANNED_ACLS[name]
        ]
    }


def parse_policy(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyParseError(f"bucket policy is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(document, dict) or not isinstance(document.get("Statement"), list | dict):
        raise PolicyParseError("bucket policy has no Statement list")
    return document


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document["Statement"]
    return [found] if isinstance(found, dict) else list(found)


def policy_grants(document: dict[str, Any]) -> list[dict[str, Any]]:
    grants = []
    for i, statement in enumerate(statements(document)):
        if not isinstance(statement, dict):
            raise PolicyParseError(f"Statement[{i}] is not an object")
        sid = statement.get("Sid")
        origin = f"Policy.Statement[{i}]" + (f" (Sid {sid})" if sid else "")
        negated = "NotPrincipal" in statement
        effect = "deny" if str(statement.get("Effect", "")).lower() == "deny" else "allow"
        actions = _as_list(statement.get("Action", statement.get("NotAction", [])))
        permissions = _permissions(actions, negate="NotAction" in statement, whole=effect == "deny")
        resources = _as_list(statement.get("Resource", statement.get("NotResource")))
        condition = statement.get("Condition") or None
        for principal in _principals(statement.get("NotPrincipal" if negated else "Principal")):
            grants.append(
                model.grant(
                    {**principal, "negated": negated},
                    permissions,
                    via="policy",
                    origin=origin,
                    actions=actions,
                    effect=effect,
                    # NotResource means "everything but": kept verbatim, matched by nothing.
                    resources=resources if "NotResource" not in statement else [],
                    # A Condition that is not an object (S3 refuses one, emulators may not) is kept
                    # under a key no check knows, so it restricts nothing.
                    conditions=condition
                    if condition is None or isinstance(condition, dict)
                    else {"unreadable": condition},
                )
            )
    return grants


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _permissions(patterns: list[str], *, negate: bool, whole: bool) -> list[str]:
    """Permissions the patterns reach. An Allow grants a permission when it reaches any of its
    actions; a Deny (`whole`) takes a permission away only when it reaches all of them."""
    lowered = [p.lower() for p in patterns]
    out = []
    for permission, actions in PERMISSION_ACTIONS.items():
        reached = [any(fnmatchcase(a, p) for p in lowered) != negate for a in actions]
        if all(reached) if whole else any(reached):
            out.append(permission)
    return out


def _principals(value: Any) -> list[dict[str, Any]]:
    if value == "*":
        return [{"type": "public", "id": "*", "account": None}]
    if not isinstance(value, dict):
        return [{"type": "unknown", "id": json.dumps(value), "account": None}]
    out = []
    for key, ids in value.items():
        for pid in _as_list(ids):
            if key == "AWS":
                out.append(_aws_principal(pid))
            else:
                ptype = {
                    "Service": "service",
                    "Federated": "federated",
                    "CanonicalUser": "canonical_user",
                }.get(key, "unknown")
                out.append({"type": ptype, "id": pid, "account": None})
    return out


def _aws_principal(pid: str) -> dict[str, Any]:
    if pid == "*":
        return {"type": "public", "id": "*", "account": None}
    if re.fullmatch(r"\d{12}", pid):
        return {"type": "aws", "id": pid, "account": pid}
    match = ACCOUNT_IN_ARN.match(pid)
    return {"type": "aws", "id": pid, "account": match.group(1) if match else None}
