"""Azure's words for access, in and neutral grants and sources out."""

from __future__ import annotations

from typing import Any

from cloudscan import model

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
