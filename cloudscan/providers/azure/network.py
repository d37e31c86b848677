"""Network security group rules as `network.ingress` documents: one per inbound allow rule,
source and port range, with what deny rules of higher priority (a lower number) in the same
group take out; and which NICs and subnets use the group, with the public addresses that
reach it (what `scan dicomweb --from-inventory` probes)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudscan.model import Document, ingress_rule, new_resource
from cloudscan.providers.azure.clients import value
from cloudscan.providers.azure.vocabulary import Deny, open_ports, rule_source
from cloudscan.providers.rules import ALL_PORTS

PROTOCOLS = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "*": "all", "esp": "esp", "ah": "ah"}


def ingress_rules(
    group: Any, subscription: str, addresses: dict[str, list[str]] | None
) -> Iterator[Document]:
    """The group's inbound allows; `addresses` maps a group id to the public IPs of the NICs
    that use it (None: not read)."""
    rules = [r for r in group.security_rules or [] if str(value(r.direction)).lower() == "inbound"]
    denies = [r for r in rules if str(value(r.access)).lower() == "deny"]
    attached = bool(group.network_interfaces or group.subnets)
    for rule in rules:
        if str(value(rule.access)).lower() != "allow":
            continue
        protocol = _protocol(rule)
        for written in sources(rule):
            source, source_type = rule_source(written)
            for span in port_ranges(rule, protocol):
                for part in _not_denied(rule, protocol, span, written, denies):
                    yield _document(
                        group,
                        subscription,
                        rule,
                        protocol,
                        part,
                        (written, source, source_type),
                        attached,
                        None if addresses is None else addresses.get(group.id.lower(), []),
                    )


def sources(rule: Any) -> list[str]:
    found = [s for s in [rule.source_address_prefix, *(rule.source_address_prefixes or [])] if s]
    found += [asg.id for asg in rule.source_application_security_groups or [] if asg.id]
    return found or ["*"]


def port_ranges(rule: Any, protocol: str) -> list[tuple[int, int]]:
    if protocol not in ("tcp", "udp", "all"):
        return [ALL_PORTS]
    out = []
    for spec in [rule.destination_port_range, *(rule.destination_port_ranges or [])]:
        if not spec:
            continue
        if spec == "*":
            out.append(ALL_PORTS)
            continue
        low, _, high = str(spec).partition("-")
        out.append((int(low), int(high or low)))
    return out or [ALL_PORTS]


def _not_denied(
    allow: Any, protocol: str, span: tuple[int, int], written: str, denies: list[Any]
) -> list[tuple[int, int]]:
    """Azure evaluates a group's rules by priority, lowest number first, and stops at the first
    match: a deny numbered lower that covers the source takes its ports out."""
    first = [
        Deny(_protocol(d), tuple(sources(d)), tuple(port_ranges(d, _protocol(d))), _everywhere(d))
        for d in denies
        if d.priority < allow.priority
    ]
    return open_ports(span, protocol, written, first)


def _everywhere(rule: Any) -> bool:
    """Every destination of the group, from every source port."""
    destinations = [rule.destination_address_prefix, *(rule.destination_address_prefixes or [])]
    source_ports = [rule.source_port_range, *(rule.source_port_ranges or [])]
    return (
        all(d in (None, "", "*") for d in destinations)
        and not rule.destination_application_security_groups
        and all(p in (None, "", "*") for p in source_ports)
    )


def _protocol(rule: Any) -> str:
    text = str(value(rule.protocol)).lower()
    return PROTOCOLS.get(text, text)


def _document(
    group: Any,
    subscription: str,
    rule: Any,
    protocol: str,
    ports: tuple[int, int],
    source_of: tuple[str, str, str],
    attached: bool,
    addresses: list[str] | None,
) -> Document:
    written, source, source_type = source_of
    key = f"{protocol}/{ports[0]}-{ports[1]}/{written}"
    doc = new_resource(
        "network.ingress",
        "azure",
        f"{rule.id}#ingress/{key}",
        name=f"{group.name} {key}",
        account=subscription,
        region=group.location,
        labels=dict(group.tags or {}),
    )
    doc["group"] = {"id": group.id, "name": group.name, "network": None}
    doc["rule"] = ingress_rule(protocol, ports, source, source_type, rule.name)
    doc["attached"] = attached
    doc["addresses"] = addresses
    if addresses is None:
        doc["_meta"]["not_collected"].append("/addresses")
    return doc


def public_addresses(client: Any) -> dict[str, list[str]]:
    """Group id (lower case) -> the public IPs of the NICs that use it, directly or through
    their subnet's group."""
    ips = {ip.id.lower(): ip.ip_address for ip in client.public_ip_addresses.list_all() if ip.ip_address}
    subnet_groups: dict[str, str] = {}
    for network in client.virtual_networks.list_all():
        for subnet in network.subnets or []:
            if subnet.network_security_group:
                subnet_groups[subnet.id.lower()] = subnet.network_security_group.id.lower()
    out: dict[str, list[str]] = {}
    for nic in client.network_interfaces.list_all():
        public = [
            ips[c.public_ip_address.id.lower()]
            for c in nic.ip_configurations or []
            if c.public_ip_address and c.public_ip_address.id.lower() in ips
        ]
        groups = {nic.network_security_group.id.lower()} if nic.network_security_group else set()
        groups |= {
            subnet_groups[c.subnet.id.lower()]
            for c in nic.ip_configurations or []
            if c.subnet and c.subnet.id.lower() in subnet_groups
        }
        for group in groups:
            out.setdefault(group, []).extend(public)
    return out
