"""--baseline: the problems of a scan marked new or unchanged against a previous report, the
ones that are gone listed as resolved, through the CLI against an AWS account in moto."""

from __future__ import annotations

import json
from pathlib import Path

import aws_world
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from cloudscan import __version__
from cloudscan.cli import cli
from cloudscan.model import load_schema, schema_registry

READ = "storage-no-public-list"  # a public-read ACL lets anyone list the keys
SCAN = ("scan", "aws", "--region", "us-east-1", "--sample", "0")


def run(*args: str) -> tuple[int, str]:
    outcome = CliRunner().invoke(cli, list(args))
    return outcome.exit_code, outcome.output


def scan_to(path: Path, *extra: str) -> tuple[int, dict]:
    code, output = run(*SCAN, "--format", "json", "--output", str(path), *extra)
    assert code in (0, 1), output
    report = json.loads(path.read_text())
    assert not list(
        Draft202012Validator(load_schema("report"), registry=schema_registry()).iter_errors(report)
    )
    return code, report


def problems(report: dict) -> dict[tuple[str, str], str | None]:
    return {
        (f["resource"]["name"], f["policy_id"]): f.get("change")
        for f in report["findings"]
        if f["status"] == "FAIL"
    }


def test_a_fixed_bucket_is_resolved_and_a_broken_one_new(aws, tmp_path):
    aws_world.build({"buckets": {"pacs-exports": {"acl": "public-read"}, "teaching": {}}})
    _, first = scan_to(tmp_path / "first.json")
    assert (("pacs-exports", READ)) in problems(first)

    s3 = aws_world.session().client("s3")
    s3.put_bucket_acl(Bucket="pacs-exports", ACL="private")
    s3.put_bucket_acl(Bucket="teaching", ACL="public-read")
    code, second = scan_to(tmp_path / "second.json", "--baseline", str(tmp_path / "first.json"))

    found = problems(second)
    assert found[("teaching", READ)] == "new"
    assert ("pacs-exports", READ) not in found
    assert {c for (name, _), c in found.items() if name != "teaching"} <= {"unchanged"}
    resolved = {
        (r["resource"]["name"], r["policy_id"]): r["status_now"] for r in second["baseline"]["resolved"]
    }
    assert resolved[("pacs-exports", READ)] == "PASS"
    counts = second["baseline"]["counts"]
    assert counts["new"] == sum(c == "new" for c in found.values()) and counts["unverified"] == 0
    assert code == 1  # a new critical FAIL


def test_fail_on_counts_new_findings_only_and_only_new_reports_them(aws, tmp_path):
    aws_world.build({"buckets": {"pacs-exports": {"acl": "public-read"}}})
    scan_to(tmp_path / "first.json")
    baseline = ("--baseline", str(tmp_path / "first.json"))

    code, again = scan_to(tmp_path / "again.json", *baseline)
    assert code == 0  # every FAIL was already there
    assert set(problems(again).values()) == {"unchanged"}

    dicom = [{"protocol": "tcp", "from": 104, "to": 104, "cidr": "0.0.0.0/0"}]
    aws_world.build({"security_groups": {"orthanc": {"ingress": dicom}}})
    code, only = scan_to(tmp_path / "only.json", *baseline, "--only-new")
    assert code == 1
    assert only["findings"] and {f["change"] for f in only["findings"]} == {"new"}
    assert {f["policy_id"] for f in only["findings"]} == {"network-no-internet-dicom-ports"}


def test_sarif_says_new_and_unchanged_as_baseline_state(aws, tmp_path):
    aws_world.build({"buckets": {"pacs-exports": {"acl": "public-read"}}})
    scan_to(tmp_path / "first.json")
    aws_world.build({"buckets": {"teaching": {"acl": "public-read"}}})

    _, output = run(*SCAN, "--format", "sarif", "--baseline", str(tmp_path / "first.json"))

    states = {
        (r["properties"]["resource"], r["ruleId"]): r.get("baselineState")
        for r in json.loads(output[: output.rindex("}") + 1])["runs"][0]["results"]
        if r["kind"] == "fail"
    }
    assert states[("arn:aws:s3:::teaching", READ)] == "new"
    assert states[("arn:aws:s3:::pacs-exports", READ)] == "unchanged"


def test_a_baseline_of_another_version_kind_or_shape_is_refused(aws, tmp_path):
    aws_world.build({"buckets": {"pacs-exports": {"acl": "public-read"}}})
    _, report = scan_to(tmp_path / "first.json")

    def refused(name: str, document: object) -> str:
        path = tmp_path / name
        path.write_text(document if isinstance(document, str) else json.dumps(document))
        code, output = run(*SCAN, "--baseline", str(path))
        assert code == 2, output
        return output

    older = {**report, "tool": {"name": "cloudscan", "version": "0.0.1"}}
    assert f'written by cloudscan "0.0.1", this is {__version__}' in refused("older.json", older)
    terraform = {**report, "scan": {**report["scan"], "source": "terraform"}}
    assert 'is a scan of "terraform", not of aws' in refused("terraform.json", terraform)
    assert "is not JSON" in refused("broken.json", '{"findings": [')
    assert "not a cloudscan JSON report" in refused("sarif.json", {"version": "2.1.0", "runs": []})
    forged = json.loads(json.dumps(report))
    forged["findings"][0] = {**forged["findings"][0], "status": "FAIL", "severity": "\x1b[31mhigh"}
    said = refused("forged.json", forged)
    assert 'findings[0]["severity"] is not a cloudscan finding' in said and "\x1b" not in said
    code, output = run(*SCAN, "--only-new")
    assert code == 2 and "--only-new needs --baseline" in output


def test_problems_of_files_that_could_not_be_read_again_are_unverified_not_resolved(tmp_path):
    infra = tmp_path / "infra"
    for name in ("exports", "teaching"):  # two modules: a broken file in one leaves the other judged
        (infra / name).mkdir(parents=True)
        (infra / name / "main.tf").write_text(
            f'resource "aws_s3_bucket" "{name}" {{\n  bucket = "{name}"\n}}\n'
            f'resource "aws_s3_bucket_acl" "{name}" {{\n'
            f'  bucket = aws_s3_bucket.{name}.id\n  acl = "public-read"\n}}\n'
        )
    first = tmp_path / "first.json"
    code, output = run("scan", "terraform", str(infra), "--format", "json", "--output", str(first))
    assert code == 1, output
    (infra / "exports" / "main.tf").write_text('resource "aws_s3_bucket" "exports" {\n  bucket = [\n}\n')
    (infra / "teaching" / "main.tf").write_text(
        'resource "aws_s3_bucket" "teaching" {\n  bucket = "teaching"\n}\n'
    )

    second = tmp_path / "second.json"
    run("scan", "terraform", str(infra), "--format", "json", "-o", str(second), "--baseline", str(first))

    baseline = json.loads(second.read_text())["baseline"]
    assert {r["resource"]["id"] for r in baseline["unverified"]} == {"exports/aws_s3_bucket.exports"}
    assert {
        (r["resource"]["id"], r["status_now"]) for r in baseline["resolved"] if r["policy_id"] == READ
    } == {("teaching/aws_s3_bucket.teaching", "PASS")}
