"""scan gcp through the real client libraries: Cloud Storage in gcp-storage-emulator (or the
local JSON API server where the emulator drops a setting), Healthcare, Compute and Resource
Manager through their discovery clients against the local server. Every scan is read-only:
a write fails the test before it is sent.

Each Terraform fixture for Google Cloud has a live twin in scenarios/gcp/ judged to the
statuses the fixture's expected.json gives."""

from __future__ import annotations

import json
from pathlib import Path

import gcp_world
import pytest
from click.testing import CliRunner
from google_fake import GoogleFake, error_body
from judged import statuses_by_name

from cloudscan.cli import cli
from cloudscan.providers.gcp.clients import Endpoints
from cloudscan.scan import scan_gcp

ROOT = Path(__file__).parent.parent
SCENARIOS = sorted((Path(__file__).parent / "scenarios" / "gcp").glob("*.json"))


@pytest.fixture(scope="module")
def emulator():
    with gcp_world.storage_emulator() as url:
        yield url


@pytest.fixture
def fake():
    with GoogleFake() as server:
        yield server
    assert server.violations == [], "the scan sent a write to the Google APIs"


def world(fake: GoogleFake, emulator: str, storage: str, project: str) -> gcp_world.World:
    if storage == "emulator":
        import requests

        requests.get(f"{emulator}/wipe", timeout=10)
    return gcp_world.World(fake, emulator if storage == "emulator" else fake.url, project)


def expected_of(scenario: dict) -> dict[str, dict[str, str]]:
    """A twin's statuses come from its Terraform fixture: the live name of each address (a
    firewall's rule keeps the fixture's `#ingress/...` key after the name)."""
    if "expect" in scenario:
        return scenario["expect"]
    fixture = json.loads((ROOT / "terraform-fixtures" / scenario["fixture"] / "expected.json").read_text())
    out = {}
    for address, expected in fixture["resources"].items():
        base, _, rule = address.partition("#ingress/")
        if base in scenario["twins"]:
            out[scenario["twins"][base] + (f" {rule}" if rule else "")] = expected
    return out


def run(world_: gcp_world.World, builtin_policies, **kwargs):
    return scan_gcp(world_.clients(), builtin_policies, projects=(world_.project,), **kwargs)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(path, fake, emulator, builtin_policies, monkeypatch):
    scenario = json.loads(path.read_text())
    live = world(fake, emulator, scenario["storage"], scenario["spec"]["project"])
    live.build(scenario["spec"])
    fake.page_limit = 1  # every list the adapter reads from the local server comes a page at a time

    with gcp_world.read_only(monkeypatch) as guard:
        result = run(live, builtin_policies)

    assert guard.writes == []
    assert result.errors == []
    found = statuses_by_name(result)
    expected = expected_of(scenario)
    assert expected, "a scenario must expect something"
    for resource, policies in expected.items():
        assert resource in found, f"{resource} was not scanned; scanned: {sorted(found)}"
        assert {p: found[resource].get(p) for p in policies} == policies, resource
    for name in scenario.get("absent", []):
        assert not any(n == name or n.startswith(name + " ") for n in found), name
    if "fixture" in scenario:  # what the Terraform fixture says is absent is absent live too
        fixture = json.loads(
            (ROOT / "terraform-fixtures" / scenario["fixture"] / "expected.json").read_text()
        )
        for address in fixture.get("absent", []):
            base, _, rule = address.partition("#ingress/")
            if base in scenario["twins"]:
                name = scenario["twins"][base]
                assert not any(
                    n == f"{name} {rule}" or (not rule and n.startswith(name + " ")) for n in found
                )


def test_every_gcp_policy_has_a_failing_and_a_passing_live_case(builtin_policies):
    kinds = {"storage.bucket", "network.ingress", "dicom.store"}
    by_content = {"storage-no-public-identifiable-imaging", "storage-no-public-deidentified-imaging"}
    gcp = {
        p.id
        for p in builtin_policies
        if (p.providers is None or "gcp" in p.providers) and p.kind in kinds and p.id not in by_content
    }
    seen: dict[str, set[str]] = {p: set() for p in gcp}
    for path in SCENARIOS:
        for expected in expected_of(json.loads(path.read_text())).values():
            for policy, status in expected.items():
                seen.setdefault(policy, set()).add(status)
    # Google Cloud has no setting that fails these: Cloud Storage encrypts every object, and the
    # Healthcare API has no CORS.
    for policy in ("storage-default-encryption", "dicom-store-cors-no-any-origin"):
        assert seen.pop(policy, set()) <= {"PASS"}
    missing = {p: sorted({"FAIL", "PASS"} - s) for p, s in seen.items() if not {"FAIL", "PASS"} <= s}
    assert not missing, f"policies without a failing or passing live Google Cloud case: {missing}"


