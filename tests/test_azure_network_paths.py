"""A NIC's group and its subnet's group judged together, as Azure lets inbound traffic in only
when both allow it; and the public addresses that reach a group: the NICs' own, scale set
instances', load balancer frontends'. Through the real azure-mgmt-network client against the
local ArmFake (tests/azure_world.py builds the networks)."""

from __future__ import annotations

import azure_world
import pytest
from arm_fake import ArmFake
from judged import statuses_by_name

from cloudscan.providers.sampling import Sampling
from cloudscan.scan import scan_azure

DICOM = "network-no-internet-dicom-ports"


def allow(name: str, priority: int, port: str, source: str = "*", **extra: str) -> dict[str, object]:
    return {"name": name, "priority": priority, "source": source, "port": port, **extra}


@pytest.fixture
def fake():
    with ArmFake() as server:
        yield server
    assert server.violations == [], "the scan sent something other than a read to Resource Manager"


def scan(fake: ArmFake, spec: dict, policies):
    world = azure_world.World(fake)
    world.build(spec)
    fake.page_limit = 2
    return scan_azure(
        world.clients(), policies, subscriptions=(world.subscription,), sampling=Sampling(size=0)
    )


def rules_of(result) -> dict[str, list[str]]:
    """group name -> its ingress documents' keys (protocol/ports/source)."""
    out: dict[str, list[str]] = {}
    for doc in result.resources:
        if doc["kind"] == "network.ingress":
            out.setdefault(doc["group"]["name"], []).append(doc["name"].split(" ", 1)[1])
    return out


def test_a_nic_group_allow_the_subnet_group_keeps_out_is_not_reported(fake, builtin_policies):
    spec = {
        "nsgs": {
            "vm": {"rules": [allow("dicom", 100, "104", "Internet"), allow("https", 110, "443")]},
            "tier": {"rules": [allow("https", 100, "443"), allow("ssh", 110, "22")]},
        },
        "network": {
            "vnets": {"pacs": {"dmz": {"nsg": "tier"}}},
            "nics": {"pacs-vm": {"subnet": "pacs/dmz", "nsg": "vm", "public_ip": "20.50.1.2"}},
        },
    }

    result = scan(fake, spec, builtin_policies)

    assert result.errors == []
    # 104 is allowed by the NIC's group only: the subnet's group drops it first; 22 by the
    # subnet's only: the NIC's group drops it after.
    assert rules_of(result) == {"vm": ["tcp/443-443/*"], "tier": ["tcp/443-443/*"]}
    assert DICOM not in {p for s in statuses_by_name(result).values() for p, v in s.items() if v == "FAIL"}


def test_only_what_both_groups_allow_is_open(fake, builtin_policies):
    spec = {
        "nsgs": {
            "vm": {"rules": [allow("pacs", 100, "104-11112", "Internet")]},
            "tier": {"rules": [allow("dicom", 200, "104"), allow("dicom-tls", 210, "2762", "0.0.0.0/0")]},
        },
        "network": {
            "vnets": {"pacs": {"dmz": {"nsg": "tier"}}},
            "nics": {"pacs-vm": {"subnet": "pacs/dmz", "nsg": "vm"}},
        },
    }

    result = scan(fake, spec, builtin_policies)

    found = rules_of(result)
    assert sorted(found["vm"]) == ["tcp/104-104/Internet", "tcp/2762-2762/Internet"]
    assert sorted(found["tier"]) == ["tcp/104-104/*", "tcp/2762-2762/0.0.0.0/0"]
    assert all(s[DICOM] == "FAIL" for s in statuses_by_name(result).values())


def test_what_the_other_group_denies_first_or_lets_in_only_from_inside_stays_closed(fake, builtin_policies):
    spec = {
        "nsgs": {
            "vm": {
                "rules": [allow("dicom", 100, "104"), allow("web", 110, "443"), allow("wado", 120, "8042")]
            },
            "tier": {
                "rules": [
                    {**allow("no-dicom", 100, "104"), "access": "Deny"},
                    allow("all", 200, "*"),
                    allow("wado-inside", 90, "8042", "VirtualNetwork"),
                    {**allow("no-wado", 95, "8042", "Internet"), "access": "Deny"},
                ]
            },
        },
        "network": {
            "vnets": {"pacs": {"dmz": {"nsg": "tier"}}},
            "nics": {"pacs-vm": {"subnet": "pacs/dmz", "nsg": "vm"}},
        },
    }

    found = rules_of(scan(fake, spec, builtin_policies))

    # 104 is denied by the subnet's group before its allow; 8042 from the internet too (its
    # allow of 8042 is for the virtual network only). 443 passes both.
    assert found["vm"] == ["tcp/443-443/*"]


