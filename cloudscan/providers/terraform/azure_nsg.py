"""Network security group rules (inline, and azurerm_network_security_rule) as network.ingress
documents, as the live adapter reads them: one per inbound allow, source and port range, with
the ports that the group's deny rules numbered lower take out, and those the subnet's group
keeps out of a NIC's group (providers/azure/vocabulary.py decides which do)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudscan.model import Document
from cloudscan.providers.azure.vocabulary import (
    Allow,
    Deny,
    GroupRules,
    open_ports,
    rule_source,
    through_paths,
)
from cloudscan.providers.terraform.attributes import placeholder
from cloudscan.providers.terraform.config import Instance, Module
from cloudscan.providers.terraform.documents import (
    as_list,
    ingress,
    isolated,
    known_only_after_apply,
    protocol_name,
    unknown_problems,
)
from cloudscan.providers.terraform.expressions import Unknown, first_unknown


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


RULE_KEYS = (
    "name",
    "priority",
    "direction",
    "access",
    "protocol",
    "source_address_prefix",
    "source_address_prefixes",
    "destination_port_range",
    "destination_port_ranges",
    "source_application_security_group_ids",
    "destination_address_prefix",
    "destination_address_prefixes",
    "destination_application_security_group_ids",
    "source_port_range",
    "source_port_ranges",
)


def ingress_rules(module: Module) -> Iterator[Document]:
    def key(instance: Instance, name_argument: str) -> tuple[Any, Any]:
        return instance.value("resource_group_name"), instance.value(name_argument)

    groups = {key(g, "name"): g for g in module.managed("azurerm_network_security_group")}
    separate_rules = module.managed("azurerm_network_security_rule")
    # Every rule of a group, inline or separate, by the group's resource group and name: deny
    # rules numbered lower take their ports out of the allows, as Azure evaluates them.
    by_group: dict[Any, list[dict[str, Any]]] = {}
    for group_key, group in groups.items():
        by_group[group_key] = list(group.blocks("security_rule"))
    for instance in separate_rules:
        rule = {name: instance.value(name) for name in RULE_KEYS}
        by_group.setdefault(key(instance, "network_security_group_name"), []).append(rule)

    # Each group's partners on the NICs' paths, and the rules of every group as a partner.
    partners_of = _partners(module)
    as_partner = {placeholder(g, "id"): _group_rules(by_group.get(k, [])) for k, g in groups.items()}

    def partners(group: Instance | None) -> list[GroupRules | None]:
        found = partners_of.get(placeholder(group, "id"), [None]) if group else [None]
        return [as_partner.get(p) if p else None for p in found]

    def inline(group: Instance) -> Iterator[Document]:
        for rule in group.blocks("security_rule"):
            shown = _str(group.value("name")) or group.address
            siblings = by_group.get(key(group, "name"), [])
            yield from _rule_documents(module, group, shown, rule, siblings, partners(group))

    def separate(instance: Instance) -> Iterator[Document]:
        rule = {name: instance.value(name) for name in RULE_KEYS}
        group_key = key(instance, "network_security_group_name")
        group = groups.get(group_key)
        group_name = _str((group or instance).value("name" if group else "network_security_group_name"))
        siblings = by_group.get(group_key, [])
        shown = group_name or instance.address
        yield from _rule_documents(module, instance, shown, rule, siblings, partners(group))

    yield from isolated(
        module, module.managed("azurerm_network_security_group"), "network.ingress", "azure", inline
    )
    yield from isolated(module, separate_rules, "network.ingress", "azure", separate)


def _partners(module: Module) -> dict[str, list[str | None]]:
    """Group id -> the other group on each NIC path through it, as the associations declare
    them: a NIC's group has its subnet's (None: the subnet has none, or it is not known
    here). A subnet's group is judged alone: what else sits in the subnet is not in these
    files (the live scan sees it)."""
    nic_groups = {
        a.value("network_interface_id"): a.value("network_security_group_id")
        for a in module.related("azurerm_network_interface_security_group_association")
    }
    subnet_groups = {
        a.value("subnet_id"): a.value("network_security_group_id")
        for a in module.related("azurerm_subnet_network_security_group_association")
        if isinstance(a.value("subnet_id"), str)
    }
    out: dict[str, list[str | None]] = {}
    for nic in module.related("azurerm_network_interface"):
        group = nic_groups.get(placeholder(nic, "id"))
        if not isinstance(group, str):
            continue
        for configuration in nic.blocks("ip_configuration"):
            subnet = configuration.get("subnet_id")
            partner = subnet_groups.get(subnet) if isinstance(subnet, str) else None
            out.setdefault(group, []).append(partner if isinstance(partner, str) else None)
    for group in subnet_groups.values():
        if isinstance(group, str):
            out.setdefault(group, []).append(None)
    return out


def _group_rules(rules: list[dict[str, Any]]) -> GroupRules | None:
    """A group's inbound rules as the other group on a path; None when one is not known."""
    allows, denies = [], []
    for rule in rules:
        if first_unknown(rule) or not isinstance(rule.get("priority"), int):
            return None
        if str(rule.get("direction")).lower() != "inbound":
            continue
        protocol, _ = protocol_name(rule.get("protocol") or "*")
        ranges = [_port_range(p, protocol)[:2] for p in _values(rule, "destination_port_range")]
        sources = tuple(_values(rule, "source_address_prefix") or ["*"])
        ports = tuple(ranges or [(0, 65535)])
        if str(rule.get("access")).lower() == "allow":
            allows.append(Allow(protocol, sources, ports, rule["priority"]))
        else:
            denies.append((rule["priority"], Deny(protocol, sources, ports, _everywhere(rule))))
    return GroupRules(tuple(allows), tuple(denies))


