"""scan azure and the blob data plane: an account's containers are listed through its blob
endpoint where the identity may read it (Azurite) and through Resource Manager (the ArmFake)
where it may not, with one refused request per account, never one per container.

Azurite plays three identities: the account key (a connection string over http, which may do
anything), an identity without data access (over https, where it refuses every bearer token)
and one with Storage Blob Data Reader (over https with --oauth basic: it lists containers for a
token, as Azure does for that role)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import azure_world
import pytest
from arm_fake import ArmFake, FakeCredential
from azurite import azurite_blob, entra_like_token, require_azurite
from http_fronts import make_certificates
from jsonschema import Draft202012Validator
from judged import statuses_by_name

from cloudscan.model import load_schema, schema_registry
from cloudscan.providers.azure import containers
from cloudscan.providers.sampling import Sampling
from cloudscan.scan import scan_azure

ACCOUNT = "pacsdata"


@pytest.fixture
def fake():
    with ArmFake() as server:
        yield server
    assert server.violations == [], "the scan sent something other than a read to Resource Manager"


class DataPlane:
    """Every answer Azurite gives the scan, seen through azure-core's raw_response_hook, which
    the scan's clients take from their options (requests that never got an answer are not here)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.answers: list[tuple[str, str, int]] = []  # (account, operation, status)

    def __call__(self, response: Any) -> None:
        url = response.http_request.url
        if not url.startswith(self.base):
            return
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        account, _, container = parts.path.strip("/").partition("/")
        operation = "acl" if query.get("comp") == ["acl"] else "list" if not container else "other"
        self.answers.append((account, operation, response.http_response.status_code))

    def of(self, account: str, operation: str) -> list[int]:
        return [status for a, o, status in self.answers if a == account and o == operation]


def scan(world: azure_world.World, policies, **clients: Any):
    return scan_azure(
        world.clients(**clients), policies, subscriptions=(world.subscription,), sampling=Sampling(size=0)
    )


def containers_listed_by_resource_manager(fake: ArmFake, account: str) -> list[str]:
    return [
        p
        for _, p, _ in fake.requests
        if p.endswith(f"/storageAccounts/{account}/blobServices/default/containers")
    ]


def assert_valid(resources: list[dict]) -> None:
    schema = Draft202012Validator(load_schema("storage.bucket"), registry=schema_registry())
    for doc in resources:
        if doc["kind"] == "storage.bucket":
            assert not list(schema.iter_errors(doc)), doc["name"]


def test_containers_come_from_the_data_plane_and_resource_manager_is_not_asked(
    fake, builtin_policies, monkeypatch
):
    require_azurite()
    monkeypatch.setattr(containers, "PAGE", 2)  # three containers: two pages
    with azurite_blob(accounts=(ACCOUNT,)) as azurite:
        world = azure_world.World(fake, azurite=azurite)
        spec = {"data_plane": "azurite", "containers": {"studies": {}, "exports": {"access": "Blob"}}}
        world.build({"accounts": {ACCOUNT: spec}})
        # Made after Resource Manager was filled: only the data plane knows this one.
        world.in_azurite(ACCOUNT, "late-upload", {"access": "Container"})
        seen = DataPlane(azurite.url_of(""))

        result = scan(world, builtin_policies, raw_response_hook=seen)

    assert result.errors == []
    found = statuses_by_name(result)
    assert found[f"{ACCOUNT}/late-upload"]["storage-no-public-list"] == "FAIL"
    assert found[f"{ACCOUNT}/exports"]["storage-no-public-read"] == "FAIL"
    assert found[f"{ACCOUNT}/studies"]["storage-no-public-read"] == "PASS"
    assert containers_listed_by_resource_manager(fake, ACCOUNT) == []
    assert seen.of(ACCOUNT, "list") == [200, 200]  # both pages, followed to the end
    assert_valid(result.resources)


