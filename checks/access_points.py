"""Who reaches a bucket through its S3 access points.

A request through an access point is allowed only if the access point's policy allows it and
the bucket's policy does too (for anyone outside the bucket owner's account, and for the
public, IAM policies of the caller do not stand in for the bucket's): a bucket policy
commonly delegates with a condition on s3:DataAccessPointAccount or s3:DataAccessPointArn. A
public grant through an access point is switched off by RestrictPublicBuckets of the account,
of the bucket or of the access point, and by a VPC network origin (reachable only from inside
that VPC).

Each access point grant that the bucket lets through becomes a contribution to the bucket's
exposure facts, with the access point named as its origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cloudscan.model import unknown_inputs

from .aws_conditions import restricting_condition, through_access_point

Grant = dict[str, Any]
Tri = bool | None


@dataclass
class Contribution:
    fact: str
    grant: Grant
    effective: Tri
    by: str | None
    detail: str


def contributions(
    doc: dict[str, Any], access: dict[str, Any], trusted: frozenset[str], organizations: Any
) -> list[Contribution]:
    """What the bucket's access points add to each exposure fact."""
    from . import exposure as x  # exposure calls this module: imported when first needed

    points = access.get("access_points")
    if points is None:
        if doc["provider"] != "aws" or not unknown_inputs(doc, ["/access/access_points"]):
            return []
        why = "unknown: the bucket's access points could not be listed"
        return [_unknown(fact, "access points", why) for fact in _hideable(access, x.FACTS, x)]
    out: list[Contribution] = []
    for point in points:
        out += _of_point(doc, access, point, (trusted, organizations), x)
    return out


def _hideable(access: dict[str, Any], facts: Any, x: Any) -> list[str]:
    """Of `facts`, those an access point not read could make true: nothing reaches the public
    or another account through an access point unless the bucket policy lets it through, so a
    known bucket policy that admits no public caller (for what it grants), or no outside one,
    settles them."""
    if access.get("policy") is None:
        return list(facts)
    statements = [g for g in access["grants"] if g["via"] == "policy" and g["effect"] == "allow"]
    # With the access point unknown, its keys in a condition neither admit nor refuse.
    granted = {
        permission
        for g in statements
        if (x._is_public(g) or g["principal"]["type"] == "all_authenticated")
        and not restricting_condition(through_access_point(g["conditions"], {})[1])
        for permission in g["permissions"]
    }
    # (An access point policy, an IAM policy, has no principal for any signed-in user: it
    # cannot make all_authenticated_read true.)
    public = {fact for fact, needed in x.PUBLIC_FACTS.items() if granted & needed}
    # Another account gets in through an access point where a statement delegates to access
    # points or names a principal; one open to everyone without condition already admits it
    # directly, which is the public facts' business.
    outside = any(
        not g["principal"]["negated"]
        and (g["principal"]["type"] == "aws" or _names_access_points(g["conditions"]))
        for g in statements
    )
    return [f for f in facts if (outside if f == "cross_account" else f in public)]


def _names_access_points(conditions: Any) -> bool:
    verdict, rest = through_access_point(conditions, {})
    return verdict is not True or rest != conditions


def _label(point: dict[str, Any]) -> str:
    kind = "Multi-Region Access Point" if point.get("multi_region") else "access point"
    return f"{kind} {point['name']}"


def _unknown(fact: str, origin: str, why: str) -> Contribution:
    grant = {"origin": origin}
    return Contribution(fact, grant, None, why, f"{origin}: what it grants could not be read")


def _of_point(
    doc: dict[str, Any],
    access: dict[str, Any],
    point: dict[str, Any],
    trust: tuple[frozenset[str], Any],
    x: Any,
) -> list[Contribution]:
    """`trust`: the trusted accounts, and the organisations (checks/organizations.py)."""
    trusted, organizations = trust
    name = _label(point)
    restrict = _restrict_guards(access["guards"], point, x)
    network = x.Guard(
        f"{name} network origin VPC",
        None if point["network_origin"] is None else point["network_origin"] == "VPC",
    )
    if point["policy"] is None:
        public_off = x._neutraliser([network, *restrict])[0] is False
        why = f"unknown: the policy of {name} could not be read"
        facts = ["cross_account"] if public_off else list(x.FACTS)
        return [_unknown(fact, name, why) for fact in _hideable(access, facts, x)]

    allows = [g for g in point["grants"] if g["effect"] == "allow"]
    denies = [g for g in point["grants"] if g["effect"] == "deny"]
    policy_is_public = any(x._is_public(g) and not restricting_condition(g["conditions"]) for g in allows)
    out: list[Contribution] = []
    for grant in allows:
        permissions = set(grant["permissions"]) - x._denied(grant, denies)
        if not permissions:
            continue
        through, bucket_reason = _bucket_lets_through(doc, access, point, grant, permissions, x)
        public = x._is_public(grant) or grant["principal"]["type"] == "all_authenticated"
        if public:
            effective, by = x._neutraliser([network, *restrict])
            condition = restricting_condition(grant["conditions"])
            if condition:
                effective, by = False, f"condition {condition}"
            effective, by = _and(effective, by, through, bucket_reason)
            out += _public_facts(grant, permissions, effective, by, f"{name}, {bucket_reason}", x)
        # Organisation conditions say whose accounts a grant reaches, as on the bucket's policy.
        scope = x._organization_scope(grant, organizations)
        if scope is not None and scope.trusted:
            continue
        reached = [f"account {a}" for a in sorted(x._external_accounts(grant, doc, access) - trusted)]
        if scope is not None and x._names_no_account(grant):
            reached = [f"organization {o}" for o in scope.foreign]
        for external in reached:
            effective, by = x._neutraliser(restrict if policy_is_public else [])
            if scope is not None and scope.unknown and effective is not False:
                effective, by = None, f"unknown: whether {', '.join(scope.foreign)} is a trusted organisation"
            effective, by = _and(effective, by, through, bucket_reason)
            detail = f"{x._describe(grant)} ({external}) through {name}, {bucket_reason}"
            out.append(Contribution("cross_account", grant, effective, by, detail))
    return out


