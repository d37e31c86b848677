"""Who can reach a bucket: public, any authenticated user, other accounts.

Combines every guard (account and bucket Block Public Access, Object Ownership) with every
grant (ACL entries, policy statements) into three-valued facts: True, False, or None when a
guard or a grant source that could change the answer could not be read.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from cloudscan.model import unknown_inputs

from .aws_conditions import pinned_accounts, restricting_condition
from .cdn import cdn_reasons
from .derived import Derived
from .network import cidr_covers_internet
from .organizations import Organizations, OrganizationScope, organization_scope

Grant = dict[str, Any]
Tri = bool | None

PUBLIC_FACTS = {
    "public_read": {"read"},
    "public_list": {"list"},
    "public_write": {"write", "write_acl"},
}
READ_LIKE = {"read", "list"}
FACTS = (*PUBLIC_FACTS, "all_authenticated_read", "cross_account")
# Where each kind of grant is read from: an unread source leaves its grants unknown.
SOURCE_OF_VIA = {
    "acl": "acl",
    "container_level": "acl",
    "object_acl": "object_acls",
    "policy": "policy",
    "iam_binding": "policy",
}


@dataclass
class Guard:
    """A setting that switches a class of grants off; `value` None means it could not be read."""

    name: str
    value: Tri


def _bpa_guards(guards: dict[str, Any], flag: str, label: str) -> list[Guard]:
    out = []
    for level in ("account", "bucket"):
        block = guards.get(f"{level}_block_public_access")
        value = None if block is None else bool(block.get(flag))
        out.append(Guard(f"{level} Block Public Access {label}", value))
    return out


def _neutraliser(guards: list[Guard]) -> tuple[Tri, str | None]:
    """(effective, neutralised_by) for a grant that any of `guards` switches off."""
    for guard in guards:
        if guard.value:
            return False, guard.name
    if any(g.value is None for g in guards):
        unread = ", ".join(g.name for g in guards if g.value is None)
        return None, f"unknown: {unread} could not be read"
    return True, None


def _or(values: list[Tri]) -> Tri:
    if any(v is True for v in values):
        return True
    if any(v is None for v in values):
        return None
    return False


def _is_public(grant: Grant) -> bool:
    principal = grant["principal"]
    return principal["type"] == "public" or (principal["negated"] and grant["effect"] == "allow")


def _describe(grant: Grant) -> str:
    p = grant["principal"]
    who = ("everyone except " if p["negated"] else "") + f"{p['type']} {p['id']}"
    return f"{grant['via']} grants {', '.join(grant['permissions'])} to {who}"


class _Facts:
    def __init__(self) -> None:
        self.values: dict[str, list[Tri]] = {f: [] for f in FACTS}
        self.reasons: dict[str, list[dict[str, Any]]] = {f: [] for f in FACTS}

    def add(self, fact: str, grant: Grant, effective: Tri, by: str | None, detail: str) -> None:
        self.values[fact].append(effective)
        self.reasons[fact].append(
            {"origin": grant["origin"], "effective": effective, "neutralised_by": by, "detail": detail}
        )


def bucket_exposure(doc: dict[str, Any], context: Any) -> Derived:
    access = doc.get("access")
    if access is None:
        return Derived(
            {**dict.fromkeys(FACTS), "cross_account_principals": None, "reasons": {f: [] for f in FACTS}},
            unknown={f"/exposure/{fact}": ["/access"] for fact in FACTS},
        )
    trusted = frozenset(getattr(context, "trusted_accounts", ()))
    organizations = getattr(context, "organizations", None) or Organizations()
    untold: tuple[str, str, str] | None = None

    facts = _Facts()
    external_accounts: set[str] = set()
    allows = [g for g in access["grants"] if g["effect"] == "allow"]
    denies = [g for g in access["grants"] if g["effect"] == "deny"]
    policy_is_public = any(
        _is_public(g) and not restricting_condition(g["conditions"]) for g in allows if g["via"] == "policy"
    )
    guards = _guards(doc, access["guards"], policy_is_public)

    kept: list[tuple[Grant, set[str]]] = []
    for grant in allows:
        permissions = set(grant["permissions"]) - _denied(grant, denies)
        if not permissions:
            continue
        kept.append((grant, permissions))
        condition = restricting_condition(grant["conditions"])
        if _is_public(grant) or grant["principal"]["type"] == "all_authenticated":
            # Anyone signed in to the provider is anyone who opens a free account: public.
            effective, by = _neutraliser(guards.public.get(grant["via"], []))
            if condition:
                effective, by = False, f"condition {condition}"
            authenticated_only = grant["principal"]["type"] == "all_authenticated"
            for fact, needed in PUBLIC_FACTS.items():
                if authenticated_only and needed <= READ_LIKE:
                    continue  # reading by any signed-in user is its own fact, below
                if permissions & needed:
                    facts.add(fact, grant, effective, by, _describe(grant))
            if authenticated_only and permissions & READ_LIKE:
                facts.add("all_authenticated_read", grant, effective, by, _describe(grant))
        scope = _organization_scope(grant, organizations)
        if scope is not None and scope.trusted:
            by = f"condition {scope.condition} (a trusted organisation)"
            facts.add("cross_account", grant, False, by, _describe(grant))
            continue
        reached = [f"account {a}" for a in sorted(_external_accounts(grant, doc, access) - trusted)]
        if scope is not None and _names_no_account(grant):
            reached = [f"organization {o}" for o in scope.foreign]
        for external in reached:
            effective, by = _neutraliser(guards.every.get(grant["via"], []))
            if doc.get("account") is None and effective is not False:
                effective, by = None, "unknown: the bucket owner's account is not known"
            if scope is not None and scope.unknown and effective is not False:
                placed = ", ".join(scope.foreign)
                effective, by = None, f"unknown: whether {placed} is a trusted organisation"
                untold = scope.unknown
            detail = f"{_describe(grant)} ({external})"
            if condition:
                detail += f", limited by {condition}"
            facts.add("cross_account", grant, effective, by, detail)
            if effective is not False:
                external_accounts.add(external.split(" ", 1)[1])

    # A CDN that serves the bucket (checks/cdn.py) is one more way in for anyone.
    for fact, reason in cdn_reasons(doc, kept):
        facts.values[fact].append(reason["effective"])
        facts.reasons[fact].append(reason)
    for added in access_point_contributions(doc, access, trusted, organizations):
        facts.add(added.fact, added.grant, added.effective, added.by, added.detail)
        if added.fact == "cross_account" and added.effective is not False and "principal" in added.grant:
            external_accounts |= _external_accounts(added.grant, doc, access) - trusted

    exposure: dict[str, Any] = {}
    for fact in FACTS:
        value = _or(facts.values[fact])
        if value is False:
            value = _unread_sources(doc, access, guards, fact)
        exposure[fact] = value
    exposure["cross_account_principals"] = sorted(external_accounts)
    exposure["reasons"] = facts.reasons
    unknown = {f"/exposure/{fact}": ["/access"] for fact in FACTS if exposure[fact] is None}
    if untold is not None and exposure["cross_account"] is None:
        return Derived(exposure, unknown=unknown, untold={"/exposure/cross_account": untold})
    return Derived(exposure, unknown=unknown)


def access_point_contributions(
    doc: dict[str, Any], access: dict[str, Any], trusted: frozenset[str], organizations: Organizations
) -> list[Any]:
    """What the bucket's S3 access points add (checks/access_points.py, which uses this module's
    helpers and so is imported here, when first needed)."""
    from .access_points import contributions

    return contributions(doc, access, trusted, organizations)


def _organization_scope(grant: Grant, organizations: Organizations) -> OrganizationScope | None:
    """How the grant's organisation conditions stand; only policy statements have conditions."""
    if grant["via"] != "policy" or grant["principal"]["negated"]:
        return None
    return organization_scope(grant["conditions"], organizations)


