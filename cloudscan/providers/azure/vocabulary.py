"""Azure's words for access, in and neutral grants and sources out."""

from __future__ import annotations

from typing import Any

from cloudscan import model
from cloudscan.providers.rules import covers, subtract

# A container's public access level -> what anyone on the internet may do in it
CONTAINER_ACCESS = {"private": [], "blob": ["read"], "container": ["read", "list"]}
# Service tags and wildcards of a security rule that mean "any address"
INTERNET = {"*", "internet", "any", "0.0.0.0", "0.0.0.0/0", "::/0"}


def container_grants(level: str, origin: str, action: str) -> list[dict[str, Any]]:
    """The anonymous grant a container's public access `level` makes (none when private)."""
    permissions = CONTAINER_ACCESS[level]
    if not permissions:
        return []
    return [
        model.grant(
            model.principal("public", "anonymous"),
            permissions,
            via="container_level",
            origin=origin,
            actions=[action],
        )
    ]


def rule_source(source: str) -> tuple[str, str]:
    """A security rule's source prefix or service tag as (cidr or tag, source type)."""
    cidr = "0.0.0.0/0" if source.lower() in INTERNET else source
    return cidr, "cidr" if cidr[:1].isdigit() or ":" in cidr else "security_group"


# A deny rule as the shadowing needs it: protocol (tcp, udp, all...), sources as written, and
# the port ranges it covers.
Deny = tuple[str, list[str], list[tuple[int, int]]]


def open_ports(
    span: tuple[int, int], protocol: str, source: str, denies: list[Deny]
) -> list[tuple[int, int]]:
    """What of an allow's port range `span` is left by the deny rules of its group that Azure
    evaluates first (a lower priority number): those of its protocol that cover its source."""
    holes = [
        ports
        for deny_protocol, deny_sources, ranges in denies
        if deny_protocol in ("all", protocol) and any(covers(rule_source(s)[0], source) for s in deny_sources)
        for ports in ranges
    ]
    return subtract(span, holes)
