"""Which AWS Organization a grant is pinned to, and whether the scan trusts it.

A policy statement with `aws:PrincipalOrgID` (or `aws:PrincipalOrgPaths`, `aws:SourceOrgID`,
`aws:SourceOrgPaths`) set to fixed values admits only callers (or, for the Source keys, services
acting for resources) of those organisations. Amazon S3 calls such a statement non-public
whichever organisation it names (checks/aws_conditions.py), so it is not a public grant; but an
organisation other than the scanned one opens the bucket to every account of someone else's
organisation. This module says, for one grant, whether its organisation is trusted, foreign, or
cannot be told because the scan does not know which organisations it trusts.

`aws:ResourceOrgID` and `aws:ResourceOrgPaths` are not among the keys: in a bucket policy the
resource is the bucket itself, so they say nothing of who calls (a statement pinned to the
bucket's own organisation is open to whoever its principal names).

Conditions on several organisation keys must all hold, values of one key are alternatives: a
grant stays inside trusted organisations when one of its keys admits only trusted ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .aws_conditions import binding_pairs, values_of

ORGANIZATION_KEYS = frozenset(
    ("aws:principalorgid", "aws:principalorgpaths", "aws:sourceorgid", "aws:sourceorgpaths")
)
ORGANIZATION_ID = re.compile(r"o-[a-z0-9]{10,32}")

# The error a grant pinned to an organisation is UNKNOWN with when nobody said which
# organisations the scan trusts: (call, code, message).
NOT_TOLD = (
    "cloudscan:organization",
    "OrganizationUnknown",
    "the AWS Organization the account belongs to is not known, so a grant pinned to an "
    "organisation cannot be judged: pass --organization-id o-... (the account's organisation, and "
    "any partner's you trust)",
)
HOW_TO_KNOW = (
    "pass --organization-id o-... (the account's organisation, and any partner's you trust), or "
    "allow organizations:DescribeOrganization"
)


@dataclass(frozen=True)
class Organizations:
    """The AWS Organizations whose every account the scan trusts: the scanned account's own (read
    with organizations:DescribeOrganization) and those given with --organization-id."""

    trusted: frozenset[str] = field(default_factory=frozenset)
    # None when `trusted` is complete (read, told, or the account is in no organisation); else
    # the error (call, code, message) an organisation-pinned grant is UNKNOWN with.
    unknown: tuple[str, str, str] | None = NOT_TOLD

    @classmethod
    def given(cls, ids: Any) -> Organizations:
        """What the user said: the organisations given are the trusted ones, if any were."""
        trusted = frozenset(ids)
        return cls(trusted, None if trusted else NOT_TOLD)

    @classmethod
    def unread(cls, call: str, code: str, message: str) -> Organizations:
        """The account's organisation could not be read, and none was given."""
        said = (
            f"{message} (the account's AWS Organization is not known, so a grant pinned to an "
            f"organisation cannot be judged: {HOW_TO_KNOW})"
        )
        return cls(frozenset(), (call, code, said))


@dataclass(frozen=True)
class OrganizationScope:
    """How one grant's organisation conditions stand against the trusted organisations."""

    condition: str  # the condition, described
    trusted: bool  # it admits only trusted organisations
    foreign: tuple[str, ...] = ()  # organisations it admits that are not trusted (or not known to be)
    unknown: tuple[str, str, str] | None = None  # set when the trusted organisations are incomplete


def pinned_organizations(conditions: Any) -> list[tuple[str, frozenset[str]]]:
    """(condition described, organisations it admits) for each condition that admits only fixed
    organisations; a path names its organisation first (o-.../r-.../ou-.../), and a wildcard
    after the organisation still pins it."""
    out = []
    for operator, key, raw in binding_pairs(conditions):
        if key.lower() not in ORGANIZATION_KEYS:
            continue
        values = values_of(raw)
        organizations = {v.split("/", 1)[0].lower() for v in values}
        if values and all(ORGANIZATION_ID.fullmatch(o) for o in organizations):
            out.append((f"{operator} {key} {', '.join(values)}", frozenset(organizations)))
    return out


def organization_scope(conditions: Any, organizations: Organizations) -> OrganizationScope | None:
    """None when the conditions pin no organisation."""
    pinned = pinned_organizations(conditions)
    if not pinned:
        return None
    for condition, admitted in pinned:
        if admitted <= organizations.trusted:
            return OrganizationScope(condition, trusted=True)
    condition = "; ".join(c for c, _ in pinned)
    foreign = sorted(set().union(*(admitted for _, admitted in pinned)) - organizations.trusted)
    return OrganizationScope(condition, trusted=False, foreign=tuple(foreign), unknown=organizations.unknown)
