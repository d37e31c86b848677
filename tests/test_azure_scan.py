"""scan azure through the real SDK clients: Resource Manager (azure-mgmt-storage, -network,
-healthcareapis, subscriptions) against the local ArmFake over real HTTP, blob data
(azure-storage-blob) against Azurite. The fake refuses and records any request that is not a
GET, so a listKeys or a SAS request fails the test.

Each Terraform fixture for Azure has a live twin in scenarios/azure/ judged to the statuses the
fixture's expected.json gives."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import azure_world
import pytest
from arm_fake import ArmFake, FakeCredential
from azurite import azurite_blob, require_azurite
from click.testing import CliRunner
from judged import statuses_by_name

from cloudscan.cli import cli
from cloudscan.providers.sampling import Sampling
from cloudscan.scan import scan_azure

ROOT = Path(__file__).parent.parent
SCENARIOS = sorted((Path(__file__).parent / "scenarios" / "azure").glob("*.json"))
NO_SAMPLE = Sampling(size=0)


@pytest.fixture
def fake():
    with ArmFake() as server:
        yield server
    assert server.violations == [], "the scan sent something other than a read to Resource Manager"


def fixture_expectations(scenario: dict) -> tuple[dict[str, dict[str, str]], list[str]]:
    """The Terraform fixture's statuses under the live names (a rule keeps its `#ingress/` key)."""
    if "expect" in scenario:
        return scenario["expect"], scenario.get("absent", [])
    fixture = json.loads((ROOT / "terraform-fixtures" / scenario["fixture"] / "expected.json").read_text())

    def live(address: str) -> str | None:
        base, _, rule = address.partition("#ingress/")
        name = scenario["twins"].get(base)
        return None if name is None else name + (f" {rule}" if rule else "")

    expected = {name: statuses for a, statuses in fixture["resources"].items() if (name := live(a))}
    absent = [name for a in fixture.get("absent", []) if (name := live(a))]
    return expected, absent


def run(world: azure_world.World, builtin_policies, **kwargs):
    kwargs.setdefault("sampling", NO_SAMPLE)
    return scan_azure(
        world.clients(kwargs.pop("connection", None)),
        builtin_policies,
        subscriptions=(world.subscription,),
        **kwargs,
    )


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(path, fake, builtin_policies):
    scenario = json.loads(path.read_text())
    with azure_world.built(fake, scenario["spec"]) as world:  # with Azurite if the spec has blobs
        fake.page_limit = 1  # every list the adapter reads comes a page at a time

        result = run(world, builtin_policies)

    assert result.errors == []
    found = statuses_by_name(result)
    expected, absent = fixture_expectations(scenario)
    assert expected, "a scenario must expect something"
    for resource, policies in expected.items():
        assert resource in found, f"{resource} was not scanned; scanned: {sorted(found)}"
        assert {p: found[resource].get(p) for p in policies} == policies, resource
    for name in absent:
        assert name not in found, name


def test_every_azure_policy_has_a_failing_and_a_passing_live_case(builtin_policies):
    kinds = {"storage.account", "storage.bucket", "network.ingress", "dicom.store"}
    by_content = {"storage-no-public-identifiable-imaging", "storage-no-public-deidentified-imaging"}
    azure = {
        p.id
        for p in builtin_policies
        if (p.providers is None or "azure" in p.providers) and p.kind in kinds and p.id not in by_content
    }
    seen: dict[str, set[str]] = {p: set() for p in azure}
    for path in SCENARIOS:
        for expected in fixture_expectations(json.loads(path.read_text()))[0].values():
            for policy, status in expected.items():
                seen.setdefault(policy, set()).add(status)
    # Azure has no setting that fails these: Storage encrypts everything; a DICOM service takes
    # Entra ID tokens only, so no grant of its own is anonymous (its storage's can be, and fails
    # dicom-store-no-public-access); containers have no resource policy.
    for policy in (
        "storage-default-encryption",
        "dicom-store-no-all-authenticated-users",
        "storage-no-public-write",
        "storage-no-all-authenticated-users",
        "storage-no-untrusted-cross-account",
    ):
        assert seen.pop(policy, set()) <= {"PASS"}, policy
    missing = {p: sorted({"FAIL", "PASS"} - s) for p, s in seen.items() if not {"FAIL", "PASS"} <= s}
    assert not missing, f"policies without a failing or passing live Azure case: {missing}"


