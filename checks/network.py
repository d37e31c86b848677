"""Does a source range reach the public internet?"""

from __future__ import annotations

import ipaddress
from typing import Any

from cloudscan.model import derive_unknown

# A range this broad is "anyone", even if part of it is reserved space: 0.0.0.0/1, 8.0.0.0/6 ...
# A narrower public range (a partner's /24) is an allow-list, not the internet.
WORLD_PREFIX = {4: 8, 6: 32}


def cidr_covers_internet(cidr: str) -> bool:
    """True for ranges at least as broad as /8 (IPv4) or /32 (IPv6) that are not private space."""
    try:
        net = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return True  # an unparseable range must not read as "restricted"
    if net.prefixlen > WORLD_PREFIX[net.version]:
        return False
    return not (net.is_private or net.is_loopback or net.is_link_local)


def derive_ingress_exposure(doc: dict[str, Any], context: Any) -> None:
    rule = doc.get("rule")
    reasons: list[dict[str, Any]] = []
    internet: bool | None
    if rule is None:
        internet = None
        derive_unknown(doc, "/exposure/internet", ["/rule"])
    elif rule["source_type"] == "cidr":
        internet = cidr_covers_internet(rule["source"])
        reasons.append({
            "origin": "rule.source",
            "effective": internet,
            "neutralised_by": None,
            "detail": f"{rule['source']} {'covers' if internet else 'does not cover'} the internet",
        })
    else:
        # Another security group or a prefix list: only principals inside it are allowed.
        internet = rule["source_type"] != "security_group" and None
        if internet is None:
            doc["_meta"]["errors"].append({
                "call": "cloudscan:ResolvePrefixList",
                "code": "NotResolved",
                "message": f"entries of prefix list {rule['source']} are not resolved",
                "pointers": ["/exposure/internet"],
            })
            doc["_meta"]["unknown"].append("/exposure/internet")
        reasons.append({
            "origin": "rule.source",
            "effective": internet,
            "neutralised_by": None,
            "detail": f"source is {rule['source_type']} {rule['source']}",
        })
    doc["exposure"] = {"internet": internet, "reasons": {"internet": reasons}}