def test_identifiable_studies_in_a_public_bucket_are_found_without_printing_them(
    fake, emulator, builtin_policies, monkeypatch
):
    live = world(fake, emulator, "emulator", "radiology-prod")
    public = [{"role": "roles/storage.objectViewer", "members": ["allUsers"]}]
    objects = {"1.2.840.1.2.3/Doe_Jane.dcm": {"dicom": True}}
    live.build({"buckets": {"open-studies": {"iam": public, "objects": objects}, "empty": {"iam": public}}})

    with gcp_world.read_only(monkeypatch):
        result = run(live, builtin_policies, sampling=gcp_world_sampling(deep=True))

    found = statuses_by_name(result)
    assert found["open-studies"]["storage-no-public-identifiable-imaging"] == "FAIL"
    assert found["empty"]["storage-no-public-identifiable-imaging"] == "NOT_APPLICABLE"
    assert found["empty"]["storage-no-public-read"] == "FAIL"
    (bucket,) = [r for r in result.resources if r["name"] == "open-studies"]
    assert bucket["objects"]["items"][0]["dicom"] is True
    assert "PatientName" in bucket["objects"]["items"][0]["phi_tags"]
    text = json.dumps(result.resources)
    assert "Doe" not in text and "Jane" not in text


def gcp_world_sampling(**kwargs):
    from cloudscan.providers.sampling import Sampling

    return Sampling(**kwargs)


def test_a_project_with_the_api_off_is_an_error_and_the_others_are_still_scanned(fake, builtin_policies):
    live = world(fake, "", "fake", "pacs-prod")
    allow = {
        "name": "dicom",
        "allowed": [{"IPProtocol": "tcp", "ports": ["104"]}],
        "sourceRanges": ["0.0.0.0/0"],
    }
    live.build({"project": "pacs-prod", "firewalls": [allow], "datasets": {"eu/d": {"stores": {"s": {}}}}})
    live.build({"project": "lab", "firewalls": [allow]})
    fake.disable_api("/v1/projects/lab/", "healthcare.googleapis.com")

    result = scan_gcp(live.clients(), builtin_policies, projects=("lab", "pacs-prod"), locations=("eu",))

    (error,) = result.errors
    assert error["resource"] == "projects/lab" and error["code"] == "SERVICE_DISABLED"
    assert "not enabled" in error["message"]
    scanned = {(r["account"], r["kind"]) for r in result.resources}
    assert scanned == {
        ("lab", "network.ingress"),
        ("pacs-prod", "network.ingress"),
        ("pacs-prod", "dicom.store"),
    }


def test_a_bucket_whose_iam_cannot_be_read_is_unknown_not_passed(fake, builtin_policies):
    live = world(fake, "", "fake", "pacs-prod")
    live.build({"buckets": {"locked": {"uniform": True}, "readable": {"uniform": True}}})
    fake.fail("/storage/v1/b/locked/iam", 403, "forbidden", "caller lacks storage.buckets.getIamPolicy")

    found = statuses_by_name(run(live, builtin_policies))

    assert found["locked"]["storage-no-public-read"] == "UNKNOWN"
    assert found["readable"]["storage-no-public-read"] == "PASS"


def test_cli_scans_an_emulated_project_and_fails_on_findings(fake, emulator, monkeypatch, tmp_path):
    live = world(fake, emulator, "emulator", "radiology-prod")
    live.build(
        {"buckets": {"viewer": {"iam": [{"role": "roles/storage.objectViewer", "members": ["allUsers"]}]}}}
    )
    for name in ("HEALTHCARE", "COMPUTE", "RESOURCE_MANAGER"):
        monkeypatch.setenv(f"CLOUDSCAN_{name}_ENDPOINT", fake.url)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator)
    report = tmp_path / "report.json"
    args = ["scan", "gcp", "--project", "radiology-prod", "--anonymous", "--location", "eu"]

    outcome = CliRunner().invoke(cli, [*args, "--format", "json", "--output", str(report)])

    assert outcome.exit_code == 1, outcome.output
    findings = json.loads(report.read_text())["findings"]
    assert {
        (f["resource"]["name"], f["status"]) for f in findings if f["policy_id"] == "storage-no-public-read"
    } == {("viewer", "FAIL")}