def test_a_container_reported_public_answers_anonymously_and_a_private_one_does_not(fake, builtin_policies):
    """Azurite enforces anonymous access: what the scan says is what the data plane does."""
    require_azurite()
    from azure.storage.blob import BlobServiceClient

    with azurite_blob() as azurite:
        blobs = BlobServiceClient.from_connection_string(azurite.connection_string, retry_total=0)
        study = b"\0" * 128 + b"DICM" + b"\2\0\1\0UL\4\0\0\0\0\0" * 4
        for container, access in (("open-studies", "blob"), ("closed-studies", None)):
            blobs.create_container(container, public_access=access)
            blobs.get_blob_client(container, "1.2.840.1/1.dcm").upload_blob(study)
        world = azure_world.World(fake)
        world.build(
            {
                "accounts": {
                    azurite.account_name: {
                        "blob_endpoint": azurite.blob_url,
                        "containers": {
                            "open-studies": {"access": "Blob"},
                            "closed-studies": {"access": "None"},
                        },
                    }
                }
            }
        )

        result = run(world, builtin_policies, connection=azurite.connection_string, sampling=Sampling())

        found = statuses_by_name(result)
        docs = {r["name"]: r for r in result.resources}
        for container, public in (("open-studies", True), ("closed-studies", False)):
            name = f"{azurite.account_name}/{container}"
            assert docs[name]["exposure"]["public_read"] is public
            assert docs[name]["objects"]["items"][0]["dicom"] is True  # read through the data plane
            status = found[name]["storage-no-public-identifiable-imaging"]
            assert status == ("FAIL" if public else "PASS")
            anonymous = f"{azurite.blob_url}/{container}/1.2.840.1/1.dcm"
            if public:
                with urllib.request.urlopen(anonymous, timeout=10) as answer:
                    assert answer.read()[128:132] == b"DICM"
            else:
                with pytest.raises(urllib.error.HTTPError) as refused:
                    urllib.request.urlopen(anonymous, timeout=10)
                assert refused.value.code in (403, 404)


def test_an_account_that_allows_public_containers_fails_with_no_container(fake, builtin_policies):
    world = azure_world.World(fake)
    world.build({"accounts": {"lonely": {}, "locked": {"allow_public": False}}})

    found = statuses_by_name(run(world, builtin_policies))

    assert found["lonely"]["azure-storage-account-no-public-access"] == "FAIL"
    assert found["locked"]["azure-storage-account-no-public-access"] == "PASS"


def test_a_failing_subscription_is_an_error_and_the_others_are_still_scanned(fake, builtin_policies):
    world = azure_world.World(fake)
    world.build(
        {"nsgs": {"pacs": {"rules": [{"name": "dicom", "priority": 100, "source": "*", "port": "104"}]}}}
    )
    other = "00000000-0000-0000-0000-0000000000b2"
    fake.put(f"/subscriptions/{other}")
    fake.fail(f"/subscriptions/{other}/", 403, "AuthorizationFailed", "no read access to the subscription")

    result = scan_azure(
        world.clients(), builtin_policies, subscriptions=(other, world.subscription), sampling=NO_SAMPLE
    )

    assert {e["resource"] for e in result.errors} == {f"subscriptions/{other}"}
    assert {e["code"] for e in result.errors} == {"AuthorizationFailed"}
    assert [r["name"] for r in result.resources] == ["pacs tcp/104-104/*"]


def test_a_container_whose_blob_service_cannot_be_read_is_unknown_not_passed(fake, builtin_policies):
    world = azure_world.World(fake)
    world.build({"accounts": {"pacs": {"allow_public": False, "containers": {"studies": {}}}}})
    account = azure_world.resource_id(
        world.subscription, "imaging", "Microsoft.Storage", "storageAccounts", "pacs"
    )
    fake.fail(f"{account}/blobServices/default/providers", 403, "AuthorizationFailed", "no diagnostics read")
    fake.fail(f"{account}/blobServices/default", 403, "AuthorizationFailed", "no service read", exact=True)

    found = statuses_by_name(run(world, builtin_policies))

    assert found["pacs/studies"]["storage-access-logging"] == "UNKNOWN"
    assert found["pacs/studies"]["storage-versioning-enabled"] == "UNKNOWN"
    assert found["pacs/studies"]["storage-object-lock-enabled"] == "UNKNOWN"
    assert found["pacs/studies"]["storage-no-public-read"] == "PASS"  # read from the listing


def test_every_enabled_subscription_when_none_is_named(fake, builtin_policies):
    world = azure_world.World(fake)
    world.build({"accounts": {"first": {}}})
    disabled = "00000000-0000-0000-0000-0000000000d0"
    fake.put(f"/subscriptions/{disabled}", {"subscriptionId": disabled, "state": "Disabled"})

    result = scan_azure(world.clients(), builtin_policies, sampling=NO_SAMPLE)

    assert [r["account"] for r in result.resources] == [world.subscription]