def _denies_before(rule: dict[str, Any], siblings: list[dict[str, Any]]) -> list[Deny]:
    """The group's inbound deny rules Azure evaluates before `rule`, where all is known."""
    priority = rule.get("priority")
    if not isinstance(priority, int):
        return []
    out: list[Deny] = []
    for deny in siblings:
        if first_unknown(deny) or str(deny.get("access")).lower() != "deny":
            continue
        if str(deny.get("direction")).lower() != "inbound" or not isinstance(deny.get("priority"), int):
            continue
        if deny["priority"] >= priority:
            continue
        protocol, _ = protocol_name(deny.get("protocol") or "*")
        ranges = [_port_range(p, protocol)[:2] for p in _values(deny, "destination_port_range") if p != ""]
        out.append(
            Deny(
                protocol,
                tuple(_values(deny, "source_address_prefix") or ["*"]),
                tuple(ranges or [(0, 65535)]),
                _everywhere(deny),
            )
        )
    return out


PLURAL = {
    "source_address_prefix": "source_address_prefixes",
    "destination_address_prefix": "destination_address_prefixes",
    "destination_port_range": "destination_port_ranges",
    "source_port_range": "source_port_ranges",
}


def _values(rule: dict[str, Any], single: str) -> list[Any]:
    """A rule argument given as `single` or as its plural list ("" is how modules leave the
    one they do not use), with application security groups counted as sources."""
    found = [v for name in (single, PLURAL[single]) for v in as_list(rule.get(name)) if v not in ("", None)]
    if single == "source_address_prefix":
        found += as_list(rule.get("source_application_security_group_ids"))
    return found


def _everywhere(rule: dict[str, Any]) -> bool:
    """Every destination of the group, from every source port."""
    return (
        all(d == "*" for d in _values(rule, "destination_address_prefix"))
        and not as_list(rule.get("destination_application_security_group_ids"))
        and all(p == "*" for p in _values(rule, "source_port_range"))
    )


def _rule_documents(
    module: Module,
    holder: Instance,
    group_name: str,
    rule: dict[str, Any],
    siblings: list[dict[str, Any]],
    partners: list[GroupRules | None],
) -> Iterator[Document]:
    direction, access = rule.get("direction"), rule.get("access")
    if str(direction).lower() == "outbound" or str(access).lower() == "deny":
        return
    # An unknown direction or access may let traffic in: every result depends on it.
    maybe = [("/rule", u) for u in (direction, access) if isinstance(u, Unknown)]
    protocol, protocol_unknown = protocol_name(rule.get("protocol") or "*")
    # "" is how modules leave the single-value argument unset when they give the list one.
    sources = [known_only_after_apply(s) for s in _values(rule, "source_address_prefix")]
    ports = [
        p
        for name in ("destination_port_range", "destination_port_ranges")
        for p in as_list(rule.get(name))
        if p != ""
    ]
    denies = _denies_before(rule, siblings)
    for source in sources or ["*"]:
        for port in ports or ["*"]:
            first, last, unknown_port = _port_range(port, protocol)
            shown = source if isinstance(source, str) else "(unknown)"
            cidr, source_type = rule_source(shown)
            known = not (unknown_port or protocol_unknown or maybe) and isinstance(source, str)
            parts = open_ports((first, last), protocol, shown, denies) if known else [(first, last)]
            parts = through_paths(parts, protocol, shown, partners) if known else parts
            for low, high in parts:
                yield from _one_rule(
                    module,
                    holder,
                    group_name,
                    rule,
                    (protocol, protocol_unknown),
                    (low, high, unknown_port),
                    (source, shown, cidr, source_type),
                    maybe,
                )


def _one_rule(
    module: Module,
    holder: Instance,
    group_name: str,
    rule: dict[str, Any],
    protocols: tuple[str, Unknown | None],
    ports: tuple[int, int, Unknown | None],
    sources: tuple[Any, str, str, str],
    maybe: list[tuple[str, Unknown]],
) -> Iterator[Document]:
    protocol, protocol_unknown = protocols
    low, high, unknown_port = ports
    source, shown, cidr, source_type = sources
    yield ingress(
        module,
        "azure",
        holder,
        {"id": placeholder(holder, "id"), "name": group_name, "network": None},
        {
            "protocol": protocol,
            "from_port": low,
            "to_port": high,
            "source": cidr,
            "source_type": source_type,
            "description": _str(rule.get("name")),
        },
        unknown_problems(
            [
                ("/rule/source", source),
                ("/rule/from_port", unknown_port),
                ("/rule/protocol", protocol_unknown),
                *maybe,
            ]
        ),
        written=shown,
    )


def _port_range(port: Any, protocol: str) -> tuple[int, int, Unknown | None]:
    if isinstance(port, Unknown):
        return 0, 65535, port
    text = str(port)
    if text == "*" or protocol not in ("tcp", "udp", "all"):
        return 0, 65535, None
    low, _, high = text.partition("-")
    return int(low), int(high or low), None
