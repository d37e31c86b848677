"""Does a bucket refuse requests that are not made over TLS?"""

from __future__ import annotations

from typing import Any

from cloudscan.checks.aws_conditions import requires_secure_transport
from cloudscan.checks.derived import Derived

ALL_DATA = {"read", "write"}


def bucket_tls(doc: dict[str, Any], context: Any) -> Derived:
    access = doc.get("access")
    if access is None or access.get("policy") is None:
        return Derived({"required": None, "reasons": {"required": []}},
                       unknown={"/tls/required": ["/access/policy"]})
    reasons = []
    for grant in access["grants"]:
        if (
            grant["via"] == "policy"
            and grant["effect"] == "deny"
            and grant["principal"]["type"] == "public"
            and set(grant["permissions"]) >= ALL_DATA
            and requires_secure_transport(grant["conditions"])
        ):
            reasons.append({
                "origin": grant["origin"],
                "effective": True,
                "neutralised_by": None,
                "detail": "denies every request made without TLS (aws:SecureTransport false)",
            })
    if not reasons:
        reasons.append({
            "origin": "Policy" if access["policy"]["present"] else "(no bucket policy)",
            "effective": False,
            "neutralised_by": None,
            "detail": "no statement denies requests with aws:SecureTransport false",
        })
    return Derived({"required": reasons[0]["effective"], "reasons": {"required": reasons}})