def _names_no_account(grant: Grant) -> bool:
    """Everyone, or a service, with no condition pinning an account: its organisation
    conditions are what say whose accounts it reaches."""
    return grant["principal"]["type"] in ("public", "service") and not pinned_accounts(grant["conditions"])


def _denied(grant: Grant, denies: list[Grant]) -> set[str]:
    """Permissions of `grant` that an unconditional Deny to everyone takes away: the Deny must
    cover every action of the permission (the adapter says so) and every resource the grant names."""
    out: set[str] = set()
    for deny in denies:
        if deny["principal"]["type"] != "public" or deny["principal"]["negated"] or deny["conditions"]:
            continue
        if _covers(deny.get("resources"), grant.get("resources")):
            out |= set(deny["permissions"])
    return out


def _covers(deny_resources: list[str] | None, grant_resources: list[str] | None) -> bool:
    if not deny_resources:
        return False
    if grant_resources is None:  # an ACL entry covers the bucket and its objects
        return any(d.strip() in ("*", "arn:aws:s3:::*") for d in deny_resources)
    return bool(grant_resources) and all(
        any(fnmatchcase(r.lower(), d.lower()) for d in deny_resources) for r in grant_resources
    )


def _external_accounts(grant: Grant, doc: dict[str, Any], access: dict[str, Any]) -> set[str]:
    """Accounts a grant reaches other than the owner's: its principal's, or those its condition
    pins callers to. When the owner's account is unknown every named account is a candidate."""
    principal, owner = grant["principal"], doc.get("account")
    if principal["negated"]:
        return set()
    accounts = pinned_accounts(grant["conditions"]) if grant["via"] == "policy" else set()
    if principal["type"] in ("aws", "member") and principal["account"]:
        accounts.add(principal["account"])
    if principal["type"] == "canonical_user":
        acl_owner = (access.get("acl") or {}).get("owner")
        if principal["id"] != acl_owner:
            accounts.add(principal["id"])
    return accounts - {owner}


