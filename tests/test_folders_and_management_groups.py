"""Whole branches of an estate: every project below a Google Cloud folder (Resource Manager v3
through the real discovery client, against the local GoogleFake), and every subscription below
an Azure management group (Get Descendants through the real SubscriptionClient's pipeline,
against the local ArmFake, paged one item at a time)."""

from __future__ import annotations

import json

import azure_world
import gcp_world
import pytest
from arm_fake import ArmFake, FakeCredential
from click.testing import CliRunner
from google_fake import GoogleFake
from judged import statuses_by_name

from cloudscan.cli import cli
from cloudscan.providers.sampling import Sampling
from cloudscan.scan import scan_azure, scan_gcp

OPEN_DICOM = {
    "name": "dicom",
    "allowed": [{"IPProtocol": "tcp", "ports": ["104"]}],
    "sourceRanges": ["0.0.0.0/0"],
}
GROUP = "imaging-estate"
SUBSCRIPTIONS = {  # name -> id; the last one is outside the group
    "radiology": "00000000-0000-0000-0000-0000000000c1",
    "cardiology": "00000000-0000-0000-0000-0000000000c2",
    "elsewhere": "00000000-0000-0000-0000-0000000000c3",
}


@pytest.fixture
def google():
    with GoogleFake() as server:
        yield server
    assert server.violations == [], "the scan sent a write to the Google APIs"


@pytest.fixture
def arm():
    with ArmFake() as server:
        yield server
    assert server.violations == [], "the scan sent something other than a read to Resource Manager"


def test_a_folder_is_every_active_project_below_it_and_nothing_beside_it(google, builtin_policies):
    live = gcp_world.World(google, google.url, "unused")
    folders = {"10": "organizations/42", "11": "folders/10", "20": "organizations/42"}
    for folder, parent in folders.items():
        google.put(
            f"/v3/folders/{folder}", {"name": f"folders/{folder}", "parent": parent, "state": "ACTIVE"}
        )
    projects = {
        "in-folder": "folders/10",
        "nested": "folders/11",
        "sibling": "folders/20",
        "top": "organizations/42",
    }
    for project, parent in projects.items():
        live.build({"project": project, "firewalls": [OPEN_DICOM]})
        google.put(f"/v3/projects/{project}", {"projectId": project, "parent": parent, "state": "ACTIVE"})

    result = scan_gcp(live.clients(), builtin_policies, folder="10")

    assert result.errors == []
    assert {r["account"] for r in result.resources} == {"in-folder", "nested"}


def test_gcp_takes_one_of_project_organization_and_folder():
    outcome = CliRunner().invoke(cli, ["scan", "gcp", "--anonymous", "--organization", "1", "--folder", "2"])

    assert outcome.exit_code == 2
    assert "give --project, --organization or --folder, one of them" in outcome.output


def management_group(arm: ArmFake) -> None:
    """The group holds a child group, and two subscriptions: one directly, one through the child."""
    below = f"/providers/Microsoft.Management/managementGroups/{GROUP}/descendants"
    child = "/providers/Microsoft.Management/managementGroups/radiology-group"
    arm.put(f"{below}/radiology-group", {"id": child, "type": "Microsoft.Management/managementGroups"})
    for name in ("radiology", "cardiology"):
        sub = SUBSCRIPTIONS[name]
        parent = child if name == "radiology" else f"/providers/Microsoft.Management/managementGroups/{GROUP}"
        arm.put(
            f"{below}/{sub}",
            {
                "id": f"/subscriptions/{sub}",
                "type": "/subscriptions",
                "name": sub,
                "properties": {"displayName": name, "parent": {"id": parent}},
            },
        )


def estate(arm: ArmFake) -> dict[str, azure_world.World]:
    worlds = {}
    for name, sub in SUBSCRIPTIONS.items():
        worlds[name] = azure_world.World(arm, subscription=sub)
        worlds[name].build({"accounts": {f"{name}pacs": {"allow_public": True}}})
    management_group(arm)
    arm.page_limit = 1  # the descendants come one a page: every nextLink is followed
    return worlds


def test_a_management_group_is_every_subscription_below_it(arm, builtin_policies):
    worlds = estate(arm)

    result = scan_azure(
        worlds["radiology"].clients(), builtin_policies, management_group=GROUP, sampling=Sampling(size=0)
    )

    assert result.errors == []
    assert {r["account"] for r in result.resources} == {
        SUBSCRIPTIONS["radiology"],
        SUBSCRIPTIONS["cardiology"],
    }
    assert statuses_by_name(result)["cardiologypacs"]["azure-storage-account-no-public-access"] == "FAIL"
    pages = [path for method, path, _ in arm.requests if path.endswith("/descendants")]
    assert len(pages) == 3  # three descendants, one a page: each nextLink was followed


def test_a_management_group_the_credential_cannot_read_is_an_error_naming_it(arm, builtin_policies):
    worlds = estate(arm)
    arm.fail(f"/providers/Microsoft.Management/managementGroups/{GROUP}", 403, "AuthorizationFailed", "no")

    result = scan_azure(
        worlds["radiology"].clients(), builtin_policies, management_group=GROUP, sampling=Sampling(size=0)
    )

    assert result.resources == []
    assert [(e["call"], e["code"], e["resource"]) for e in result.errors] == [
        ("managementGroups.descendants", "AuthorizationFailed", f"managementGroups/{GROUP}")
    ]


def test_cli_scans_a_management_group(arm, monkeypatch, tmp_path):
    estate(arm)
    monkeypatch.setattr(
        "cloudscan.providers.azure.clients.load_credential", lambda tenant=None: FakeCredential()
    )
    report = tmp_path / "group.json"
    args = ["scan", "azure", "--management-group", GROUP, "--arm-endpoint", arm.url, "--sample", "0"]

    outcome = CliRunner().invoke(cli, [*args, "--format", "json", "--output", str(report)])

    assert outcome.exit_code == 1, outcome.output
    scanned = {r["account"] for r in json.loads(report.read_text())["resources"]}
    assert scanned == {SUBSCRIPTIONS["radiology"], SUBSCRIPTIONS["cardiology"]}


def test_azure_takes_one_of_subscription_all_subscriptions_and_management_group():
    outcome = CliRunner().invoke(cli, ["scan", "azure", "--subscription", "s", "--management-group", GROUP])

    assert outcome.exit_code == 2
    assert "give one of --subscription, --management-group" in outcome.output