def test_a_container_is_described_alike_whichever_plane_listed_it(fake, builtin_policies):
    require_azurite()
    with azurite_blob(accounts=(ACCOUNT,)) as azurite:
        world = azure_world.World(fake, azurite=azurite)
        spec = {
            "data_plane": "azurite",
            "allow_public": True,
            "containers": {"open": {"access": "Container"}, "blobs": {"access": "Blob"}, "closed": {}},
        }
        world.build({"accounts": {ACCOUNT: spec}})

        by_data_plane = scan(world, builtin_policies)
        # Without the account key the scan's token cannot be sent to Azurite's http endpoint.
        by_management = scan(world, builtin_policies, blob_connection_string="")

    assert containers_listed_by_resource_manager(fake, ACCOUNT) != []  # the second scan only

    def described(result) -> dict[str, dict]:
        out = {}
        for doc in result.resources:
            if doc["kind"] == "storage.bucket":
                out[doc["name"]] = {k: v for k, v in doc.items() if k != "_meta"}
        return out

    assert described(by_data_plane) == described(by_management)
    assert len(described(by_data_plane)) == 3
    found = statuses_by_name(by_management)
    assert found[f"{ACCOUNT}/open"]["storage-no-public-list"] == "FAIL"


def test_a_refused_data_plane_lists_through_resource_manager_with_one_request_per_account(
    fake, builtin_policies, tmp_path
):
    require_azurite()
    certificates = make_certificates(tmp_path)
    with azurite_blob(accounts=(ACCOUNT,), certificates=certificates) as azurite:
        world = azure_world.World(fake, azurite=azurite)
        three = {"open": {"access": "Container"}, "studies": {}, "archive": {"immutability": True}}
        gone = "https://127.0.0.1:9/pacsgone"  # the discard port: nothing listens on loopback
        world.build(
            {
                "accounts": {
                    ACCOUNT: {"data_plane": "azurite", "containers": three},
                    "pacsgone": {"blob_endpoint": gone, "containers": three},
                }
            }
        )
        seen = DataPlane(azurite.url_of(""))

        # Over https the scan sends its token, which Azurite without --oauth refuses.
        result = scan(world, builtin_policies, raw_response_hook=seen)

    assert result.errors == []
    assert seen.of(ACCOUNT, "list") == [403]  # one refused listing for three containers
    assert seen.of(ACCOUNT, "acl") == []
    found = statuses_by_name(result)
    docs = {r["name"]: r for r in result.resources}
    for account in (ACCOUNT, "pacsgone"):
        assert len(containers_listed_by_resource_manager(fake, account)) == 1
        assert found[f"{account}/open"]["storage-no-public-list"] == "FAIL"  # judged as before
        assert found[f"{account}/archive"]["storage-object-lock-enabled"] == "PASS"
        assert all(docs[f"{account}/{container}"]["_meta"]["errors"] == [] for container in three)
    assert_valid(result.resources)


def test_storage_blob_data_reader_lists_containers_through_the_data_plane(fake, builtin_policies, tmp_path):
    require_azurite()
    certificates = make_certificates(tmp_path)
    with azurite_blob(accounts=(ACCOUNT,), certificates=certificates, oauth=True) as azurite:
        world = azure_world.World(fake, azurite=azurite)
        names = ("studies", "exports", "archive")
        world.build(
            {"accounts": {ACCOUNT: {"data_plane": "azurite", "containers": {name: {} for name in names}}}}
        )
        seen = DataPlane(azurite.url_of(""))

        result = scan(
            world, builtin_policies, credential=FakeCredential(entra_like_token()), raw_response_hook=seen
        )

    assert result.errors == []
    assert containers_listed_by_resource_manager(fake, ACCOUNT) == []
    assert seen.of(ACCOUNT, "list") == [200]
    assert sorted(r["name"] for r in result.resources if r["kind"] == "storage.bucket") == sorted(
        f"{ACCOUNT}/{name}" for name in names
    )