def test_nsg_rules_carry_the_public_addresses_of_the_nics_that_use_them(fake, builtin_policies):
    world = azure_world.World(fake)
    rule = {"name": "dicom", "priority": 100, "source": "Internet", "port": "104"}
    world.build({"nsgs": {"pacs": {"rules": [rule], "public_ips": ["20.50.1.2"]}, "idle": {"rules": [rule]}}})

    subnet = {"rules": [rule], "subnet_public_ips": ["20.50.9.9"]}
    world.build({"nsgs": {"subnet-group": subnet}})

    docs = {r["group"]["name"]: r for r in run(world, builtin_policies).resources}

    assert docs["pacs"]["attached"] is True and docs["pacs"]["addresses"] == ["20.50.1.2"]
    assert docs["idle"]["attached"] is False and docs["idle"]["addresses"] == []
    # A NIC with no group of its own is reached through its subnet's group.
    assert docs["subnet-group"]["attached"] is True and docs["subnet-group"]["addresses"] == ["20.50.9.9"]


def test_cli_scans_a_subscription_and_fails_on_findings(fake, monkeypatch, tmp_path):
    world = azure_world.World(fake)
    world.build({"accounts": {"pacsexports": {"containers": {"studies": {"access": "Container"}}}}})
    monkeypatch.setattr(
        "cloudscan.providers.azure.clients.load_credential", lambda tenant=None: FakeCredential()
    )
    report = tmp_path / "report.json"
    args = [
        "scan",
        "azure",
        "--subscription",
        world.subscription,
        "--arm-endpoint",
        fake.url,
        "--sample",
        "0",
    ]

    outcome = CliRunner().invoke(cli, [*args, "--format", "json", "--output", str(report)])

    assert outcome.exit_code == 1, outcome.output
    findings = json.loads(report.read_text())["findings"]
    failed = {(f["resource"]["name"], f["policy_id"]) for f in findings if f["status"] == "FAIL"}
    assert ("pacsexports/studies", "storage-no-public-read") in failed
    assert ("pacsexports", "azure-storage-account-no-public-access") in failed


def test_another_tenants_subscription_is_its_error_not_the_end_of_the_scan(fake, builtin_policies):
    world = azure_world.World(fake)
    world.build({"accounts": {"ours": {"allow_public": False}}})
    foreign = "00000000-0000-0000-0000-0000000000f1"
    fake.put(f"/subscriptions/{foreign}")
    fake.fail(
        f"/subscriptions/{foreign}/", 401, "InvalidAuthenticationTokenTenant", "token from another tenant"
    )

    result = scan_azure(
        world.clients(), builtin_policies, subscriptions=(world.subscription, foreign), sampling=NO_SAMPLE
    )

    assert {e["code"] for e in result.errors} == {"InvalidAuthenticationTokenTenant"}
    assert [r["name"] for r in result.resources] == ["ours"]


def test_an_unregistered_provider_is_not_registered_for_you(fake, builtin_policies):
    """The SDK answers 409 MissingSubscriptionRegistration by POSTing .../register, a write: the
    read-only guard stops it before it leaves, and the provider simply holds nothing."""
    world = azure_world.World(fake)
    world.build({"accounts": {"ours": {"allow_public": False}}})
    prefix = f"/subscriptions/{world.subscription}/providers/Microsoft.HealthcareApis"
    message = "The subscription is not registered to use namespace 'Microsoft.HealthcareApis'."
    fake.fail(prefix, 409, "MissingSubscriptionRegistration", message)

    result = run(world, builtin_policies)

    assert result.errors == []
    assert [r["name"] for r in result.resources] == ["ours"]
    assert not any(method != "GET" for method, _, _ in fake.requests)  # nothing but reads left


def test_an_account_behind_a_network_perimeter_is_unknown_not_closed(fake, builtin_policies):
    world = azure_world.World(fake)
    spec = {"public_network": "SecuredByPerimeter", "containers": {"studies": {"access": "Container"}}}
    world.build({"accounts": {"perimeter": spec}})

    found = statuses_by_name(run(world, builtin_policies))

    assert found["perimeter"]["azure-storage-account-network-restricted"] == "UNKNOWN"
    assert found["perimeter/studies"]["storage-no-public-read"] == "UNKNOWN"


def test_resource_manager_out_of_reach_stops_the_scan_with_exit_2(monkeypatch):
    monkeypatch.setattr(
        "cloudscan.providers.azure.clients.load_credential", lambda tenant=None: FakeCredential()
    )
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens on loopback

    outcome = CliRunner().invoke(cli, ["scan", "azure", "--subscription", "s", "--arm-endpoint", closed])

    assert outcome.exit_code == 2, outcome.output
    assert "cannot reach Azure Resource Manager" in outcome.output


