"""When does an IAM Condition make an S3 policy statement non-public?

Amazon S3 treats a statement as non-public when it pins access to fixed values of certain
keys ("The meaning of public" in the S3 User Guide): a set of CIDRs in aws:SourceIp, or a fixed
aws:SourceArn, SourceVpc, SourceVpce, SourceOwner, SourceAccount, principal organisation or
account, aws:userid, KMS key id or access point. A fixed value has no wildcard and no policy
variable. Conditions on other keys, such as aws:SecureTransport, do not restrict who can call.
Which organisation an organisation key admits, and whether the scan trusts it, is
checks/organizations.py's question: S3 calls the statement non-public either way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any

from .network import cidr_covers_internet

RESTRICTING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:SourceIp",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:SourceArn",
        "aws:SourceOwner",
        "aws:SourceAccount",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:userid",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        "s3:DataAccessPointArn",
        "s3:DataAccessPointAccount",
    )
)

# Operators that allow only listed values. Negated ones (StringNotEquals, NotIpAddress) allow
# everything else, so they never restrict.
POSITIVE_OPERATORS = frozenset(
    ("stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "ipaddress")
)


def values_of(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _fixed(value: str) -> bool:
    return not any(ch in value for ch in "*?") and "${" not in value


# A bucket that delegates to the access points of an account (s3:DataAccessPointAccount, or an
# access point's ARN) lets in whoever that account's access points let in: that account's grant.
ACCOUNT_KEYS = frozenset(
    ("aws:principalaccount", "aws:sourceaccount", "aws:sourceowner", "s3:dataaccesspointaccount")
)
ARN_KEYS = frozenset(("aws:principalarn", "aws:sourcearn", "s3:dataaccesspointarn"))
ACCOUNT_ID = re.compile(r"^\d{12}$")


def binding_pairs(conditions: Any) -> Iterator[tuple[str, str, Any]]:
    """(operator, key, values) of conditions that only admit the listed values."""
    if not isinstance(conditions, dict):
        return
    for operator, pairs in conditions.items():
        qualifier, _, base = operator.lower().rpartition(":")
        # ...IfExists passes when the key is absent; ForAllValues passes on an empty set.
        if base.endswith("ifexists") or qualifier == "forallvalues":
            continue
        if base not in POSITIVE_OPERATORS or not isinstance(pairs, dict):
            continue
        for key, raw in pairs.items():
            yield operator, key, raw


def pinned_accounts(conditions: Any) -> set[str]:
    """Accounts a condition pins the caller or source to (aws:PrincipalAccount, aws:SourceArn...)."""
    out: set[str] = set()
    for _, key, raw in binding_pairs(conditions):
        for value in values_of(raw):
            if key.lower() in ACCOUNT_KEYS and ACCOUNT_ID.match(value):
                out.add(value)
            elif key.lower() in ARN_KEYS and value.count(":") >= 5:
                account = value.split(":")[4]
                if ACCOUNT_ID.match(account):
                    out.add(account)
    return out


def restricting_condition(conditions: Any) -> str | None:
    """The first condition that limits the statement to fixed values, described; else None."""
    for operator, key, raw in binding_pairs(conditions):
        values = values_of(raw)
        if key.lower() not in RESTRICTING_KEYS or not values:
            continue
        if key.lower() == "aws:sourceip":
            if not any(cidr_covers_internet(v) for v in values):
                return f"{operator} {key} {', '.join(values)}"
        elif all(_fixed(v) for v in values):
            return f"{operator} {key} {', '.join(values)}"
    return None


def requires_secure_transport(conditions: Any) -> bool:
    """A Deny with this condition applies to every request not made over TLS."""
    if not isinstance(conditions, dict):
        return False
    for operator, pairs in conditions.items():
        if operator.lower() not in ("bool", "boolifexists") or not isinstance(pairs, dict):
            continue
        for key, raw in pairs.items():
            if key.lower() == "aws:securetransport" and [v.lower() for v in values_of(raw)] == ["false"]:
                return True
    return False


# Keys that say which access point a request came through (S3 User Guide, "Configuring IAM
# policies for using access points"): a bucket policy delegates to its access points with them.
ACCESS_POINT_KEYS = ("s3:dataaccesspointarn", "s3:dataaccesspointaccount", "s3:accesspointnetworkorigin")


def through_access_point(conditions: Any, facts: dict[str, str | None]) -> tuple[bool | None, Any]:
    """Whether a statement's conditions on the access point keys admit a request through the
    access point whose `facts` (key -> value, None when not known) are given, and its other
    conditions. True when it names no such key; None when an unknown value decides."""
    if not isinstance(conditions, dict):
        return True, conditions
    verdict: bool | None = True
    rest: dict[str, Any] = {}
    for operator, pairs in conditions.items():
        if not isinstance(pairs, dict):
            rest[operator] = pairs
            continue
        base = operator.lower().rpartition(":")[2].removesuffix("ifexists")
        kept = {}
        for key, raw in pairs.items():
            if key.lower() not in ACCESS_POINT_KEYS:
                kept[key] = raw
                continue
            actual = facts.get(key.lower())
            if actual is None:
                verdict = None if verdict is not False else False
                continue
            like = base.endswith("like")
            hit = any(
                fnmatchcase(actual.lower(), v.lower()) if like else actual.lower() == v.lower()
                for v in values_of(raw)
            )
            if hit == ("not" in base):
                verdict = False
        if kept:
            rest[operator] = kept
    return verdict, rest or None