def test_a_subnet_group_also_guards_what_is_not_a_nic_and_an_empty_subnet(fake, builtin_policies):
    rule = allow("dicom", 100, "104")
    spec = {
        "nsgs": {
            "closed-vm": {"rules": []},
            "gateway-tier": {"rules": [rule]},
            "empty-tier": {"rules": [rule]},
            "vm-tier": {"rules": [rule]},
        },
        "network": {
            "vnets": {
                "pacs": {
                    "gateways": {"nsg": "gateway-tier", "others": 1},
                    "empty": {"nsg": "empty-tier"},
                    "vms": {"nsg": "vm-tier"},
                }
            },
            "nics": {
                "behind-gateway": {"subnet": "pacs/gateways", "nsg": "closed-vm"},
                "vm": {"subnet": "pacs/vms", "nsg": "closed-vm"},
            },
        },
    }

    found = rules_of(scan(fake, spec, builtin_policies))

    # The gateway's IP configuration and a NIC made tomorrow have no group of their own.
    assert found == {"gateway-tier": ["tcp/104-104/*"], "empty-tier": ["tcp/104-104/*"]}


def test_a_group_reaches_the_public_addresses_of_its_nics_scale_sets_and_load_balancers(
    fake, builtin_policies
):
    rule = allow("dicom", 100, "104")
    spec = {
        "nsgs": {"vm": {"rules": [rule]}, "viewers": {"rules": [rule]}, "tier": {"rules": [rule]}},
        "network": {
            "vnets": {"pacs": {"dmz": {"nsg": "tier"}}},
            "nics": {"pacs-vm": {"subnet": "pacs/dmz", "nsg": "vm", "public_ip": "20.50.1.2"}},
            "scale_sets": {
                "viewer": {"subnet": "pacs/dmz", "nsg": "viewers", "instances": ["20.50.3.1", None]}
            },
            "load_balancers": {
                "front": {"public_ip": "20.50.2.2", "backends": ["viewer/0", "viewer/1"]},
                "dimse": {"public_ip": "20.50.4.4", "nat": {"pacs-vm": 11112}},
            },
        },
    }

    result = scan(fake, spec, builtin_policies)

    assert result.errors == []
    addresses = {d["group"]["name"]: d["addresses"] for d in result.resources}
    assert addresses["vm"] == ["20.50.1.2", "20.50.4.4"]
    assert addresses["viewers"] == ["20.50.2.2", "20.50.3.1"]
    assert addresses["tier"] == ["20.50.1.2", "20.50.2.2", "20.50.3.1", "20.50.4.4"]
    listed = {path for method, path, _ in fake.requests}
    assert any(p.lower().endswith("/virtualmachinescalesets/viewer/networkinterfaces") for p in listed)


def test_networks_that_cannot_be_read_leave_each_group_judged_alone(fake, builtin_policies):
    spec = {
        "nsgs": {
            "vm": {"rules": [allow("dicom", 100, "104", "Internet")]},
            "tier": {"rules": [allow("https", 100, "443")]},
        },
        "network": {
            "vnets": {"pacs": {"dmz": {"nsg": "tier"}}},
            "nics": {"pacs-vm": {"subnet": "pacs/dmz", "nsg": "vm"}},
        },
    }
    world = azure_world.World(fake)
    fake.fail(
        f"/subscriptions/{world.subscription}/providers/Microsoft.Network/loadBalancers",
        403,
        "AuthorizationFailed",
        "no read of load balancers",
    )

    result = scan(fake, spec, builtin_policies)

    assert [(e["call"], e["code"]) for e in result.errors] == [("network.topology", "AuthorizationFailed")]
    assert rules_of(result) == {"vm": ["tcp/104-104/Internet"], "tier": ["tcp/443-443/*"]}
    assert statuses_by_name(result)["vm tcp/104-104/Internet"][DICOM] == "FAIL"
    assert all(d["addresses"] is None for d in result.resources)
