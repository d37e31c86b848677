"""scan azure and the blob data plane: an account's containers are listed through its blob
endpoint where the identity may read it (Azurite) and through Resource Manager (the ArmFake)
where it may not, with one refused request per account, never one per container; and the
containers' stored access policies, which only the data plane tells, are judged by
azure-container-sas-policies-bounded (scenarios/azure/sas-stored-policies.json holds the
statuses; this file holds how they are read).

Azurite plays three identities: the account key (a connection string over http, which may do
anything), an identity without data access (over https, where it refuses every bearer token)
and one with Storage Blob Data Reader (over https with --oauth basic: it lists containers for a
token but refuses Get Container ACL to one, as Azure does to that role)."""

from __future__ import annotations

from pathlib import Path
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
from cloudscan.scan import scan_azure, scan_terraform

ROOT = Path(__file__).parent.parent
POLICY = "azure-container-sas-policies-bounded"
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
        spec = {
            "data_plane": "azurite",
            "containers": {
                "studies": {"stored_access_policies": [{"id": "viewer", "permissions": "rl"}]},
                "exports": {
                    "access": "Blob",
                    "stored_access_policies": [
                        {"id": "partner", "permissions": "racwdl", "expires_in_days": 30}
                    ],
                },
            },
        }
        world.build({"accounts": {ACCOUNT: spec}})
        # Made after Resource Manager was filled: only the data plane knows this one.
        world.in_azurite(ACCOUNT, "late-upload", {"access": "Container"})
        seen = DataPlane(azurite.url_of(""))

        result = scan(world, builtin_policies, raw_response_hook=seen)

    assert result.errors == []
    found = statuses_by_name(result)
    assert found[f"{ACCOUNT}/late-upload"]["storage-no-public-list"] == "FAIL"
    assert containers_listed_by_resource_manager(fake, ACCOUNT) == []
    assert seen.of(ACCOUNT, "list") == [200, 200]  # both pages, followed to the end
    docs = {r["name"]: r for r in result.resources}
    assert docs[f"{ACCOUNT}/studies"]["shared_access"] == {
        "account_key_signing": True,
        "stored_access_policies": [
            {
                "id": "viewer",
                "permissions": ["read", "list"],
                "start": None,
                "expiry": None,
                "expires_in_days": None,
            }
        ],
    }
    (partner,) = docs[f"{ACCOUNT}/exports"]["shared_access"]["stored_access_policies"]
    assert partner["permissions"] == ["read", "add", "create", "write", "delete", "list"]
    assert partner["expires_in_days"] == 30 and partner["expiry"].endswith("Z")
    assert found[f"{ACCOUNT}/studies"][POLICY] == "FAIL"
    assert found[f"{ACCOUNT}/exports"][POLICY] == "PASS"
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
                doc = {k: v for k, v in doc.items() if k != "_meta"}
                doc["shared_access"] = {**doc["shared_access"], "stored_access_policies": None}
                out[doc["name"]] = doc
        return out

    assert described(by_data_plane) == described(by_management)
    assert len(described(by_data_plane)) == 3
    found = statuses_by_name(by_management)
    assert found[f"{ACCOUNT}/open"]["storage-no-public-list"] == "FAIL"
    assert found[f"{ACCOUNT}/closed"][POLICY] == "UNKNOWN"


