"""VPC firewall rules (the Compute API's JSON) as `network.ingress` documents: one per allowed
protocol, port range and source of each enabled ingress rule.

A deny rule of higher or equal priority (a lower or equal number: at equal priority deny
wins) that covers the same network, every target of the allow and the whole internet takes
its ports out of the allow; what is left is reported. A deny that covers less (some targets,
some sources) is not counted: the allow may still reach someone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudscan.model import Document, ingress_rule, new_resource
from cloudscan.providers.rules import ALL_PORTS, covers, subtract

WITH_PORTS = ("tcp", "udp", "sctp")
DEFAULT_PRIORITY = 1000


def ingress_rules(firewalls: list[dict[str, Any]], project: str) -> Iterator[Document]:
    enabled = [f for f in firewalls if f.get("direction", "INGRESS") == "INGRESS" and not f.get("disabled")]
    denies = [f for f in enabled if f.get("denied")]
    for firewall in enabled:
        for allowed in firewall.get("allowed") or []:
            protocol = protocol_name(allowed.get("IPProtocol"))
            for source, source_type in sources(firewall):
                for low, high in port_ranges(allowed.get("ports"), protocol):
                    for part in not_denied(firewall, protocol, (low, high), source, denies):
                        yield _rule(firewall, project, protocol, part, source, source_type)


# Protocols a rule may give by IANA number
NUMBERED = {"1": "icmp", "6": "tcp", "17": "udp", "132": "sctp", "-1": "all"}


def protocol_name(value: Any) -> str:
    text = str(value if value is not None else "all").lower()
    return NUMBERED.get(text, text)


def sources(firewall: dict[str, Any]) -> list[tuple[str, str]]:
    """(source, type) pairs; an ingress rule that names no source at all applies to 0.0.0.0/0."""
    found = [(str(r), "cidr") for r in firewall.get("sourceRanges") or []]
    found += [(str(t), "security_group") for t in firewall.get("sourceTags") or []]
    found += [(str(s), "security_group") for s in firewall.get("sourceServiceAccounts") or []]
    return found or [("0.0.0.0/0", "cidr")]


def port_ranges(ports: Any, protocol: str) -> list[tuple[int, int]]:
    if protocol not in WITH_PORTS or not ports:
        return [ALL_PORTS]
    out = []
    for spec in ports:
        low, _, high = str(spec).partition("-")
        out.append((int(low), int(high or low)))
    return out


def not_denied(
    allow: dict[str, Any], protocol: str, span: tuple[int, int], source: str, denies: list[dict[str, Any]]
) -> list[tuple[int, int]]:
    holes = []
    for deny in denies:
        if deny is allow or not _shadows(deny, allow, source):
            continue
        for denied in deny.get("denied") or []:
            deny_protocol = protocol_name(denied.get("IPProtocol"))
            if deny_protocol == "all":
                holes.append(ALL_PORTS)
            elif deny_protocol == protocol:
                holes += port_ranges(denied.get("ports"), protocol)
    return subtract(span, holes)


def _shadows(deny: dict[str, Any], allow: dict[str, Any], source: str) -> bool:
    if deny.get("network") != allow.get("network"):
        return False
    if int(deny.get("priority", DEFAULT_PRIORITY)) > int(allow.get("priority", DEFAULT_PRIORITY)):
        return False
    if not any(covers(denied, source) for denied, _ in sources(deny)):
        return False
    for key in ("targetTags", "targetServiceAccounts"):
        # A deny with no targets applies to every instance of the network.
        if deny.get(key) and set(deny[key]) != set(allow.get(key) or ()):
            return False
    return True


def _rule(
    firewall: dict[str, Any],
    project: str,
    protocol: str,
    ports: tuple[int, int],
    source: str,
    source_type: str,
) -> Document:
    name = str(firewall.get("name"))
    network = str(firewall.get("network") or "")
    key = f"{protocol}/{ports[0]}-{ports[1]}/{source}"
    doc = new_resource(
        "network.ingress",
        "gcp",
        f"//compute.googleapis.com/projects/{project}/global/firewalls/{name}#ingress/{key}",
        name=f"{name} {key}",
        account=project,
        region="global",
    )
    doc["group"] = {
        "id": str(firewall.get("id") or name),
        "name": name,
        "network": network.rsplit("/", 1)[-1] or None,
    }
    doc["rule"] = ingress_rule(protocol, ports, source, source_type, firewall.get("description") or None)
    # Which instances carry the rule's target tags is not read yet: --from-inventory gets no
    # addresses from Google Cloud.
    doc["_meta"]["not_collected"].extend(["/attached", "/addresses"])
    return doc
