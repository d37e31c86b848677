"""google_compute_firewall as network.ingress documents, as the live adapter reads VPC firewall
rules: one per allowed protocol, port range and source, with the ports that deny rules of higher
or equal priority take out (providers/gcp/firewall.py decides which do)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudscan.model import Document
from cloudscan.providers.gcp.firewall import not_denied
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
from cloudscan.providers.terraform.expressions import Unknown, as_bool, first_unknown


def project_of(module: Module) -> str | None:
    """The project of the google provider block, which resources without their own inherit."""
    project = module.providers.get("google", {}).get("project")
    return project if isinstance(project, str) else None


def ingress_rules(module: Module) -> Iterator[Document]:
    firewalls = module.managed("google_compute_firewall")
    # Deny rules take ports out of the allows they shadow, as the live adapter does; a deny with
    # anything unknown shadows nothing (the allow is still reported).
    denies = [d for d in map(_as_compute, firewalls) if d is not None and d.get("denied")]
    yield from isolated(
        module, firewalls, "network.ingress", "gcp", lambda firewall: _firewall(module, firewall, denies)
    )


def _blocks_as_compute(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"IPProtocol": b.get("protocol"), "ports": b.get("ports")} for b in blocks]


def _as_compute(firewall: Instance) -> dict[str, Any] | None:
    """A firewall as the Compute API shows it, for the shadowing rules; None if not all known."""
    rule = {
        "name": firewall.address,
        "network": firewall.value("network"),
        "priority": 1000 if firewall.value("priority") is None else firewall.value("priority"),
        "direction": firewall.value("direction") or "INGRESS",
        "disabled": firewall.value("disabled") or False,
        "sourceRanges": firewall.value("source_ranges"),
        "sourceTags": firewall.value("source_tags"),
        "sourceServiceAccounts": firewall.value("source_service_accounts"),
        "targetTags": firewall.value("target_tags"),
        "targetServiceAccounts": firewall.value("target_service_accounts"),
        "allowed": _blocks_as_compute(firewall.blocks("allow")),
        "denied": _blocks_as_compute(firewall.blocks("deny")),
    }
    if first_unknown(rule) or rule["direction"] != "INGRESS" or rule["disabled"] is True:
        return None
    return rule


def _firewall(module: Module, firewall: Instance, denies: list[dict[str, Any]]) -> Iterator[Document]:
    direction = firewall.value("direction") or "INGRESS"
    disabled = as_bool(firewall.value("disabled"), False)
    if direction == "EGRESS" or disabled is True:
        return
    # Whether it lets traffic in at all may be unknown: then every result depends on it.
    maybe = [u for u in (direction, disabled) if isinstance(u, Unknown)]
    name = firewall.value("name")
    name = name if isinstance(name, str) else firewall.address
    ranges = firewall.value("source_ranges")
    tags = as_list(firewall.value("source_tags")) + as_list(firewall.value("source_service_accounts"))
    # An ingress rule that names no source at all (source_ranges = [] included) applies
    # to 0.0.0.0/0.
    sources = [(known_only_after_apply(r), "cidr") for r in as_list(ranges)] + [
        (t, "security_group") for t in tags
    ]
    if not sources:
        sources = [("0.0.0.0/0", "cidr")]
    shape = _as_compute(firewall) or {"network": firewall.value("network"), "priority": 1000}
    for allow in firewall.blocks("allow"):
        protocol, protocol_unknown = protocol_name(allow.get("protocol", "all"))
        for low, high, unknown in _ports(allow.get("ports"), protocol):
            for source in sources:
                parts = [(low, high)]
                if not (unknown or protocol_unknown or maybe) and isinstance(source[0], str):
                    parts = not_denied(shape, protocol, (low, high), source[0], denies)
                for part in parts:
                    ports = (part[0], part[1], unknown)
                    yield _rule(module, firewall, name, (protocol, protocol_unknown), ports, source, maybe)


def _ports(ports: Any, protocol: str) -> list[tuple[int, int, Unknown | None]]:
    if protocol not in ("tcp", "udp", "sctp") or not ports:
        return [(0, 65535, None)]
    if isinstance(ports, Unknown):
        return [(0, 65535, ports)]
    out: list[tuple[int, int, Unknown | None]] = []
    for spec in ports:
        if isinstance(spec, Unknown):
            out.append((0, 65535, spec))
            continue
        low, _, high = str(spec).partition("-")
        out.append((int(low), int(high or low), None))
    return out


def _rule(
    module: Module,
    firewall: Instance,
    name: str,
    protocols: tuple[str, Unknown | None],
    ports: tuple[int, int, Unknown | None],
    source_of_rule: tuple[Any, str],
    maybe: list[Unknown],
) -> Document:
    protocol, protocol_unknown = protocols
    low, high, port_unknown = ports
    source, source_type = source_of_rule
    network = firewall.value("network")
    return ingress(
        module,
        "gcp",
        firewall,
        {
            "id": placeholder(firewall, "id"),
            "name": name,
            "network": network if isinstance(network, str) else None,
        },
        {
            "protocol": protocol,
            "from_port": low,
            "to_port": high,
            "source": source if isinstance(source, str) else "(unknown)",
            "source_type": source_type,
            "description": None,
        },
        unknown_problems(
            [
                ("/rule/source", source),
                ("/rule/from_port", port_unknown),
                ("/rule/protocol", protocol_unknown),
            ]
            + [("/rule", u) for u in maybe]
        ),
        account=project_of(module),
    )