def test_cli_needs_a_project(monkeypatch):
    outcome = CliRunner().invoke(cli, ["scan", "gcp", "--anonymous"])
    assert outcome.exit_code == 2
    assert "--project, --organization or --folder" in outcome.output


def test_an_organization_is_every_active_project_below_it_through_its_folders(fake, builtin_policies):
    live = world(fake, "", "fake", "unused")
    allow = {
        "name": "dicom",
        "allowed": [{"IPProtocol": "tcp", "ports": ["104"]}],
        "sourceRanges": ["0.0.0.0/0"],
    }
    tree = {  # project id -> parent; folders 10 (under the organization) and 11 (under 10)
        "top": "organizations/42",
        "nested": "folders/11",
        "deleted": "folders/10",
        "elsewhere": "organizations/7",
    }
    fake.put("/v3/folders/10", {"name": "folders/10", "parent": "organizations/42", "state": "ACTIVE"})
    fake.put("/v3/folders/11", {"name": "folders/11", "parent": "folders/10", "state": "ACTIVE"})
    for project, parent in tree.items():
        live.build({"project": project, "firewalls": [allow]})
        state = "DELETE_REQUESTED" if project == "deleted" else "ACTIVE"
        fake.put(f"/v3/projects/{project}", {"projectId": project, "parent": parent, "state": state})

    result = scan_gcp(live.clients(), builtin_policies, organization="42")

    assert result.errors == []
    assert {r["account"] for r in result.resources} == {"top", "nested"}


def test_an_api_out_of_reach_is_an_error_naming_it_and_a_scan_that_read_nothing_exits_3(monkeypatch):
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens on loopback
    for name in ("HEALTHCARE", "COMPUTE", "RESOURCE_MANAGER"):
        monkeypatch.setenv(f"CLOUDSCAN_{name}_ENDPOINT", closed)
    args = ["scan", "gcp", "--project", "p", "--anonymous", "--only", "network-*", "--format", "json"]

    outcome = CliRunner().invoke(cli, args)

    assert outcome.exit_code == 3, outcome.output
    errors = json.loads(outcome.stdout[: outcome.stdout.rindex("}") + 1])["errors"]
    messages = {e["call"]: e["message"] for e in errors}
    assert messages["compute.firewalls.list"].startswith(f"cannot reach the Compute Engine API at {closed}")
    # Firewalls alone do not inherit the project's IAM: it is not read, so not missed.
    assert set(messages) == {"compute.firewalls.list"}


def test_cloud_storage_is_judged_when_the_other_apis_are_out_of_reach(fake, emulator, builtin_policies):
    live = world(fake, emulator, "emulator", "radiology-prod")
    live.build({"buckets": {"kept": {"uniform": True, "versioning": True}}})
    clients = live.clients()
    closed = "http://127.0.0.1:9"
    clients.endpoints = Endpoints(emulator, healthcare=closed, compute=closed, resource_manager=closed)

    result = scan_gcp(clients, builtin_policies, projects=("radiology-prod",), locations=("eu",))

    assert statuses_by_name(result)["kept"]["storage-versioning-enabled"] == "PASS"
    assert any(e["call"] == "compute.firewalls.list" for e in result.errors)


def test_impersonation_wraps_application_default_credentials(tmp_path, monkeypatch):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.auth import impersonated_credentials

    from cloudscan.providers.gcp.clients import READ_ONLY_SCOPES, load_credentials

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    account = {
        "type": "service_account",
        "project_id": "sec-tools",
        "private_key_id": "1",
        "private_key": pem,
        "client_email": "runner@sec-tools.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = tmp_path / "adc.json"
    path.write_text(json.dumps(account))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))

    credentials, project = load_credentials(impersonate="scanner@pacs-prod.iam.gserviceaccount.com")

    assert project == "sec-tools"
    assert isinstance(credentials, impersonated_credentials.Credentials)
    assert credentials.service_account_email == "scanner@pacs-prod.iam.gserviceaccount.com"
    assert credentials._target_scopes == READ_ONLY_SCOPES  # read-only whoever it acts as


def test_a_store_whose_own_iam_is_unreadable_is_still_public_through_its_dataset(fake, builtin_policies):
    live = world(fake, "", "fake", "pacs-prod")
    public = [{"role": "roles/healthcare.dicomViewer", "members": ["allUsers"]}]
    datasets = {"eu/open": {"iam": public, "stores": {"a": {}}}, "eu/closed": {"stores": {"b": {}}}}
    live.build({"datasets": datasets})
    for path in (
        "/v1/projects/pacs-prod/locations/eu/datasets/open/dicomStores/a:getIamPolicy",
        "/v1/projects/pacs-prod/locations/eu/datasets/closed/dicomStores/b:getIamPolicy",
    ):
        fake.fail(path, 403, "forbidden", "caller lacks healthcare.dicomStores.getIamPolicy")

    found = statuses_by_name(run(live, builtin_policies))

    assert found["a"]["dicom-store-no-public-access"] == "FAIL"  # what is known to be public stays so
    assert found["b"]["dicom-store-no-public-access"] == "UNKNOWN"  # never a PASS on what was not read