def _unread_sources(doc: dict[str, Any], access: dict[str, Any], guards: Guards, fact: str) -> Tri:
    """A False fact stays False only if every grant source that could flip it was read."""
    for source in ("acl", "object_acls", "policy"):
        if access.get(source) is not None or not unknown_inputs(doc, [f"/access/{source}"]):
            continue
        # The kinds of grant this source holds on this provider (an S3 policy has no IAM bindings).
        vias = [via for via, of in SOURCE_OF_VIA.items() if of == source and via in guards.public]
        switched_off = vias and all(_neutraliser(guards.public[v])[0] is False for v in vias)
        if fact != "cross_account" and switched_off:
            continue  # whatever the unread source grants publicly is switched off
        return None
    return False


def _closed_network(guards: dict[str, Any]) -> Tri:
    """Azure: public network access off, or network rules that deny by default and let in no
    range as broad as the internet."""
    network = guards.get("account_network")
    if network is None:
        return None
    if not network["public_network_access"]:
        return True
    return network["default_action"] == "Deny" and not any(
        cidr_covers_internet(ip) for ip in network["ip_rules"]
    )


@dataclass
class Guards:
    """Per kind of grant (`via`): what switches off grants to everyone, and what switches off
    every grant of that kind (which also ends access by other accounts)."""

    public: dict[str, list[Guard]]
    every: dict[str, list[Guard]]


