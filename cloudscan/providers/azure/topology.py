"""Which network security groups guard which network interfaces, and the public addresses that
reach each: NICs of virtual machines and of scale sets, their subnets, their public IPs, and
the public frontends of load balancers that send traffic to them.

Azure lets inbound traffic in only when the subnet's group and then the NIC's group both allow
it, so each NIC is a path on which one group's allows need the other's. A group on a subnet
with something this scan does not list as a NIC (a gateway, another service), or with nothing
yet, also guards a path with no other group."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

SCALE_SET = re.compile(
    r"/subscriptions/[^/]+/resourcegroups/([^/]+)/providers/microsoft\.compute/virtualmachinescalesets/([^/]+)/"
)


@dataclass(frozen=True)
class Path:
    """One IP configuration of a NIC: the groups it passes and the public addresses reaching it."""

    nic_group: str | None
    subnet_group: str | None
    addresses: tuple[str, ...]


@dataclass
class Topology:
    paths: list[Path] = field(default_factory=list)
    # groups of subnets that hold something other than the NICs read, or nothing yet
    unpaired: set[str] = field(default_factory=set)

    def partners(self, group: str) -> list[str | None]:
        """The other group on each path through `group` (lower-case ids); None: no other group."""
        group = group.lower()
        out: list[str | None] = [p.subnet_group for p in self.paths if p.nic_group == group]
        out += [p.nic_group for p in self.paths if p.subnet_group == group]
        if group in self.unpaired or not out:
            out.append(None)
        return out

    def addresses(self, group: str) -> list[str]:
        group = group.lower()
        found = {a for p in self.paths if group in (p.nic_group, p.subnet_group) for a in p.addresses}
        return sorted(found)


def _id(reference: Any) -> str | None:
    return reference.id.lower() if reference is not None and reference.id else None


@dataclass(frozen=True)
class Listed:
    """What the subscription-wide listings give, as Resource Graph recorded it."""

    public_ips: list[Any]
    networks: list[Any]
    nics: list[Any]
    balancers: list[Any]


def read_topology(client: Any, listed: Listed | None = None) -> Topology:
    """Read with the subscription's network client: public IPs, virtual networks, NICs (and
    those of the scale sets the subnets name), load balancers; with `listed`, all but the
    scale sets' come from it."""
    if listed is None:
        listed = Listed(
            list(client.public_ip_addresses.list_all()),
            list(client.virtual_networks.list_all()),
            list(client.network_interfaces.list_all()),
            list(client.load_balancers.list_all()),
        )
    ips = {ip.id.lower(): ip.ip_address for ip in listed.public_ips if ip.ip_address}
    subnet_groups: dict[str, str | None] = {}
    subnet_members: dict[str, set[str]] = {}
    for network in listed.networks:
        for subnet in network.subnets or []:
            subnet_groups[subnet.id.lower()] = _id(subnet.network_security_group)
            subnet_members[subnet.id.lower()] = {c.id.lower() for c in subnet.ip_configurations or [] if c.id}
    nics = list(listed.nics)
    for resource_group, scale_set in _scale_sets(m for members in subnet_members.values() for m in members):
        nics += client.network_interfaces.list_virtual_machine_scale_set_network_interfaces(
            resource_group, scale_set
        )
        for ip in client.public_ip_addresses.list_virtual_machine_scale_set_public_ip_addresses(
            resource_group, scale_set
        ):
            if ip.ip_address:
                ips[ip.id.lower()] = ip.ip_address
    behind = _load_balanced(listed.balancers, ips)
    topology, known = Topology(), set()
    for nic in nics:
        for configuration in nic.ip_configurations or []:
            key = configuration.id.lower()
            known.add(key)
            own = ips.get(_id(configuration.public_ip_address) or "")
            subnet = _id(configuration.subnet)
            topology.paths.append(
                Path(
                    _id(nic.network_security_group),
                    subnet_groups.get(subnet) if subnet else None,
                    tuple(a for a in [own, *behind.get(key, [])] if a),
                )
            )
    for subnet, group in subnet_groups.items():
        if group and (not subnet_members[subnet] or subnet_members[subnet] - known):
            topology.unpaired.add(group)
    return topology


def _scale_sets(configurations: Iterable[str]) -> set[tuple[str, str]]:
    """(resource group, name) of the scale sets whose NICs sit in the subnets."""
    return {(m[1], m[2]) for c in configurations if (m := SCALE_SET.match(c))}


def _load_balanced(balancers: Iterable[Any], ips: dict[str, str]) -> dict[str, list[str]]:
    """IP configuration id -> the public frontend addresses of the load balancers that send
    traffic to it, through a balancing rule's backend pool or an inbound NAT rule."""
    out: dict[str, list[str]] = {}
    for balancer in balancers:
        fronts = {
            f.id.lower(): ips[_id(f.public_ip_address) or ""]
            for f in balancer.frontend_ip_configurations or []
            if (_id(f.public_ip_address) or "") in ips
        }
        pools = {p.id.lower(): p for p in balancer.backend_address_pools or []}
        for rule in balancer.load_balancing_rules or []:
            address = fronts.get(_id(rule.frontend_ip_configuration) or "")
            if not address:
                continue
            pool_ids = [_id(rule.backend_address_pool), *(_id(p) for p in rule.backend_address_pools or [])]
            for pool_id in {p for p in pool_ids if p}:
                pool = pools.get(pool_id)
                for member in (pool.backend_ip_configurations or []) if pool else []:
                    out.setdefault(member.id.lower(), []).append(address)
        for nat in balancer.inbound_nat_rules or []:
            address = fronts.get(_id(nat.frontend_ip_configuration) or "")
            member = _id(nat.backend_ip_configuration)
            if address and member:
                out.setdefault(member, []).append(address)
    return out
