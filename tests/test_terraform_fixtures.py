"""Terraform fixtures: terraform-fixtures/<scenario>/ holds main.tf and expected.json, which
says for each resource (its address, relative to the fixture) which status each policy gives,
which addresses must not exist, and which files must be reported as unreadable."""

import json
from pathlib import Path

import pytest

from cloudscan.scan import scan_terraform

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted(p for p in (ROOT / "terraform-fixtures").iterdir() if (p / "expected.json").is_file())
MOTO_SCENARIOS = ROOT / "tests" / "scenarios" / "aws"

# Where a moto scenario and its Terraform twin must differ, and why.
PARITY_EXCEPTIONS = {
    (
        "public-pacs-export",
        "storage-default-encryption",
    ): "moto models a bucket made before 2023 (no default encryption); Terraform creates a bucket "
    "today, which S3 always encrypts with SSE-S3",
}


def scan_fixture(fixture: Path, policies):
    expected = json.loads((fixture / "expected.json").read_text())
    options = expected.get("options", {})
    result = scan_terraform(
        [fixture],
        policies,
        var_files=tuple(fixture / f for f in options.get("var_files", [])),
        plans=tuple(fixture / f for f in options.get("plans", [])),
        trusted_accounts=options.get("trusted_accounts", ()),
        organization_ids=options.get("organization_ids", ()),
    )
    return expected, result


def by_address(fixture: Path, result) -> dict[str, dict[str, str]]:
    prefix = fixture.relative_to(Path.cwd()).as_posix() + "/" if fixture.is_relative_to(Path.cwd()) else ""
    out: dict[str, dict[str, str]] = {}
    for finding in result.findings:
        address = finding["resource"]["id"].removeprefix(prefix)
        out.setdefault(address, {})[finding["policy_id"]] = finding["status"]
    return out


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_fixture(fixture, builtin_policies):
    expected, result = scan_fixture(fixture, builtin_policies)
    found = by_address(fixture, result)
    for address, statuses in expected["resources"].items():
        assert address in found, f"{address} not found; found {sorted(found)}"
        assert {p: found[address].get(p) for p in statuses} == statuses, address
    for address in expected.get("absent", []):
        assert not any(
            a == address or a.split("#")[0] == address or a.startswith(address + "[") for a in found
        ), address
    prefix = fixture.relative_to(ROOT).as_posix() + "/"
    reported = sorted(e["resource"].removeprefix(prefix) for e in result.errors)
    assert reported == sorted(expected.get("errors", [])), result.errors


@pytest.mark.parametrize(
    "fixture", [f for f in FIXTURES if (MOTO_SCENARIOS / f"{f.name}.json").is_file()], ids=lambda f: f.name
)
def test_same_statuses_as_the_moto_scenario(fixture, builtin_policies):
    """One policy, live and IaC: the Terraform twin of a moto scenario judges alike."""
    scenario = json.loads((MOTO_SCENARIOS / f"{fixture.name}.json").read_text())
    _, result = scan_fixture(fixture, builtin_policies)
    names = {r["id"]: r["name"] for r in result.resources}
    found: dict[str, dict[str, str]] = {}
    for finding in result.findings:
        found.setdefault(names[finding["resource"]["id"]], {})[finding["policy_id"]] = finding["status"]
    compared = 0
    for resource, statuses in scenario["expect"].items():
        if resource not in found:
            continue  # e.g. the account's settings, which this configuration does not declare
        for policy, status in statuses.items():
            if (fixture.name, policy) in PARITY_EXCEPTIONS:
                assert found[resource][policy] != status, "a parity exception that no longer applies"
                continue
            assert found[resource].get(policy) == status, f"{resource} {policy}"
            compared += 1
    assert compared, "the fixture shares no resource with its moto scenario"


def test_every_aws_moto_scenario_has_a_terraform_twin():
    twins = {f.name for f in FIXTURES}
    assert {p.stem for p in MOTO_SCENARIOS.glob("*.json")} <= twins


def test_fixtures_judge_alike_scanned_one_by_one_or_together(builtin_policies):
    """A setting in one directory (account Block Public Access) must not leak into another."""
    together = scan_terraform([ROOT / "terraform-fixtures"], builtin_policies)
    statuses = {(f["resource"]["id"], f["policy_id"]): f["status"] for f in together.findings}
    for fixture in FIXTURES:
        expected, alone = scan_fixture(fixture, builtin_policies)
        if expected.get("options"):
            continue  # scanned with options of its own

        for finding in alone.findings:
            assert statuses[finding["resource"]["id"], finding["policy_id"]] == finding["status"]


