"""Azure's words for access, in and neutral grants and sources out."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from cloudscan import model
from cloudscan.providers.rules import ALL_PORTS, covers, merge, subtract

# A container's public access level -> what anyone on the internet may do in it
CONTAINER_ACCESS = {"private": [], "blob": ["read"], "container": ["read", "list"]}
# A stored access policy's permission letters (those of a container SAS) -> their words, in
# the order Azure writes them
SAS_PERMISSIONS = {
    "r": "read",
    "a": "add",
    "c": "create",
    "w": "write",
    "d": "delete",
    "x": "delete_previous_version",
    "y": "permanent_delete",
    "l": "list",
    "t": "tag",
    "f": "filter_by_tags",
    "m": "move",
    "e": "execute",
    "i": "set_immutability_policy",
}
# Service tags and wildcards of a security rule that mean every address of both families
ANYONE = {"*", "internet", "any"}
# Tags that mean "anyone who rents a machine in Azure" or "any customer's Front Door": the
# internet, for a PACS.
CLOUD_WIDE = ("azurecloud", "azurefrontdoor.backend")
WITH_PORTS = ("tcp", "udp", "all")


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


def sas_permissions(letters: str | None) -> list[str]:
    """The words of a stored access policy's permission letters; a letter Azure adds later
    stays a letter rather than being dropped."""
    given = letters or ""
    words = [word for letter, word in SAS_PERMISSIONS.items() if letter in given]
    return words + sorted({letter for letter in given if letter not in SAS_PERMISSIONS})


def rule_source(source: str) -> tuple[str, str]:
    """A security rule's source prefix or service tag as (cidr or tag, source type). IPv6's
    ::/0 stays itself: a deny of 0.0.0.0/0 does not close it."""
    lower = source.lower()
    if lower in ANYONE or lower in ("0.0.0.0", "0.0.0.0/0"):
        return "0.0.0.0/0", "cidr"
    if lower in CLOUD_WIDE or lower.startswith("azurecloud."):
        return source, "cidr"  # not an address range, and read as covering the internet
    return source, "cidr" if source[:1].isdigit() or ":" in source else "security_group"


def source_covers(denied: str, allowed: str) -> bool:
    """Whether a deny's source (as written) holds every address of an allow's source."""
    deny, allow = denied.lower(), allowed.lower()
    if deny in ANYONE:
        return True
    if allow in ANYONE:
        return False  # a single family, a tag or a range leaves the rest of "anyone" open
    deny = "0.0.0.0/0" if deny == "0.0.0.0" else deny
    allow = "0.0.0.0/0" if allow == "0.0.0.0" else allow
    return covers(deny, allow)


@dataclass(frozen=True)
class Deny:
    """A deny rule as the shadowing needs it. `everywhere`: it applies to every destination of
    the group and every source port; a deny narrower than that shadows nothing."""

    protocol: str  # tcp, udp, icmp, all...
    sources: tuple[str, ...]  # as written: prefixes, tags, application security groups
    ports: tuple[tuple[int, int], ...]  # destination port ranges
    everywhere: bool


def open_ports(
    span: tuple[int, int], protocol: str, source: str, denies: list[Deny]
) -> list[tuple[int, int]]:
    """What of an allow's port range `span` (from `source`, as written) is left by the deny
    rules of its group that Azure evaluates first (a lower priority number)."""
    holes: list[tuple[int, int]] = []
    for deny in denies:
        if not deny.everywhere or deny.protocol not in ("all", protocol):
            continue
        if not any(source_covers(s, source) for s in deny.sources):
            continue
        if protocol not in WITH_PORTS and ALL_PORTS not in deny.ports:
            continue  # a deny of some ports says nothing of ICMP, which has none
        holes += [ALL_PORTS] if protocol not in WITH_PORTS else list(deny.ports)
    return subtract(span, holes)


# Sources of an allow that hold no address from outside the virtual network.
INSIDE_TAGS = ("virtualnetwork", "azureloadbalancer")


@dataclass(frozen=True)
class Allow:
    """An inbound allow of the other group on a NIC's path (its subnet's, or the NIC's own)."""

    protocol: str
    sources: tuple[str, ...]  # as written
    ports: tuple[tuple[int, int], ...]
    priority: int


@dataclass(frozen=True)
class GroupRules:
    """A group's inbound allows and denies, each deny with its priority."""

    allows: tuple[Allow, ...]
    denies: tuple[tuple[int, Deny], ...]


def reaches_outside(source: str) -> bool:
    """Whether an allow's source may hold addresses from outside the virtual network: anyone,
    a public range, a service tag; not VirtualNetwork, the load balancer's probes, an
    application security group (NICs of the network) or a private range."""
    lower = source.lower()
    if lower in INSIDE_TAGS or "/applicationsecuritygroups/" in lower:
        return False
    try:
        return not ipaddress.ip_network(source, strict=False).is_private
    except ValueError:
        return True


def overlaps(one: str, other: str) -> bool:
    """Whether two sources may share an address (a tag may hold any range)."""
    if one.lower() in ANYONE or other.lower() in ANYONE:
        return True
    try:
        a, b = ipaddress.ip_network(one, strict=False), ipaddress.ip_network(other, strict=False)
    except ValueError:
        return True
    return a.version == b.version and a.overlaps(b)


def let_through(
    span: tuple[int, int], protocol: str, source: str, partner: GroupRules
) -> list[tuple[int, int]]:
    """What of an allow's port range `span` (from `source`) the other group on the path lets in
    too: the ports of its allows that may admit the same outside addresses, less the denies it
    evaluates before each. Its default rules let in only the virtual network and the load
    balancer's probes, so with no such allow it lets nothing of the internet through."""
    out: list[tuple[int, int]] = []
    for allow in partner.allows:
        if "all" not in (allow.protocol, protocol) and allow.protocol != protocol:
            continue
        if not any(reaches_outside(s) and overlaps(s, source) for s in allow.sources):
            continue
        first = [deny for priority, deny in partner.denies if priority < allow.priority]
        for low, high in allow.ports:
            shared = (max(span[0], low), min(span[1], high))
            if shared[0] <= shared[1]:
                out += open_ports(shared, protocol, source, first)
    return merge(out)


def through_paths(
    parts: list[tuple[int, int]], protocol: str, source: str, partners: list[GroupRules | None]
) -> list[tuple[int, int]]:
    """What of a group's open `parts` reaches something it guards: on each path (a NIC), the
    other group must let the traffic in too; a path with no other group takes nothing out."""
    if not partners or None in partners:
        return parts
    reached = [
        piece
        for partner in partners
        if partner is not None
        for span in parts
        for piece in let_through(span, protocol, source, partner)
    ]
    return merge(reached)
