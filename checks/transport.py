"""Does a bucket refuse requests that are not made over TLS?"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from .aws_conditions import requires_secure_transport
from .derived import Derived

ALL_DATA = {"read", "write"}


def _covers_objects(resources: list[str] | None, bucket: str) -> bool:
    probe = f"arn:aws:s3:::{bucket}/any/object.dcm"
    return any(fnmatchcase(probe, r) for r in resources or [])


def bucket_tls(doc: dict[str, Any], context: Any) -> Derived:
    access = doc.get("access")
    if access is None or access.get("policy") is None:
        return Derived(
            {"required": None, "reasons": {"required": []}}, unknown={"/tls/required": ["/access/policy"]}
        )
    reasons = []
    for grant in access["grants"]:
        if (
            grant["via"] == "policy"
            and grant["effect"] == "deny"
            and grant["principal"]["type"] == "public"
            and not grant["principal"]["negated"]
            and set(grant["permissions"]) >= ALL_DATA  # for a Deny: every read and write action
            and _covers_objects(grant["resources"], doc["name"])
            and requires_secure_transport(grant["conditions"])
        ):
            reasons.append(
                {
                    "origin": grant["origin"],
                    "effective": True,
                    "neutralised_by": None,
                    "detail": "denies every request made without TLS (aws:SecureTransport false)",
                }
            )
    if not reasons:
        reasons.append(
            {
                "origin": "Policy" if access["policy"]["present"] else "(no bucket policy)",
                "effective": False,
                "neutralised_by": None,
                "detail": "no statement denies requests with aws:SecureTransport false",
            }
        )
    return Derived({"required": reasons[0]["effective"], "reasons": {"required": reasons}})