def _guards(doc: dict[str, Any], guards: dict[str, Any], policy_is_public: bool) -> Guards:
    if doc["provider"] == "gcp":
        acls_off = [Guard("uniform bucket-level access (ACLs disabled)", guards.get("uniform_access"))]
        prevention = guards.get("public_access_prevention")
        enforced = [
            Guard(
                "public access prevention enforced", None if prevention is None else prevention == "enforced"
            )
        ]
        return Guards(
            public={"acl": acls_off + enforced, "iam_binding": enforced},
            every={"acl": acls_off, "iam_binding": []},
        )
    if doc["provider"] == "azure":
        allowed = guards.get("account_allows_public_access")
        off = [
            Guard("storage account disallows public access", None if allowed is None else not allowed),
            Guard("storage account closed to public networks", _closed_network(guards)),
        ]
        return Guards(public={"container_level": off}, every={"container_level": []})
    ownership = guards.get("object_ownership")
    acls_off = [
        Guard(
            "Object Ownership BucketOwnerEnforced (ACLs disabled)",
            None if ownership is None else ownership == "BucketOwnerEnforced",
        )
    ]
    restrict = _bpa_guards(guards, "restrict_public_buckets", "RestrictPublicBuckets")
    acls = acls_off + _bpa_guards(guards, "ignore_public_acls", "IgnorePublicAcls")
    return Guards(
        # An object's ACL is switched off by what switches off the bucket's.
        public={"acl": acls, "object_acl": acls, "policy": restrict},
        # RestrictPublicBuckets also ends cross-account access, but only through a public policy.
        every={"acl": acls_off, "object_acl": acls_off, "policy": restrict if policy_is_public else []},
    )


STORE_FACTS = {"public_read": {"read", "list"}, "public_write": {"write", "write_acl"}}


def store_exposure(doc: dict[str, Any], context: Any) -> Derived:
    """Who can reach a managed DICOM store: its IAM grants, with no guard in between."""
    facts = ("public_read", "public_write", "all_authenticated_read")
    access = doc.get("access")
    reasons: dict[str, list[dict[str, Any]]] = {f: [] for f in facts}
    if access is None:
        return Derived(
            {**dict.fromkeys(facts), "reasons": reasons},
            unknown={f"/exposure/{f}": ["/access/policy"] for f in facts},
        )
    values: dict[str, bool | None] = dict.fromkeys(facts, False)
    for grant in access["grants"]:
        permissions = set(grant["permissions"])
        wanted = (
            {"all_authenticated_read": {"read", "list"}, "public_write": {"write", "write_acl"}}
            if grant["principal"]["type"] == "all_authenticated"
            else STORE_FACTS
            if _is_public(grant)
            else {}
        )
        for fact, needed in wanted.items():
            if permissions & needed and grant["effect"] == "allow":
                values[fact] = True
                reasons[fact].append(
                    {
                        "origin": grant["origin"],
                        "effective": True,
                        "neutralised_by": None,
                        "detail": _describe(grant),
                    }
                )
    unknown: dict[str, list[str]] = {}
    if access.get("policy") is None:
        # A policy not (wholly) read may grant what the grants read do not: a known exposure
        # stands, its absence is unknown.
        for fact in facts:
            if not values[fact]:
                values[fact] = None
                unknown[f"/exposure/{fact}"] = ["/access/policy"]
    if doc.get("copies") is None and unknown_inputs(doc, ["/copies"]):
        # Which storage holds (or fed) its studies is not known, so neither is whether that
        # storage lets anyone at them (checks/copies.py folds it in once known).
        for fact in ("public_read", "public_write"):
            if not values[fact]:
                values[fact] = None
                unknown.setdefault(f"/exposure/{fact}", []).append("/copies")
    if (access.get("policy") or {}).get("present") is False:
        for fact in facts:
            if values[fact] is False and not reasons[fact]:
                reasons[fact].append(_no_policy_reason(access["grants"]))
    return Derived({**values, "reasons": reasons}, unknown=unknown)


def _no_policy_reason(grants: list[Grant]) -> dict[str, Any]:
    """Why a store without a policy of its own is not open: who reaches it, when the adapter said."""
    origins = list(dict.fromkeys(g["origin"] for g in grants if g["effect"] == "allow"))[:3]
    detail = "no policy on the store grants access to anyone" + (
        f"; access is by {'; '.join(origins)}" if origins else ""
    )
    return {"origin": "access", "effective": False, "neutralised_by": None, "detail": detail}