def _public_facts(
    grant: Grant, permissions: set[str], effective: Tri, by: str | None, name: str, x: Any
) -> list[Contribution]:
    out = []
    authenticated_only = grant["principal"]["type"] == "all_authenticated"
    detail = f"{x._describe(grant)} through {name}"
    for fact, needed in x.PUBLIC_FACTS.items():
        if authenticated_only and needed <= x.READ_LIKE:
            continue
        if permissions & needed:
            out.append(Contribution(fact, grant, effective, by, detail))
    if authenticated_only and permissions & x.READ_LIKE:
        out.append(Contribution("all_authenticated_read", grant, effective, by, detail))
    return out


def _and(effective: Tri, by: str | None, through: Tri, reason: str | None) -> tuple[Tri, str | None]:
    """An access point grant counts only where the bucket lets it through as well."""
    if effective is False:
        return False, by
    if through is False:
        return False, reason
    if effective is None:
        return None, by
    if through is None:
        return None, reason
    return True, None


def _restrict_guards(guards: dict[str, Any], point: dict[str, Any], x: Any) -> list[Any]:
    own = point["block_public_access"]
    return [
        *x._bpa_guards(guards, "restrict_public_buckets", "RestrictPublicBuckets"),
        x.Guard(
            f"{_label(point)} Block Public Access RestrictPublicBuckets",
            None if own is None else bool(own["restrict_public_buckets"]),
        ),
    ]


def _bucket_lets_through(
    doc: dict[str, Any],
    access: dict[str, Any],
    point: dict[str, Any],
    grant: Grant,
    permissions: set[str],
    x: Any,
) -> tuple[Tri, str | None]:
    """Whether the bucket's policy allows the grant's principal what it is granted, through
    this access point: (True, which statement), (False, why not), or (None, why unknown)."""
    if access.get("policy") is None:
        return None, "unknown: the bucket policy could not be read"
    arn = point.get("arn")
    account = arn.split(":")[4] if isinstance(arn, str) and arn.count(":") >= 5 else doc.get("account")
    facts = {
        "s3:dataaccesspointarn": arn,
        "s3:dataaccesspointaccount": account,
        "s3:accesspointnetworkorigin": point.get("network_origin"),
    }
    bucket_denies = [g for g in access["grants"] if g["via"] == "policy" and g["effect"] == "deny"]
    verdict: Tri = False
    for statement in access["grants"]:
        if statement["via"] != "policy" or statement["effect"] != "allow":
            continue
        if not (set(statement["permissions"]) - x._denied(statement, bucket_denies)) & permissions:
            continue
        if not _admits(statement["principal"], grant["principal"]):
            continue
        admitted, rest = through_access_point(statement["conditions"], facts)
        if admitted is False or restricting_condition(rest):
            continue
        if admitted is True:
            return True, f"bucket {statement['origin']} lets it through"
        verdict = None
    if verdict is None:
        return None, "unknown: the access point's account or ARN, which the bucket policy names, is not known"
    return False, f"the bucket policy does not let {_label(point)} through"


def _admits(statement: dict[str, Any], caller: dict[str, Any]) -> bool:
    """Whether a bucket statement's principal covers the access point grant's principal."""
    if statement["negated"]:
        return False  # NotPrincipal in a delegation is rare: never taken as one
    if statement["type"] == "public":
        return True
    if statement["type"] == "all_authenticated":
        return caller["type"] not in ("public",)
    if caller["type"] == "aws" and statement["type"] == "aws":
        # The same principal, or its whole account (named by id or by its root).
        whole_account = statement["id"] == statement["account"] or statement["id"].endswith(":root")
        return statement["id"] == caller["id"] or (
            whole_account and statement["account"] == caller["account"]
        )
    return False