def test_a_dicom_service_says_its_key_and_the_storage_that_holds_its_studies(fake, builtin_policies):
    world = azure_world.World(fake)
    key = "https://pacs-kv.vault.azure.net/keys/dicom"
    world.build(
        {
            "accounts": {"pacsdata": {"containers": {"dicom": {"access": "Blob"}}}},
            "dicom": {"imaging/ws": {"own-storage": {"storage": "pacsdata", "cmk": key}, "plain": {}}},
        }
    )

    stores = {r["name"]: r for r in run(world, builtin_policies).resources}

    account = azure_world.resource_id(
        world.subscription, "imaging", "Microsoft.Storage", "storageAccounts", "pacsdata"
    )
    container = f"{account}/blobServices/default/containers/dicom"
    assert stores["own-storage"]["copies"] == [{"type": "storage", "target": container, "account": account}]
    assert stores["own-storage"]["encryption"] == {"customer_managed_key": True, "kms_key": key}
    assert stores["plain"]["copies"] == [] and stores["plain"]["encryption"]["customer_managed_key"] is False
    # The container's anonymous read is the service's: the reason names it and says why.
    exposure = stores["own-storage"]["exposure"]
    assert exposure["public_read"] is True and exposure["public_write"] is False
    [reason] = [r for r in exposure["reasons"]["public_read"] if r["effective"]]
    assert reason["origin"] == f"copies: {container}"
    assert "readable by anyone" in reason["detail"] and "container dicom public access" in reason["detail"]
    assert stores["plain"]["exposure"]["public_read"] is False
    assert stores["plain"]["authentication"] == {
        "authority": "https://login.microsoftonline.com/tenant",
        "audiences": ["https://dicom.healthcareapis.azure.com"],
    }


def test_a_policy_on_dicom_stores_alone_still_has_their_storage_read(fake, builtin_policies):
    world = azure_world.World(fake)
    world.build(
        {
            "accounts": {"pacsdata": {"containers": {"dicom": {"access": "Container"}}}},
            "dicom": {"imaging/ws": {"own-storage": {"storage": "pacsdata", "public": "Disabled"}}},
        }
    )
    only = [p for p in builtin_policies if p.id == "dicom-store-no-public-access"]

    result = run(world, only)

    assert [(f["resource"]["name"], f["status"]) for f in result.findings] == [("own-storage", "FAIL")]


def test_a_dicom_service_on_storage_the_scan_did_not_read_is_unknown(fake, builtin_policies):
    """Its storage in a subscription outside the scan, or its containers left unread: the
    studies' exposure is not known, so neither is the service's."""
    world = azure_world.World(fake)
    world.build(
        {
            "accounts": {"pacsdata": {"containers": {"dicom": {}}}},
            "dicom": {
                "imaging/ws": {"ours": {"storage": "pacsdata"}, "theirs": {"storage": "/subscriptions/x/y"}}
            },
        }
    )
    account = azure_world.resource_id(
        world.subscription, "imaging", "Microsoft.Storage", "storageAccounts", "pacsdata"
    )
    fake.fail(f"{account}/blobServices/default/containers", 403, "AuthorizationFailed", "no container read")

    result = run(world, builtin_policies)

    found = statuses_by_name(result)
    assert found["ours"]["dicom-store-no-public-access"] == "UNKNOWN"
    assert found["theirs"]["dicom-store-no-public-access"] == "UNKNOWN"
    stores = {r["name"]: r for r in result.resources}
    [error] = [e for e in stores["theirs"]["_meta"]["errors"] if e["code"] == "StorageNotRead"][:1]
    assert "/subscriptions/x/y/blobServices/default/containers/dicom" in error["message"]


def test_what_else_reaches_an_account_and_a_dicom_service_is_read(fake, builtin_policies):
    world = azure_world.World(fake)
    subnet = azure_world.resource_id(world.subscription, "net", "Microsoft.Network", "virtualNetworks", "v")
    world.build(
        {
            "accounts": {"fenced": {"default_action": "Deny", "subnets": [f"{subnet}/subnets/pacs"]}},
            "dicom": {
                "imaging/ws": {"linked": {"public": "Disabled", "private_endpoints": ["Approved", "Pending"]}}
            },
        }
    )

    docs = {r["name"]: r for r in run(world, builtin_policies).resources}

    exceptions = docs["fenced"]["network_exceptions"]
    assert exceptions == {"virtual_network_rules": 1, "resource_access_rules": 0, "trusted_services": True}
    assert docs["linked"]["network"] == {"public_network_access": False, "private_endpoints": 1}
