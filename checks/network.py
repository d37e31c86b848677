"""Does a source range reach the public internet?"""

from __future__ import annotations

import ipaddress
from typing import Any

from cloudscan.model import unknown_inputs

from .derived import Derived

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


def ingress_exposure(doc: dict[str, Any], context: Any) -> Derived:
    rule = doc.get("rule")
    if rule is None:
        return Derived(
            {"internet": None, "reasons": {"internet": []}}, unknown={"/exposure/internet": ["/rule"]}
        )
    source, source_type = rule["source"], rule["source_type"]
    if unknown_inputs(doc, ["/rule/source"]):
        return Derived(
            _block(None, f"source {source} is unknown"), unknown={"/exposure/internet": ["/rule/source"]}
        )
    if source_type == "cidr":
        internet = cidr_covers_internet(source)
        detail = f"{source} {'covers' if internet else 'does not cover'} the internet"
        return Derived(_block(internet, detail))
    if source_type == "security_group":
        # Only members of the other group can connect.
        return Derived(_block(False, f"source is security group {source}"))
    # A prefix list whose entries were not read may hold any range.
    return Derived(
        _block(None, f"source is prefix list {source}, whose entries are unknown"),
        unknown={"/exposure/internet": ["/rule/source"]},
    )


def _block(internet: bool | None, detail: str) -> dict[str, Any]:
    reason = {"origin": "rule.source", "effective": internet, "neutralised_by": None, "detail": detail}
    return {"internet": internet, "reasons": {"internet": [reason]}}


def account_exposure(doc: dict[str, Any], context: Any) -> Derived:
    """Azure: whether a storage account's endpoints answer the internet: public network access
    on, and network rules that allow by default or let in a range as broad as the internet."""
    if doc["provider"] != "azure":
        return Derived({"internet": None, "reasons": {"internet": []}})  # not a setting there
    network = doc.get("network")
    if network is None:
        return Derived(
            {"internet": None, "reasons": {"internet": []}}, unknown={"/exposure/internet": ["/network"]}
        )
    if not network["public_network_access"]:
        internet, detail = False, "public network access is disabled"
    elif network["default_action"] != "Deny":
        internet, detail = True, "public network access is on and the network rules allow by default"
    else:
        broad = [ip for ip in network["ip_rules"] or [] if cidr_covers_internet(ip)]
        internet = bool(broad)
        detail = (
            f"the network rules deny by default but allow {', '.join(broad)}"
            if broad
            else "the network rules deny by default and allow only named ranges"
        )
    reason = {"origin": "network", "effective": internet, "neutralised_by": None, "detail": detail}
    return Derived({"internet": internet, "reasons": {"internet": [reason]}})
