"""When does an IAM Condition make an S3 policy statement non-public?

Amazon S3 treats a statement as non-public when it pins access to fixed values of certain
keys ("The meaning of public" in the S3 User Guide): a set of CIDRs in aws:SourceIp, or a fixed
aws:SourceArn, SourceVpc, SourceVpce, SourceOwner, SourceAccount, principal organisation or
account, aws:userid, KMS key id or access point. A fixed value has no wildcard and no policy
variable. Conditions on other keys, such as aws:SecureTransport, do not restrict who can call.
"""

from __future__ import annotations

from typing import Any

from cloudscan.checks.network import cidr_covers_internet

RESTRICTING_KEYS = frozenset(k.lower() for k in (
    "aws:SourceIp", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceArn", "aws:SourceOwner",
    "aws:SourceAccount", "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths", "aws:PrincipalAccount", "aws:PrincipalArn", "aws:userid",
    "s3:x-amz-server-side-encryption-aws-kms-key-id", "s3:DataAccessPointArn",
    "s3:DataAccessPointAccount",
))

# Operators that allow only listed values. Negated ones (StringNotEquals, NotIpAddress) allow
# everything else, so they never restrict.
POSITIVE_OPERATORS = frozenset(
    ("stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "ipaddress")
)


def _values(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _fixed(value: str) -> bool:
    return not any(ch in value for ch in "*?") and "${" not in value


def restricting_condition(conditions: dict[str, Any] | None) -> str | None:
    """The first condition that limits the statement to fixed values, described; else None."""
    for operator, pairs in (conditions or {}).items():
        name = operator.lower()
        qualifier, _, base = name.rpartition(":")
        # ...IfExists passes when the key is absent; ForAllValues passes on an empty set.
        if base.endswith("ifexists") or qualifier == "forallvalues":
            continue
        if base not in POSITIVE_OPERATORS or not isinstance(pairs, dict):
            continue
        for key, raw in pairs.items():
            if key.lower() not in RESTRICTING_KEYS:
                continue
            values = _values(raw)
            if not values:
                continue
            if key.lower() == "aws:sourceip":
                if not any(cidr_covers_internet(v) for v in values):
                    return f"{operator} {key} {', '.join(values)}"
            elif all(_fixed(v) for v in values):
                return f"{operator} {key} {', '.join(values)}"
    return None


def requires_secure_transport(conditions: dict[str, Any] | None) -> bool:
    """A Deny with this condition applies to every request not made over TLS."""
    for operator, pairs in (conditions or {}).items():
        if operator.lower() not in ("bool", "boolifexists") or not isinstance(pairs, dict):
            continue
        for key, raw in pairs.items():
            if key.lower() == "aws:securetransport" and [v.lower() for v in _values(raw)] == ["false"]:
                return True
    return False
