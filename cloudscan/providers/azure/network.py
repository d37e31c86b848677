"""Network security group rules as `network.ingress` documents: one per inbound allow rule,
source and port range, with what deny rules of higher priority (a lower number) in the same
group take out, and what the other group on every NIC's path (the subnet's, or the NIC's own)
does not let in; and which NICs and subnets use the group, with the public addresses that
reach it (what `scan dicomweb --from-inventory` probes)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudscan.model import Document, ingress_rule, new_resource
from cloudscan.providers.azure.clients import value
from cloudscan.providers.azure.topology import Topology
from cloudscan.providers.azure.vocabulary import (
    Allow,
    Deny,
    GroupRules,
    open_ports,
    rule_source,
    through_paths,
)
from cloudscan.providers.rules import ALL_PORTS

PROTOCOLS = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "*": "all", "esp": "esp", "ah": "ah"}


def ingress_rules(
    group: Any, subscription: str, topology: Topology | None, groups: dict[str, GroupRules]
) -> Iterator[Document]:
    """The group's inbound allows, less what the other group on each NIC's path keeps out;
    `topology` None: the NICs and subnets were not read, so each group is judged alone and
    the addresses are unknown. `groups`: every group of the subscription by lower-case id."""
    rules = [r for r in group.security_rules or [] if str(value(r.direction)).lower() == "inbound"]
    denies = [r for r in rules if str(value(r.access)).lower() == "deny"]
    attached = bool(group.network_interfaces or group.subnets)
    partners: list[GroupRules | None] = (
        [None if p is None else groups.get(p) for p in topology.partners(group.id)] if topology else [None]
    )
    addresses = None if topology is None else topology.addresses(group.id)
    for rule in rules:
        if str(value(rule.access)).lower() != "allow":
            continue
        protocol = _protocol(rule)
        for written in sources(rule):
            source, source_type = rule_source(written)
            for span in port_ranges(rule, protocol):
                parts = _not_denied(rule, protocol, span, written, denies)
                for part in through_paths(parts, protocol, written, partners):
                    yield _document(
                        group,
                        subscription,
                        rule,
                        protocol,
                        part,
                        (written, source, source_type),
                        attached,
                        addresses,
                    )


def group_rules(group: Any) -> GroupRules:
    """The group's inbound rules as the other group on a path needs them."""
    allows, denies = [], []
    for rule in group.security_rules or []:
        if str(value(rule.direction)).lower() != "inbound":
            continue
        protocol = _protocol(rule)
        ports = tuple(port_ranges(rule, protocol))
        if str(value(rule.access)).lower() == "allow":
            allows.append(Allow(protocol, tuple(sources(rule)), ports, rule.priority))
        else:
            denies.append((rule.priority, Deny(protocol, tuple(sources(rule)), ports, _everywhere(rule))))
    return GroupRules(tuple(allows), tuple(denies))


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
