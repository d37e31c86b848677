"""Security groups of a Terraform module (inline rules, aws_security_group_rule and
aws_vpc_security_group_ingress_rule) as the network.ingress documents the live AWS adapter
makes: one per protocol, port range and source."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from cloudscan.model import Document
from cloudscan.providers.terraform.attributes import placeholder
from cloudscan.providers.terraform.aws_iam import account_of
from cloudscan.providers.terraform.config import Instance, Module
from cloudscan.providers.terraform.documents import (
    as_list,
    ingress,
    isolated,
    known_only_after_apply,
    protocol_name,
    referred,
    unknown_problems,
)
from cloudscan.providers.terraform.expressions import Unknown, as_int

# Separate rule resources: rule field -> the arguments that hold it.
RULE_ARGUMENTS = {
    "aws_security_group_rule": {
        "protocol": ["protocol"],
        "from": ["from_port"],
        "to": ["to_port"],
        "cidrs": ["cidr_blocks", "ipv6_cidr_blocks"],
        "prefix_lists": ["prefix_list_ids"],
        "groups": ["source_security_group_id"],
        "description": ["description"],
    },
    "aws_vpc_security_group_ingress_rule": {
        "protocol": ["ip_protocol"],
        "from": ["from_port"],
        "to": ["to_port"],
        "cidrs": ["cidr_ipv4", "cidr_ipv6"],
        "prefix_lists": ["prefix_list_id"],
        "groups": ["referenced_security_group_id"],
        "description": ["description"],
    },
}


def ingress_rules(module: Module) -> Iterator[Document]:
    groups = {placeholder(g, "id"): g for g in module.managed("aws_security_group")}
    group_ids = {g.address: placeholder(g, "id") for g in groups.values()}

    def inline(group: Instance) -> Iterator[Document]:
        for rule in group.blocks("ingress"):
            yield from _rule_documents(
                module,
                group,
                group,
                {
                    "protocol": rule.get("protocol"),
                    "from": rule.get("from_port"),
                    "to": rule.get("to_port"),
                    "cidrs": as_list(rule.get("cidr_blocks")) + as_list(rule.get("ipv6_cidr_blocks")),
                    "prefix_lists": as_list(rule.get("prefix_list_ids")),
                    "groups": as_list(rule.get("security_groups")),
                    "description": rule.get("description"),
                },
            )

    def separate(instance: Instance) -> Iterator[Document]:
        names = RULE_ARGUMENTS[instance.type]
        direction = instance.value("type") if instance.type == "aws_security_group_rule" else "ingress"
        if direction == "egress":
            return
        group = groups.get(referred(instance, "security_group_id", group_ids))
        rule = {
            field: [v for n in arguments for v in as_list(instance.value(n))]
            if field in ("cidrs", "prefix_lists", "groups")
            else instance.value(arguments[0])
            for field, arguments in names.items()
        }
        # A type that is not known may be ingress: judged as one, with every result depending on it.
        maybe = (
            []
            if direction == "ingress"
            else [
                ("/rule", direction if isinstance(direction, Unknown) else Unknown(f"type = {direction!r}"))
            ]
        )
        yield from _rule_documents(module, instance, group, rule, maybe)

    yield from isolated(module, groups.values(), "network.ingress", "aws", inline)
    for type_ in RULE_ARGUMENTS:
        yield from isolated(module, module.managed(type_), "network.ingress", "aws", separate)


def _prefix_list_sources(module: Module, lists: list[Any]) -> list[tuple[Any, str]]:
    """Entries of prefix lists this configuration declares; others stay prefix lists."""
    declared = {placeholder(i, "id"): i for i in module.managed("aws_ec2_managed_prefix_list")}
    out: list[tuple[Any, str]] = []
    for listed in lists:
        instance = declared.get(listed) if isinstance(listed, str) else None
        entries = [e.get("cidr") for e in instance.blocks("entry")] if instance else None
        if entries is None or any(not isinstance(e, str) for e in entries):
            out.append((listed, "prefix_list"))
        else:
            out.extend((cidr, "cidr") for cidr in entries)
    return out


def _rule_documents(
    module: Module,
    holder: Instance,
    group: Instance | None,
    rule: dict[str, Any],
    maybe: Sequence[tuple[str, Unknown]] = (),
) -> Iterator[Document]:
    protocol, _ = protocol_name(rule["protocol"])
    given = (as_int(rule["from"]), as_int(rule["to"]))
    first, last = given
    ports = (
        (first, last)
        if protocol in ("tcp", "udp") and isinstance(first, int) and isinstance(last, int)
        else (0, 65535)
    )
    low, high = max(int(ports[0]), 0), min(int(ports[1]), 65535)
    group_name = group.value("name") if group else None
    group_name = group_name if isinstance(group_name, str) else (group.address if group else holder.address)
    sources = (
        [(known_only_after_apply(c), "cidr") for c in rule["cidrs"]]
        + _prefix_list_sources(module, rule["prefix_lists"])
        + [(g, "security_group") for g in rule["groups"]]
    )
    unknown_sources = [(s, t) for s, t in sources if isinstance(s, Unknown)]
    # A rule block that is unknown as a whole has every argument unknown: one rule, not four.
    sources = [(s, t) for s, t in sources if not isinstance(s, Unknown)] + unknown_sources[:1]
    description = rule["description"]
    for source, source_type in sources:
        shown = source if isinstance(source, str) else "(unknown)"
        problems = unknown_problems(
            [
                ("/rule/source", source),
                ("/rule/from_port", given[0]),
                ("/rule/to_port", given[1]),
                ("/rule/protocol", rule["protocol"]),
                *maybe,
            ]
        )
        if source_type == "prefix_list" and isinstance(source, str):
            problems.append(
                ("/rule/source", f"the entries of prefix list {source} are not known from the configuration")
            )
        yield ingress(
            module,
            "aws",
            holder,
            {
                "id": placeholder(group, "id") if group else "(not in this configuration)",
                "name": group_name,
                "network": None,
            },
            {
                "protocol": protocol,
                "from_port": low,
                "to_port": high,
                "source": shown,
                "source_type": source_type,
                "description": description if isinstance(description, str) else None,
            },
            problems,
            account=account_of(module),
        )
