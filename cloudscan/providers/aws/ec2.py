"""EC2 security-group ingress rules as `network.ingress` documents, one per source range."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudscan.model import Document, ingress_rule, new_resource, scan_error
from cloudscan.providers.aws.calls import error_of, persist
from cloudscan.providers.aws.clients import AwsClients

ALL_PORTS = (0, 65535)


def enabled_regions(clients: AwsClients, errors: list[dict[str, Any]]) -> list[str]:
    try:
        answer = persist(clients.client("ec2").describe_regions)
        return sorted(r["RegionName"] for r in answer.get("Regions", []))
    except Exception as exc:
        code, message = error_of(exc)
        only = f"{message}; scanning only {clients.default_region}"
        errors.append(scan_error("ec2:DescribeRegions", code, only))
        return [clients.default_region]


def ingress_rules(
    clients: AwsClients, region: str, account: str | None, errors: list[dict[str, Any]]
) -> Iterator[Document]:
    ec2 = clients.client("ec2", region)
    try:
        groups = persist(_listed, ec2, "describe_security_groups", "SecurityGroups")
    except Exception as exc:
        code, message = error_of(exc)
        errors.append(scan_error("ec2:DescribeSecurityGroups", code, message, f"region {region}"))
        return
    attached, attach_error = _attached_groups(ec2)
    prefix_lists = _PrefixLists(ec2)
    for group in groups:
        for permission in group.get("IpPermissions", []):
            for source, source_type, description in _sources(permission, prefix_lists):
                doc = _rule_document(
                    group,
                    permission,
                    source,
                    source_type,
                    description,
                    region=region,
                    account=account or group.get("OwnerId"),
                )
                if source_type == "prefix_list":  # its entries could not be read
                    code, message = prefix_lists.errors[source]
                    doc["_meta"]["unknown"].append("/rule/source")
                    doc["_meta"]["errors"].append(
                        {
                            "call": "ec2:GetManagedPrefixListEntries",
                            "code": code,
                            "message": message,
                            "pointers": ["/rule/source"],
                        }
                    )
                if attach_error:
                    code, message = attach_error
                    doc["_meta"]["unknown"].extend(["/attached", "/addresses"])
                    doc["_meta"]["errors"].append(
                        {
                            "call": "ec2:DescribeNetworkInterfaces",
                            "code": code,
                            "message": message,
                            "pointers": ["/attached", "/addresses"],
                        }
                    )
                else:
                    doc["attached"] = group["GroupId"] in attached
                    doc["addresses"] = sorted(attached.get(group["GroupId"], ()))
                yield doc


def _attached_groups(ec2: Any) -> tuple[dict[str, set[str]], tuple[str, str] | None]:
    """Group id -> public IPv4 and IPv6 addresses of the network interfaces that use it (an empty
    set: attached, private only)."""
    groups: dict[str, set[str]] = {}
    try:
        for eni in persist(_listed, ec2, "describe_network_interfaces", "NetworkInterfaces"):
            public = [(eni.get("Association") or {}).get("PublicIp")]
            public += [a.get("Ipv6Address") for a in eni.get("Ipv6Addresses", [])]  # IPv6 is public
            for g in eni.get("Groups", []):
                groups.setdefault(g["GroupId"], set()).update(a for a in public if a)
        return groups, None
    except Exception as exc:
        return {}, error_of(exc)


def _listed(ec2: Any, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paginated EC2 listing."""
    return [item for page in ec2.get_paginator(operation).paginate(**params) for item in page.get(key, [])]


class _PrefixLists:
    """Entries of managed prefix lists, read once per list and region."""

    def __init__(self, ec2: Any) -> None:
        self._ec2 = ec2
        self._entries: dict[str, list[dict[str, Any]]] = {}
        self.errors: dict[str, tuple[str, str]] = {}

    def entries(self, list_id: str) -> list[dict[str, Any]] | None:
        if list_id not in self._entries and list_id not in self.errors:
            try:
                self._entries[list_id] = persist(
                    _listed, self._ec2, "get_managed_prefix_list_entries", "Entries", PrefixListId=list_id
                )
            except Exception as exc:
                self.errors[list_id] = error_of(exc)
        return self._entries.get(list_id)


def _sources(permission: dict[str, Any], prefix_lists: _PrefixLists) -> Iterator[tuple[str, str, str | None]]:
    for r in permission.get("IpRanges", []):
        yield r["CidrIp"], "cidr", r.get("Description")
    for r in permission.get("Ipv6Ranges", []):
        yield r["CidrIpv6"], "cidr", r.get("Description")
    for r in permission.get("PrefixListIds", []):
        entries = prefix_lists.entries(r["PrefixListId"])
        if entries is None:
            yield r["PrefixListId"], "prefix_list", r.get("Description")
        for entry in entries or []:
            note = f"from prefix list {r['PrefixListId']}" + (
                f": {entry['Description']}" if entry.get("Description") else ""
            )
            yield entry["Cidr"], "cidr", note
    for r in permission.get("UserIdGroupPairs", []):
        yield r.get("GroupId") or r.get("GroupName", ""), "security_group", r.get("Description")


def _rule_document(
    group: dict[str, Any],
    permission: dict[str, Any],
    source: str,
    source_type: str,
    description: str | None,
    *,
    region: str,
    account: str | None,
) -> Document:
    protocol = str(permission.get("IpProtocol", "-1"))
    protocol = {"-1": "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}.get(protocol, protocol)
    if protocol in ("tcp", "udp") and permission.get("FromPort") is not None:
        ports = (max(permission["FromPort"], 0), min(permission.get("ToPort", 65535), 65535))
    else:
        ports = ALL_PORTS  # "all traffic", or a protocol without ports
    gid = group["GroupId"]
    rule_key = f"{protocol}/{ports[0]}-{ports[1]}/{source}"
    doc = new_resource(
        "network.ingress",
        "aws",
        f"arn:aws:ec2:{region}:{account}:security-group/{gid}#ingress/{rule_key}",
        name=f"{group.get('GroupName', gid)} {rule_key}",
        account=account,
        region=region,
        labels={t["Key"]: t["Value"] for t in group.get("Tags", [])},
    )
    doc["group"] = {"id": gid, "name": group.get("GroupName"), "network": group.get("VpcId")}
    doc["rule"] = ingress_rule(protocol, ports, source, source_type, description)
    return doc