# Policies that no Terraform can make fail or pass, and why.
NEVER_FAILS_IN_TERRAFORM = {
    "storage-default-encryption": "S3, GCS and Azure encrypt every new bucket; no argument turns it off "
    "(buckets made before 2023 can fail live: see the moto scenarios)",
    "dicomweb-cors-no-any-origin": "Orthanc has no CORS setting: CORS comes from a proxy in front of it "
    "(see tests/test_dicomweb_orthanc.py)",
    "dicomweb-cors-no-credentialed-foreign-origin": "as dicomweb-cors-no-any-origin",
}
# Policies no file can judge either way: they need the objects or a live connection.
NOT_IN_FILES = {
    "storage-no-public-identifiable-imaging": "judges a bucket's objects, which Terraform does not hold "
    "(see tests/test_imaging_data.py)",
    "storage-no-public-deidentified-imaging": "judges a bucket's objects (see tests/test_imaging_data.py)",
    "dicomweb-valid-certificate": "a certificate is judged by connecting (UNKNOWN from a configuration; "
    "see tests/test_dicomweb_tls.py)",
    "azure-container-sas-policies-bounded": "stored access policies are made through the data plane; "
    "azurerm_storage_container cannot declare them (NOT_APPLICABLE: see tests/test_azure_blob_data_plane.py)",
}


def test_every_policy_has_a_failing_and_a_passing_fixture(builtin_policies):
    seen: dict[str, set[str]] = {p.id: set() for p in builtin_policies}
    for policy in NEVER_FAILS_IN_TERRAFORM:
        seen[policy].add("FAIL")
    for policy in NOT_IN_FILES:
        seen[policy].update(["FAIL", "PASS"])
    for fixture in FIXTURES:
        for statuses in json.loads((fixture / "expected.json").read_text())["resources"].values():
            for policy, status in statuses.items():
                seen[policy].add(status)
    missing = {p: sorted({"FAIL", "PASS"} - s) for p, s in seen.items() if not {"FAIL", "PASS"} <= s}
    assert not missing, f"policies without a failing or passing Terraform fixture: {missing}"


def test_a_huge_file_is_skipped_with_a_message(tmp_path, builtin_policies):
    (tmp_path / "generated.tf").write_text("# padding\n" * 600_000)  # about 6 MB
    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "small"\n}\n')
    result = scan_terraform([tmp_path], builtin_policies)
    (error,) = result.errors
    assert error["resource"].endswith("generated.tf")
    assert "skipped" in error["message"] and "bytes" in error["message"]
    assert [r["name"] for r in result.resources] == ["small"]


def test_a_construct_the_scanner_fails_on_costs_only_its_resource(monkeypatch, builtin_policies):
    """A bug on one bucket must neither drop the directory's other resources nor pass that
    bucket: it becomes a resource whose results are UNKNOWN, with an internal error."""
    from cloudscan.providers.terraform import aws
    from cloudscan.scan import blocking_errors

    real = aws._versioning

    def broken(doc, bucket, resource):
        if bucket.key == "clinical":
            raise TypeError("a construct nobody expected")
        return real(doc, bucket, resource)

    monkeypatch.setattr(aws, "_versioning", broken)
    result = scan_terraform([ROOT / "terraform-fixtures" / "expressions-resolved"], builtin_policies)
    statuses = {(f["resource"]["id"].split("/")[-1], f["policy_id"]): f["status"] for f in result.findings}
    assert statuses['aws_s3_bucket.archive["clinical"]', "storage-no-public-read"] == "UNKNOWN"
    assert statuses['aws_s3_bucket.archive["teaching"]', "storage-no-public-list"] == "FAIL"
    (error,) = blocking_errors(result)
    assert error["code"] == "InternalError" and "a construct nobody expected" in error["message"]
    assert error["resource"].endswith("expressions-resolved/main.tf:39")


def test_a_dicom_service_counts_the_private_endpoints_that_name_it(builtin_policies):
    _, result = scan_fixture(ROOT / "terraform-fixtures" / "dicom-stores", builtin_policies)

    services = {r["source"]["address"]: r for r in result.resources if r["provider"] == "azure"}
    assert services["azurerm_healthcare_dicom_service.private"]["network"]["private_endpoints"] == 1
    assert services["azurerm_healthcare_dicom_service.open"]["network"]["private_endpoints"] == 0
