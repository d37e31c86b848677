"""SARIF output: valid against the SARIF 2.1.0 schema and shaped for GitHub code scanning."""

import json
from pathlib import Path

import aws_world
import pytest
from jsonschema import validators

from cloudscan.report import sarif
from cloudscan.scan import scan_aws, scan_terraform

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0.json").read_text())


def validate(document: dict) -> None:
    validator = validators.validator_for(SCHEMA)(SCHEMA)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, f"{list(errors[0].absolute_path)}: {errors[0].message}"


@pytest.fixture
def terraform_sarif(monkeypatch, builtin_policies):
    monkeypatch.chdir(ROOT)
    result = scan_terraform([Path("terraform-fixtures")], builtin_policies)
    return result, json.loads(sarif.render(result))


def test_terraform_sarif_is_valid_and_located(terraform_sarif):
    result, document = terraform_sarif
    validate(document)
    (run,) = document["runs"]
    fails = [f for f in result.findings if f["status"] == "FAIL"]
    assert len([r for r in run["results"] if r["kind"] == "fail"]) == len(fails)
    by_fingerprint = {r["partialFingerprints"]["cloudscan/v1"]: r for r in run["results"]}
    for finding in fails:
        located = by_fingerprint[finding["fingerprint"]]
        physical = located["locations"][0]["physicalLocation"]
        source = finding["resource"]["source"]
        if source.get("fields"):  # a configuration file: the line of the setting (tested below)
            assert physical["region"]["startLine"] >= 1
            continue
        assert physical["artifactLocation"]["uri"] == source["file"]
        assert physical["region"]["startLine"] == source["line_start"] >= 1
        assert located["message"]["text"].startswith((source["address"] or finding["resource"]["id"]) + ": ")


def test_rules_carry_what_code_scanning_shows(terraform_sarif):
    result, document = terraform_sarif
    rules = {r["id"]: r for r in document["runs"][0]["tool"]["driver"]["rules"]}
    assert set(rules) == {p.id for p in result.policies}
    public_read = rules["storage-no-public-read"]
    assert public_read["shortDescription"]["text"].startswith("Bucket objects are not readable by anyone")
    assert public_read["properties"]["security-severity"] == "9.5"
    assert "```hcl" in public_read["help"]["markdown"]
    assert public_read["defaultConfiguration"]["level"] == "error"
    assert rules["storage-access-logging"]["properties"]["security-severity"] == "3.0"


def test_levels_follow_severity_and_unknown_is_a_notification(terraform_sarif):
    result, document = terraform_sarif
    (run,) = document["runs"]
    levels = {(r["ruleId"], r["kind"], r["level"]) for r in run["results"]}
    assert ("network-no-internet-dicom-ports", "fail", "error") in levels
    assert ("storage-versioning-enabled", "fail", "warning") in levels
    assert {r["kind"] for r in run["results"]} == {"fail"}
    unknown = [
        n
        for n in run["invocations"][0]["toolExecutionNotifications"]
        if n["descriptor"]["id"] == "cloudscan/unknown"
    ]
    assert len(unknown) == sum(f["status"] == "UNKNOWN" for f in result.findings) > 0
    (unresolved,) = [
        n
        for n in unknown
        if "unresolved-variable" in json.dumps(n["locations"])
        and n["associatedRule"]["id"] == "storage-no-public-read"
    ]
    assert "var.reader has no default" in unresolved["message"]["text"]


def test_unreadable_files_are_tool_notifications_with_their_line(terraform_sarif):
    _, document = terraform_sarif
    notes = document["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    located = {
        (
            n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            n["locations"][0]["physicalLocation"].get("region", {}).get("startLine"),
        )
        for n in notes
        if n.get("locations")
    }
    assert ("terraform-fixtures/broken-hcl/broken.tf", 3) in located


def test_live_sarif_uses_logical_locations(guard, builtin_policies):
    aws_world.build({"buckets": {"pacs-exports": {"acl": "public-read"}}})
    result = scan_aws(guard.session(), builtin_policies, regions=(aws_world.REGION,))
    document = json.loads(sarif.render(result))
    validate(document)
    located = [r for r in document["runs"][0]["results"] if r["ruleId"] == "storage-no-public-list"]
    logical = located[0]["locations"][0]["logicalLocations"][0]
    assert logical["fullyQualifiedName"] == "arn:aws:s3:::pacs-exports"


def test_configuration_findings_point_at_the_setting(terraform_sarif):
    """Code scanning annotates the line that set the value, not the top of the file."""
    _, document = terraform_sarif
    lines = {}
    for result in document["runs"][0]["results"]:
        physical = result["locations"][0]["physicalLocation"]
        if physical["artifactLocation"]["uri"] == "terraform-fixtures/orthanc-configs/open/orthanc.json":
            lines[result["ruleId"]] = physical["region"]["startLine"]
    text = Path(ROOT / "terraform-fixtures/orthanc-configs/open/orthanc.json").read_text().splitlines()
    for rule, key in (
        ("orthanc-lua-scripts-disabled", "ExecuteLuaEnabled"),
        ("orthanc-rest-api-no-filesystem-writes", "RestApiWriteToFileSystemEnabled"),
        ("dimse-called-ae-checked", "DicomCheckCalledAet"),
        ("dimse-no-unknown-ae-store", "DicomAlwaysAllowStore"),
        ("dicomweb-no-unauthenticated-search", "AuthenticationEnabled"),
    ):
        assert f'"{key}"' in text[lines[rule] - 1], rule