def test_a_failed_object_read_names_no_object(fake, builtin_policies, tmp_path):
    from cloudscan import report

    live = world(fake, "", "fake", "pacs-prod")
    name = "DOE^JANE_1960-01-01/ct.dcm"
    live.build({"buckets": {"studies": {"objects": {name: {"dicom": True}}}}})
    fake.fail("/download/storage/v1/b/studies/o/", 403, "forbidden", "no storage.objects.get")

    result = run(live, builtin_policies)
    (bucket,) = result.resources
    assert bucket["objects"] is None and "/objects" in bucket["_meta"]["unknown"]
    with (tmp_path / "r.json").open("w") as stream:
        report.write(report.Format.JSON, result, stream)
    text = (tmp_path / "r.json").read_text() + json.dumps(result.errors)
    assert "DOE" not in text and "JANE" not in text and "1960" not in text


def test_a_store_says_its_key_and_where_its_studies_are_copied(fake, builtin_policies):
    live = world(fake, "", "fake", "pacs-prod")
    key = "projects/pacs-prod/locations/eu/keyRings/phi/cryptoKeys/pacs"
    store = {"streams": ["bq://pacs-prod.research.dicom"], "pubsub": "projects/pacs-prod/topics/new-studies"}
    live.build(
        {"datasets": {"eu/cmek": {"kms": key, "stores": {"a": store}}, "eu/plain": {"stores": {"b": {}}}}}
    )

    result = run(live, builtin_policies)

    stores = {r["name"]: r for r in result.resources}
    assert stores["a"]["encryption"] == {"customer_managed_key": True, "kms_key": key}
    assert stores["a"]["copies"] == [
        {"type": "bigquery", "target": "bq://pacs-prod.research.dicom"},
        {"type": "pubsub", "target": "projects/pacs-prod/topics/new-studies"},
    ]
    assert stores["b"]["encryption"] == {"customer_managed_key": False, "kms_key": None}
    assert stores["b"]["copies"] == []


def test_credentials_google_refuses_stop_the_scan_with_exit_2(fake, monkeypatch):
    live = world(fake, "", "fake", "p")
    live.build({"project": "p"})
    # What Google answers an expired token: 401 with an ErrorInfo reason, not UNAUTHENTICATED.
    info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_EXPIRED"}
    fake.failures.append(("/", None, 401, error_body(401, "authError", "token expired", details=[info])))
    for name in ("HEALTHCARE", "COMPUTE", "RESOURCE_MANAGER"):
        monkeypatch.setenv(f"CLOUDSCAN_{name}_ENDPOINT", fake.url)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fake.url)

    outcome = CliRunner().invoke(cli, ["scan", "gcp", "--project", "p", "--anonymous"])

    assert outcome.exit_code == 2, outcome.output
    assert "Google refused the credentials" in outcome.output


def test_a_bucket_acl_read_stands_when_the_default_object_acl_cannot_be_read(fake, builtin_policies):
    live = world(fake, "", "fake", "pacs-prod")
    live.build({"buckets": {"open": {"acl": [["allUsers", "READER"]]}}})
    fake.fail("/storage/v1/b/open/defaultObjectAcl", 403, "forbidden", "no defaultObjectAccessControls.list")

    found = statuses_by_name(run(live, builtin_policies, sampling=gcp_world_sampling(size=0)))

    assert found["open"]["storage-no-public-list"] == "FAIL"  # known public stays public


def test_a_failed_object_acl_read_names_no_object(fake, builtin_policies):
    live = world(fake, "", "fake", "pacs-prod")
    name = "DOE^JANE_1960-01-01/ct.dcm"
    live.build({"buckets": {"studies": {"objects": {name: {"dicom": False}}}}})
    fake.fail(
        GoogleFake.object_path("studies", name) + "/acl", 403, "forbidden", "no objectAccessControls.list"
    )

    result = run(live, builtin_policies)

    (bucket,) = result.resources
    assert "/access/acl" in bucket["_meta"]["unknown"]
    text = json.dumps(result.resources) + json.dumps(result.errors)
    assert "DOE" not in text and "JANE" not in text