def test_with_shared_key_off_an_unbounded_policy_passes_and_is_not_read(fake, builtin_policies):
    require_azurite()
    with azurite_blob(accounts=(ACCOUNT,)) as azurite:
        world = azure_world.World(fake, azurite=azurite)
        forever = {"stored_access_policies": [{"id": "viewer", "permissions": "rl"}]}
        world.build(
            {
                "accounts": {
                    ACCOUNT: {
                        "data_plane": "azurite",
                        "shared_key": False,
                        "containers": {"studies": forever},
                    }
                }
            }
        )
        seen = DataPlane(azurite.url_of(""))

        result = scan(world, builtin_policies, raw_response_hook=seen)

    assert statuses_by_name(result)[f"{ACCOUNT}/studies"][POLICY] == "PASS"
    (doc,) = [r for r in result.resources if r["name"] == f"{ACCOUNT}/studies"]
    assert doc["shared_access"] == {"account_key_signing": False, "stored_access_policies": None}
    assert "/shared_access/stored_access_policies" in doc["_meta"]["not_collected"]
    assert seen.of(ACCOUNT, "list") == [200] and seen.of(ACCOUNT, "acl") == []


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
    for account, code in ((ACCOUNT, "AuthorizationFailure"), ("pacsgone", "ServiceRequestError")):
        assert len(containers_listed_by_resource_manager(fake, account)) == 1
        assert found[f"{account}/open"]["storage-no-public-list"] == "FAIL"  # judged as before
        assert found[f"{account}/archive"]["storage-object-lock-enabled"] == "PASS"
        for container in three:
            assert found[f"{account}/{container}"][POLICY] == "UNKNOWN"
            (error,) = docs[f"{account}/{container}"]["_meta"]["errors"]
            assert error["call"] == containers.GET_ACL and error["code"] == code
            assert "needs a data role" in error["message"]
            assert "://" not in error["message"] and "127.0.0.1" not in error["message"]
    assert_valid(result.resources)


def test_storage_blob_data_reader_lists_containers_but_cannot_read_stored_policies(
    fake, builtin_policies, tmp_path
):
    """Get Container ACL needs .../containers/getAcl/action, which Storage Blob Data Reader
    lacks: the policies are unknown (not passed), and the refusal is asked once per account."""
    require_azurite()
    certificates = make_certificates(tmp_path)
    with azurite_blob(accounts=(ACCOUNT,), certificates=certificates, oauth=True) as azurite:
        world = azure_world.World(fake, azurite=azurite)
        forever = {"stored_access_policies": [{"id": "viewer", "permissions": "rl"}]}
        names = ("studies", "exports", "archive")
        world.build(
            {"accounts": {ACCOUNT: {"data_plane": "azurite", "containers": dict.fromkeys(names, forever)}}}
        )
        seen = DataPlane(azurite.url_of(""))

        result = scan(
            world, builtin_policies, credential=FakeCredential(entra_like_token()), raw_response_hook=seen
        )

    assert result.errors == []
    assert containers_listed_by_resource_manager(fake, ACCOUNT) == []
    assert seen.of(ACCOUNT, "list") == [200]
    assert seen.of(ACCOUNT, "acl") == [403]  # asked once for three containers
    found = statuses_by_name(result)
    docs = {r["name"]: r for r in result.resources}
    for name in names:
        assert found[f"{ACCOUNT}/{name}"][POLICY] == "UNKNOWN"
        (error,) = docs[f"{ACCOUNT}/{name}"]["_meta"]["errors"]
        assert error["call"] == containers.GET_ACL and containers.GET_ACL_ACTION in error["message"]


def test_stored_policies_are_read_only_when_an_enabled_policy_needs_them(fake, builtin_policies):
    require_azurite()
    others = [p for p in builtin_policies if p.id != POLICY]
    with azurite_blob(accounts=(ACCOUNT,)) as azurite:
        world = azure_world.World(fake, azurite=azurite)
        forever = {"stored_access_policies": [{"id": "viewer", "permissions": "rl"}]}
        world.build({"accounts": {ACCOUNT: {"data_plane": "azurite", "containers": {"studies": forever}}}})
        seen = DataPlane(azurite.url_of(""))

        result = scan(world, others, raw_response_hook=seen)

    (doc,) = [r for r in result.resources if r["kind"] == "storage.bucket"]
    assert doc["shared_access"] is None and "/shared_access" in doc["_meta"]["not_collected"]
    assert seen.of(ACCOUNT, "list") == [200] and seen.of(ACCOUNT, "acl") == []


def test_terraform_cannot_declare_stored_policies_so_its_containers_are_not_applicable(
    builtin_policies, monkeypatch
):
    monkeypatch.chdir(ROOT)
    result = scan_terraform([ROOT / "terraform-fixtures" / "azure-storage"], builtin_policies)

    buckets = [r for r in result.resources if r["kind"] == "storage.bucket"]
    assert buckets and all(doc["shared_access"] is None for doc in buckets)
    statuses = {f["status"] for f in result.findings if f["policy_id"] == POLICY}
    assert statuses == {"NOT_APPLICABLE"}
