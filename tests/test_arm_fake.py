"""The ARM fake and Azurite, driven by the real Azure SDK clients over real HTTP.

If these pass, a live Azure adapter test that fails is about the adapter, not about the fakes: the
azure-mgmt-* clients build the URLs, send a bearer token, follow nextLink and parse ARM errors, and
azure-storage-blob talks to a real blob emulator that enforces anonymous access.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from arm_fake import ArmFake, FakeCredential, loopback_http_bearer, resource_id
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.rest import HttpRequest
from azure.mgmt.healthcareapis import HealthcareApisManagementClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.storage.models import AccountSasParameters, ServiceSasParameters
from azure.storage.blob import BlobClient, BlobServiceClient
from azurite import Azurite, AzuriteNotFound, azurite_blob, require_azurite

SUB = "00000000-0000-0000-0000-0000000000a1"
OTHER_SUB = "00000000-0000-0000-0000-0000000000b2"
STORAGE = "Microsoft.Storage"
NETWORK = "Microsoft.Network"
HEALTH = "Microsoft.HealthcareApis"
DICOM_LIKE = b"\0" * 128 + b"DICM" + b"\x02\x00\x00\x00UL\x04\x00" * 8


def account(insecure: bool) -> dict[str, Any]:
    """A storage account as ARM returns it; `insecure` flips every setting the scanner looks at."""
    rules = [{"value": "0.0.0.0/0", "action": "Allow"}] if insecure else []
    acls = {"bypass": "AzureServices", "defaultAction": "Allow" if insecure else "Deny", "ipRules": rules}
    props = {
        "allowBlobPublicAccess": insecure,
        "minimumTlsVersion": "TLS1_0" if insecure else "TLS1_2",
        "supportsHttpsTrafficOnly": not insecure,
        "allowSharedKeyAccess": insecure,
        "publicNetworkAccess": "Enabled" if insecure else "Disabled",
        "networkAcls": acls,
    }
    return {
        "location": "westeurope",
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS"},
        "properties": props,
    }


@pytest.fixture
def fake() -> Iterator[ArmFake]:
    with ArmFake() as server:
        yield server


def get_json(url: str, token: str | None = "Bearer t") -> tuple[int, dict[str, Any]]:
    """A raw GET, for what the SDKs never send (no api-version, no token)."""
    request = urllib.request.Request(url, headers={"Authorization": token} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_storage_accounts_list_follows_next_link_across_pages(fake: ArmFake) -> None:
    fake.put(resource_id(SUB, "pacs-rg", STORAGE, "storageAccounts", "pacsarchive"), account(insecure=True))
    fake.put(resource_id(SUB, "vault-rg", STORAGE, "storageAccounts", "vault"), account(insecure=False))
    fake.put(resource_id(OTHER_SUB, "rg", STORAGE, "storageAccounts", "elsewhere"), account(insecure=True))
    fake.put(resource_id(SUB, "pacs-rg", NETWORK, "networkSecurityGroups", "nsg"), {"location": "westeurope"})
    fake.page_limit = 1

    with StorageManagementClient(FakeCredential(), SUB, **fake.client_kwargs()) as client:
        accounts = {a.name: a for a in client.storage_accounts.list()}

    assert list(accounts) == ["pacsarchive", "vault"]
    open_, closed = accounts["pacsarchive"], accounts["vault"]
    assert (open_.allow_blob_public_access, closed.allow_blob_public_access) == (True, False)
    assert open_.public_network_access.value == "Enabled"
    assert closed.public_network_access.value == "Disabled"
    assert open_.network_rule_set.default_action.value == "Allow"
    assert [r.ip_address_or_range for r in open_.network_rule_set.ip_rules] == ["0.0.0.0/0"]
    assert closed.network_rule_set.default_action.value == "Deny"
    assert (open_.minimum_tls_version.value, closed.minimum_tls_version.value) == ("TLS1_0", "TLS1_2")
    assert (open_.enable_https_traffic_only, closed.allow_shared_key_access) == (False, False)
    assert open_.id.endswith(
        "/resourceGroups/pacs-rg/providers/Microsoft.Storage/storageAccounts/pacsarchive"
    )
    # Two pages: the second request is the fake's own absolute nextLink, token and api-version kept.
    path = f"/subscriptions/{SUB}/providers/Microsoft.Storage/storageAccounts"
    assert [(m, p, q.get("$skiptoken")) for m, p, q in fake.requests] == [
        ("GET", path, None),
        ("GET", path, "1"),
    ]
    assert all("api-version" in q for _, _, q in fake.requests)
    assert fake.authorizations == ["Bearer arm-fake-token"] * 2
    assert fake.violations == []


def test_resource_group_list_and_get_match_ids_case_insensitively(fake: ArmFake) -> None:
    fake.put(resource_id(SUB, "pacs-rg", STORAGE, "storageAccounts", "pacsarchive"), account(insecure=True))
    fake.put(resource_id(SUB, "vault-rg", STORAGE, "storageAccounts", "vault"), account(insecure=False))

    with StorageManagementClient(FakeCredential(), SUB, **fake.client_kwargs()) as client:
        in_group = [a.name for a in client.storage_accounts.list_by_resource_group("PACS-RG")]
        got = client.storage_accounts.get_properties("Pacs-Rg", "PACSARCHIVE")
        with pytest.raises(ResourceNotFoundError) as missing:
            client.storage_accounts.get_properties("pacs-rg", "nosuchaccount")

    assert in_group == ["pacsarchive"]
    assert got.name == "pacsarchive" and got.allow_blob_public_access is True
    assert missing.value.status_code == 404 and missing.value.error.code == "ResourceNotFound"


def test_blob_containers_and_blob_service_properties(fake: ArmFake) -> None:
    acct = resource_id(SUB, "pacs-rg", STORAGE, "storageAccounts", "pacsarchive")
    fake.put(acct, account(insecure=True))
    containers = f"{acct}/blobServices/default/containers"
    fake.put(f"{containers}/studies", {"properties": {"publicAccess": "Blob", "hasLegalHold": False}})
    fake.put(f"{containers}/reports", {"properties": {"publicAccess": "None", "hasLegalHold": True}})
    other = resource_id(SUB, "pacs-rg", STORAGE, "storageAccounts", "other")
    fake.put(f"{other}/blobServices/default/containers/x", {"properties": {"publicAccess": "Container"}})
    cors = {"allowedOrigins": ["*"], "allowedMethods": ["GET"], "maxAgeInSeconds": 0}
    service = {
        "isVersioningEnabled": False,
        "deleteRetentionPolicy": {"enabled": False},
        "cors": {"corsRules": [{**cors, "exposedHeaders": ["*"], "allowedHeaders": ["*"]}]},
    }
    fake.put(f"{acct}/blobServices/default", {"properties": service})

    with StorageManagementClient(FakeCredential(), SUB, **fake.client_kwargs()) as client:
        listed = {c.name: c for c in client.blob_containers.list("pacs-rg", "pacsarchive")}
        props = client.blob_services.get_service_properties("pacs-rg", "pacsarchive")

    assert {name: c.public_access.value for name, c in listed.items()} == {
        "studies": "Blob",
        "reports": "None",
    }
    assert (listed["studies"].has_legal_hold, listed["reports"].has_legal_hold) == (False, True)
    assert listed["studies"].type == "Microsoft.Storage/storageAccounts/blobServices/containers"
    assert props.is_versioning_enabled is False and props.delete_retention_policy.enabled is False
    assert [rule.allowed_origins for rule in props.cors.cors_rules] == [["*"]]


def test_network_security_groups_interfaces_and_public_ips(fake: ArmFake) -> None:
    nsg = resource_id(SUB, "net-rg", NETWORK, "networkSecurityGroups", "pacs-nsg")
    any_port = {"protocol": "Tcp", "sourcePortRange": "*", "destinationAddressPrefix": "*"}
    dicom = {"priority": 100, "access": "Allow", "direction": "Inbound", **any_port}
    dicom |= {"sourceAddressPrefix": "*", "destinationPortRange": "104"}
    web = {"priority": 110, "access": "Deny", "direction": "Inbound", **any_port}
    web |= {"sourceAddressPrefixes": ["10.0.0.0/8", "Internet"], "destinationPortRanges": ["443", "8042"]}
    rules = [
        {"id": f"{nsg}/securityRules/dicom", "name": "dicom", "properties": dicom},
        {"id": f"{nsg}/securityRules/web", "name": "web", "properties": web},
    ]
    fake.put(nsg, {"location": "westeurope", "properties": {"securityRules": rules}})
    nic = resource_id(SUB, "net-rg", NETWORK, "networkInterfaces", "pacs-nic")
    pip = resource_id(SUB, "net-rg", NETWORK, "publicIPAddresses", "pacs-ip")
    ip_config = {"privateIPAddress": "10.0.0.4", "publicIPAddress": {"id": pip}}
    nic_props = {
        "ipConfigurations": [
            {"id": f"{nic}/ipConfigurations/ipconfig1", "name": "ipconfig1", "properties": ip_config}
        ],
        "networkSecurityGroup": {"id": nsg},
    }
    fake.put(nic, {"location": "westeurope", "properties": nic_props})
    pip_props = {
        "ipAddress": "20.50.1.2",
        "publicIPAllocationMethod": "Static",
        "ipConfiguration": {"id": f"{nic}/ipConfigurations/ipconfig1"},
    }
    fake.put(pip, {"location": "westeurope", "sku": {"name": "Standard"}, "properties": pip_props})

    with NetworkManagementClient(FakeCredential(), SUB, **fake.client_kwargs()) as client:
        groups = list(client.network_security_groups.list_all())
        nics = list(client.network_interfaces.list_all())
        ips = list(client.public_ip_addresses.list_all())

    assert [g.name for g in groups] == ["pacs-nsg"]
    seen = [
        (
            r.name,
            r.priority,
            r.access.value,
            r.direction.value,
            r.protocol.value,
            r.source_address_prefix,
            r.source_address_prefixes,
            r.destination_port_range,
            r.destination_port_ranges,
        )
        for r in groups[0].security_rules
    ]
    assert seen == [
        ("dicom", 100, "Allow", "Inbound", "Tcp", "*", None, "104", None),
        ("web", 110, "Deny", "Inbound", "Tcp", None, ["10.0.0.0/8", "Internet"], None, ["443", "8042"]),
    ]
    assert [n.name for n in nics] == ["pacs-nic"]
    assert nics[0].network_security_group.id == nsg
    assert nics[0].ip_configurations[0].public_ip_address.id == pip
    assert nics[0].ip_configurations[0].private_ip_address == "10.0.0.4"
    assert [(p.name, p.ip_address, p.public_ip_allocation_method.value) for p in ips] == [
        ("pacs-ip", "20.50.1.2", "Static")
    ]
    assert ips[0].ip_configuration.id.endswith("/networkInterfaces/pacs-nic/ipConfigurations/ipconfig1")


def test_health_data_services_workspaces_and_dicom_services(fake: ArmFake) -> None:
    ws = resource_id(SUB, "hc-rg", HEALTH, "workspaces", "imaging")
    fake.put(ws, {"location": "westeurope", "properties": {"publicNetworkAccess": "Enabled"}})
    dicom = {
        "publicNetworkAccess": "Enabled",
        "serviceUrl": "https://imaging-pacs.dicom.azurehealthcareapis.com",
        "authenticationConfiguration": {
            "authority": "https://login.microsoftonline.com/tenant",
            "audiences": ["https://dicom.healthcareapis.azure.com"],
        },
        "corsConfiguration": {
            "origins": ["*"],
            "headers": ["*"],
            "methods": ["GET"],
            "allowCredentials": True,
        },
    }
    fake.put(
        f"{ws}/dicomservices/pacs", {"name": "imaging/pacs", "location": "westeurope", "properties": dicom}
    )
    fake.put(f"{ws}/fhirservices/fhir", {"location": "westeurope", "kind": "fhir-R4"})

    with HealthcareApisManagementClient(FakeCredential(), SUB, **fake.client_kwargs()) as client:
        workspaces = list(client.workspaces.list_by_subscription())
        services = list(client.dicom_services.list_by_workspace("hc-rg", "imaging"))

    assert [(w.name, w.properties.public_network_access) for w in workspaces] == [("imaging", "Enabled")]
    assert [s.name for s in services] == ["imaging/pacs"]
    pacs = services[0]
    assert pacs.public_network_access == "Enabled"
    assert pacs.cors_configuration.origins == ["*"] and pacs.cors_configuration.allow_credentials is True
    assert pacs.authentication_configuration.audiences == ["https://dicom.healthcareapis.azure.com"]
    assert pacs.service_url == "https://imaging-pacs.dicom.azurehealthcareapis.com"


def test_subscription_list(fake: ArmFake) -> None:
    # SubscriptionClient left azure-mgmt-resource in 26.0: it is in azure-mgmt-resource-subscriptions,
    # a dependency of cloudscan.
    from azure.mgmt.resource import subscriptions

    fake.put(f"/subscriptions/{SUB}", {"displayName": "imaging-prod"})
    fake.put(f"/subscriptions/{OTHER_SUB}", {"displayName": "imaging-dev", "state": "Disabled"})
    fake.put(resource_id(SUB, "pacs-rg", STORAGE, "storageAccounts", "pacsarchive"), account(insecure=True))

    with subscriptions.SubscriptionClient(FakeCredential(), **fake.client_kwargs()) as client:
        found = [(s.subscription_id, s.display_name, s.state.value) for s in client.subscriptions.list()]

    assert found == [(SUB, "imaging-prod", "Enabled"), (OTHER_SUB, "imaging-dev", "Disabled")]
    assert fake.requests[-1][:2] == ("GET", "/subscriptions")


def test_injected_arm_error_surfaces_as_http_response_error(fake: ArmFake) -> None:
    fake.put(resource_id(SUB, "pacs-rg", STORAGE, "storageAccounts", "pacsarchive"), account(insecure=True))
    fake.fail(f"/subscriptions/{SUB}", 500, "InternalServerError", "an older, broader rule")
    message = "The client 'scanner' does not have authorization to perform action 'read'."
    fake.fail(f"/subscriptions/{SUB}/providers/Microsoft.Storage", 403, "AuthorizationFailed", message)

    with StorageManagementClient(FakeCredential(), SUB, **fake.client_kwargs()) as client:
        with pytest.raises(HttpResponseError) as denied:
            list(client.storage_accounts.list())
        with pytest.raises(HttpResponseError) as broken:
            list(client.storage_accounts.list_by_resource_group("pacs-rg"))

    assert denied.value.status_code == 403
    assert denied.value.error.code == "AuthorizationFailed" and denied.value.error.message == message
    assert broken.value.status_code == 500 and broken.value.error.code == "InternalServerError"


def test_secret_handing_posts_are_refused_and_recorded(fake: ArmFake) -> None:
    fake.put(resource_id(SUB, "pacs-rg", STORAGE, "storageAccounts", "pacsarchive"), account(insecure=True))
    expiry = datetime(2030, 1, 1, tzinfo=UTC)
    account_sas = AccountSasParameters(
        services="b", resource_types="sco", permissions="r", shared_access_expiry_time=expiry
    )
    service_sas = ServiceSasParameters(canonicalized_resource="/blob/pacsarchive/studies", permissions="r")

    with StorageManagementClient(FakeCredential(), SUB, **fake.client_kwargs()) as client:
        for call in (
            lambda: client.storage_accounts.list_keys("pacs-rg", "pacsarchive"),
            lambda: client.storage_accounts.list_account_sas("pacs-rg", "pacsarchive", account_sas),
            lambda: client.storage_accounts.list_service_sas("pacs-rg", "pacsarchive", service_sas),
        ):
            with pytest.raises(HttpResponseError) as refused:
                call()
            assert refused.value.status_code == 405 and refused.value.error.code == "MethodNotAllowed"

    assert [(m, p.rsplit("/", 1)[1]) for m, p, _ in fake.violations] == [
        ("POST", "listKeys"),
        ("POST", "listAccountSas"),
        ("POST", "listServiceSas"),
    ]


def test_raw_arm_rules_api_version_auth_and_unknown_routes(fake: ArmFake) -> None:
    acct = resource_id(SUB, "pacs-rg", STORAGE, "storageAccounts", "pacsarchive")
    fake.put(acct, account(insecure=True))
    base = fake.url

    assert get_json(f"{base}{acct}")[1]["error"]["code"] == "MissingApiVersionParameter"
    assert get_json(f"{base}{acct}?api-version=1999-01-01")[0] == 200  # any value: the fake is not versioned
    status, body = get_json(f"{base}{acct}?api-version=x", token=None)
    assert (status, body["error"]["code"]) == (401, "AuthenticationFailed")
    status, body = get_json(f"{base}{acct.upper()}?api-version=x")
    assert (status, body["name"]) == (200, "pacsarchive")
    groups = f"{base}/subscriptions/{SUB}/resourceGroups"
    status, body = get_json(f"{groups}/nosuch/providers/{STORAGE}/storageAccounts?api-version=x")
    assert (status, body["error"]["code"]) == (404, "ResourceNotFound")
    status, body = get_json(f"{groups}/pacs-rg/providers/{NETWORK}/networkSecurityGroups?api-version=x")
    assert (status, body) == (200, {"value": []})  # the group exists (it holds an account) but has no NSGs
    assert get_json(f"{base}/nothing/here?api-version=x")[0] == 404


def test_bearer_over_plain_http_needs_enforce_https_false(fake: ArmFake) -> None:
    fake.put(resource_id(SUB, "pacs-rg", STORAGE, "storageAccounts", "pacsarchive"), account(insecure=True))

    with StorageManagementClient(FakeCredential(), SUB, base_url=fake.url, retry_total=0) as client:
        with pytest.raises(ServiceRequestError, match="non-TLS"):
            list(client.storage_accounts.list())
        assert fake.requests == []  # refused before sending: the token never went out in clear text
        per_call = [a.name for a in client.storage_accounts.list(enforce_https=False)]

    assert per_call == ["pacsarchive"] and fake.authorizations == ["Bearer arm-fake-token"]
    policy = loopback_http_bearer()
    for url, allowed in (("http://127.0.0.1:1/x", True), ("http://example.com/x", False)):
        request = PipelineRequest(HttpRequest("GET", url), PipelineContext(None))
        policy.on_request(request)
        assert (request.context.get("enforce_https") is False) is allowed


@pytest.fixture(scope="module")
def azurite() -> Iterator[Azurite]:
    require_azurite()
    with azurite_blob() as emulator:
        service = BlobServiceClient.from_connection_string(emulator.connection_string, retry_total=0)
        open_ = service.create_container("public-studies", public_access="blob")
        closed = service.create_container("private-studies")
        for container in (open_, closed):
            container.upload_blob("ct/1.dcm", DICOM_LIKE, content_type="application/dicom")
        yield emulator


def test_azurite_anonymous_read_only_where_public(azurite: Azurite) -> None:
    with urllib.request.urlopen(f"{azurite.blob_url}/public-studies/ct/1.dcm", timeout=5) as response:
        assert response.read() == DICOM_LIKE
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{azurite.blob_url}/private-studies/ct/1.dcm", timeout=5)
    assert refused.value.code in (403, 404)

    anonymous = BlobClient(azurite.blob_url, "private-studies", "ct/1.dcm", retry_total=0)
    with pytest.raises(HttpResponseError) as denied:
        anonymous.get_blob_properties()
    assert denied.value.status_code in (403, 404)


def test_azurite_lists_container_access_and_serves_ranged_reads(azurite: Azurite) -> None:
    service = BlobServiceClient.from_connection_string(azurite.connection_string, retry_total=0)
    access = {c.name: c.public_access for c in service.list_containers()}
    header = service.get_blob_client("private-studies", "ct/1.dcm").download_blob(offset=128, length=4)
    anonymous = BlobClient(azurite.blob_url, "public-studies", "ct/1.dcm", retry_total=0)

    assert access == {"private-studies": None, "public-studies": "blob"}
    assert header.readall() == b"DICM"
    assert anonymous.download_blob(offset=128, length=4).readall() == b"DICM"
    assert azurite.connection_string.startswith("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;")


def test_missing_azurite_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.delenv("AZURITE_BLOB", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(AzuriteNotFound):
        require_azurite()
    with pytest.raises(AzuriteNotFound), azurite_blob():
        pass
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require_azurite()
