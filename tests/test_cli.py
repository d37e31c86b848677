"""The command line as users meet it: output formats, exit codes, options, errors."""

import json

import aws_world
import botocore.handlers
import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from cloudscan import __version__
from cloudscan.cli import cli
from cloudscan.model import load_schema, schema_registry

PUBLIC = {
    "buckets": {
        "pacs-exports": {
            "acl": "public-read",
            "encryption": "aws:kms",
            "versioning": True,
            "object_lock_days": 1,
            "logging": "pacs-logs",
        }
    },
    "security_groups": {
        "orthanc": {"ingress": [{"protocol": "tcp", "from": 4242, "to": 4242, "cidr": "0.0.0.0/0"}]}
    },
}


@pytest.fixture
def global_guard(aws):
    """Guards sessions the CLI makes itself: handlers in BUILTIN_HANDLERS reach every new session."""
    from aws_world import CallGuard

    watcher = CallGuard()
    aws_world.build(PUBLIC)  # set up before the guard is installed
    entry = ("before-call.*.*", watcher._before_call)
    botocore.handlers.BUILTIN_HANDLERS.append(entry)
    yield watcher
    botocore.handlers.BUILTIN_HANDLERS.remove(entry)
    assert not watcher.violations


def run(*args):
    return CliRunner().invoke(cli, list(args))


def report_validator():
    return Draft202012Validator(load_schema("report"), registry=schema_registry())


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help_explains_exit_codes_and_options():
    assert "3  incomplete scan" in run("--help").output
    help_text = run("scan", "aws", "--help").output
    for option in (
        "--profile",
        "--region",
        "--format",
        "--output",
        "--fail-on",
        "--strict",
        "--policies",
        "--only",
        "--skip",
        "--trusted-account",
    ):
        assert option in help_text


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_every_live_scan_takes_a_rate_limit_and_refuses_a_rate_of_zero(cloud):
    help_text = run("scan", cloud, "--help").output
    assert "--max-rate" in help_text and "--max-attempts" in help_text
    refused = run("scan", cloud, "--max-rate", "0")
    assert refused.exit_code == 2 and "--max-rate" in refused.output


def test_json_report_is_valid_and_complete(global_guard):
    result = run("scan", "aws", "--region", "us-east-1", "--format", "json")
    assert result.exit_code == 1  # findings at or above the default --fail-on low
    report = json.loads(result.stdout)
    errors = sorted(report_validator().iter_errors(report), key=str)
    assert not errors, errors[0]
    assert report["summary"]["resources"] == len(report["resources"]) == 4
    failed = {(f["policy_id"], f["resource"]["name"]) for f in report["findings"] if f["status"] == "FAIL"}
    assert ("storage-no-public-list", "pacs-exports") in failed
    assert ("network-no-internet-dicom-ports", "orthanc tcp/4242-4242/0.0.0.0/0") in failed
    for resource in report["resources"]:
        kind_schema = Draft202012Validator(load_schema(resource["kind"]), registry=schema_registry())
        assert kind_schema.is_valid(resource)
    assert "cloudscan: 4 resources" in result.stderr


def test_fingerprints_are_stable_between_scans(global_guard):
    first = json.loads(run("scan", "aws", "--region", "us-east-1", "--format", "json").stdout)
    second = json.loads(run("scan", "aws", "--region", "us-east-1", "--format", "json").stdout)
    assert [f["fingerprint"] for f in first["findings"]] == [f["fingerprint"] for f in second["findings"]]
    assert len({f["fingerprint"] for f in first["findings"]}) == len(first["findings"])


def test_text_report_groups_by_severity_and_writes_to_file(global_guard, tmp_path):
    out = tmp_path / "report.txt"
    result = run("scan", "aws", "--region", "us-east-1", "--output", str(out))
    text = out.read_text()
    assert result.exit_code == 1
    assert text.index("CRITICAL") < text.index("HIGH")
    assert "storage-no-public-list: Bucket contents cannot be listed" in text
    assert "[Acl.Grants[1]]" in text
    assert "fix: " in text


@pytest.mark.parametrize(("fail_on", "code"), [("critical", 1), ("none", 0)])
def test_fail_on_threshold(global_guard, fail_on, code):
    # The open Orthanc port is critical; nothing fails at "none".
    assert run("scan", "aws", "--region", "us-east-1", "--fail-on", fail_on).exit_code == code


def test_only_and_skip(global_guard):
    result = run(
        "scan",
        "aws",
        "--region",
        "us-east-1",
        "--format",
        "json",
        "--only",
        "storage-*",
        "--skip",
        "storage-no-public-list",
    )
    report = json.loads(result.stdout)
    policies = set(report["scan"]["policies"])
    assert "storage-no-public-read" in policies
    assert "storage-no-public-list" not in policies
    assert not any(p.startswith("network-") for p in policies)
    assert {r["kind"] for r in report["resources"]} == {"storage.bucket"}  # the account policy is skipped


def test_strict_exits_3_when_something_could_not_be_read(global_guard):
    global_guard.fail[("s3", "GetBucketVersioning")] = "AccessDenied"
    args = ("scan", "aws", "--region", "us-east-1", "--only", "storage-versioning-enabled")
    assert run(*args).exit_code == 0
    result = run(*args, "--strict")
    assert result.exit_code == 3
    assert "UNKNOWN" in result.stdout
    assert "could not evaluate: s3:GetBucketVersioning AccessDenied" in result.stdout


def test_no_policy_left_is_a_usage_error():
    result = run("scan", "aws", "--only", "no-such-policy")
    assert result.exit_code == 2
    assert "no policy left to run" in result.output


def test_missing_credentials_is_a_usage_error(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = run("scan", "aws")
    assert result.exit_code == 2
    assert "no AWS credentials found" in result.output


def test_refused_credentials_stop_the_scan_with_exit_2(global_guard):
    global_guard.fail[("sts", "GetCallerIdentity")] = "InvalidClientTokenId"
    result = run("scan", "aws", "--region", "us-east-1")
    assert result.exit_code == 2
    assert "nothing was scanned: sts:GetCallerIdentity InvalidClientTokenId" in result.output
    assert "InvalidClientTokenId" in result.output


def test_credentials_that_cannot_be_loaded_are_a_usage_error(tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.write_text("[profile broken]\ncredential_process = /bin/false\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    result = run("scan", "aws", "--profile", "broken")
    assert result.exit_code == 2
    assert "AWS credentials:" in result.output
    assert "Traceback" not in result.output


def test_unknown_profile_is_a_usage_error():
    result = run("scan", "aws", "--profile", "does-not-exist")
    assert result.exit_code == 2
    assert "does-not-exist" in result.output
    assert "Traceback" not in result.output


def test_policies_list_and_show():
    listing = run("policies", "list").output
    assert "storage-no-public-read" in listing and "critical" in listing
    shown = json.loads(run("policies", "show", "storage-no-public-read").output)
    assert shown["x-cloudscan"]["severity"] == "critical"
    assert run("policies", "show", "nope").exit_code == 2
    as_json = json.loads(run("policies", "list", "--format", "json").output)
    assert {p["id"] for p in as_json} >= {"network-no-internet-dicom-ports"}


def test_demo_shows_a_real_report():
    result = run("demo")
    assert result.exit_code == 0
    for expected in (
        "radiology-pacs-exports",
        "storage-no-public-identifiable-imaging",
        "teleradiology-inbox",
        "network-no-internet-dicom-ports",
    ):
        assert expected in result.stdout
    report = json.loads(run("demo", "--format", "json").stdout)
    status = {(f["policy_id"], f["resource"]["name"]): f["status"] for f in report["findings"]}
    # The research bucket's public ACL is neutralised by Block Public Access.
    assert status["storage-no-public-list", "ct-research-deidentified"] == "PASS"
    assert status["storage-no-public-identifiable-imaging", "radiology-pacs-exports"] == "FAIL"
    exports = next(r for r in report["resources"] if r["name"] == "radiology-pacs-exports")
    assert {"PatientName", "PatientID"} <= set(exports["data"]["phi_tags"])
    assert status["storage-no-all-authenticated-users", "teleradiology-inbox"] == "FAIL"
    assert status["storage-no-untrusted-cross-account", "teleradiology-inbox"] == "FAIL"
    assert status["snapshot-no-public-sharing", "orthanc-data-disk"] == "FAIL"
    # A viewer's private bucket, served to anyone by CloudFront without signed URLs.
    assert status["storage-no-public-identifiable-imaging", "ohif-viewer-studies"] == "FAIL"
    assert status["aws-s3-bucket-block-public-access", "ohif-viewer-studies"] == "PASS"
    viewer = next(r for r in report["resources"] if r["name"] == "ohif-viewer-studies")
    (reason,) = viewer["exposure"]["reasons"]["public_read"]
    assert reason["detail"].startswith("public through CloudFront distribution ")
    assert "public through CloudFront distribution" in result.stdout


def test_terraform_scan_reports_sources_and_validates(monkeypatch):
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    result = run("scan", "terraform", "terraform-fixtures/public-pacs-export", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert not list(report_validator().iter_errors(report))
    (finding,) = [f for f in report["findings"] if f["policy_id"] == "storage-no-public-read"]
    assert finding["resource"]["source"] == {
        "type": "terraform",
        "address": "aws_s3_bucket.exports",
        "file": "terraform-fixtures/public-pacs-export/main.tf",
        "line_start": 8,
        "line_end": 10,
    }


def test_terraform_broken_file_fails_closed_unless_warned(monkeypatch):
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    args = ("scan", "terraform", "terraform-fixtures/broken-hcl", "--fail-on", "none")
    assert run(*args, "--on-unreadable", "warn").exit_code == 0
    assert run(*args, "--on-unreadable", "warn", "--strict").exit_code == 3
    result = run(*args)
    assert result.exit_code == 3
    assert "ERROR terraform:parse (terraform-fixtures/broken-hcl/broken.tf:3): FileError: does not parse" in (
        result.stdout
    )


def test_terraform_missing_path_is_a_usage_error(tmp_path):
    result = run("scan", "terraform", str(tmp_path / "nope"))
    assert result.exit_code == 2


def test_a_file_that_is_not_a_plan_is_reported(tmp_path):
    not_a_plan = tmp_path / "state.json"
    not_a_plan.write_text('{"format_version": "1.0", "values": {}}')
    result = run("scan", "terraform", "--plan", str(not_a_plan), "--strict", "--format", "json")
    assert result.exit_code == 3
    (error,) = json.loads(result.stdout)["errors"]
    assert "not a plan" in error["message"]


def test_terraform_needs_something_to_scan():
    result = run("scan", "terraform")
    assert result.exit_code == 2
    assert "--plan" in result.output


def test_a_bug_exits_4_not_1(monkeypatch, capsys):
    import cloudscan.cli

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(cloudscan.cli.cli, "main", broken)
    with pytest.raises(SystemExit) as exit_info:
        cloudscan.cli.main()
    assert exit_info.value.code == 4
    assert "internal error" in capsys.readouterr().err


def test_mutes_keep_findings_but_stop_them_failing(tmp_path, monkeypatch):
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    mutes = tmp_path / "mutes.json"
    mutes.write_text(
        json.dumps(
            {
                "mutes": [
                    {
                        "policy": "*",
                        "resource": "*aws_s3_bucket.exports",
                        "reason": "demo bucket, no PHI",
                        "until": "2999-01-01",
                    },
                    {
                        "policy": "*",
                        "resource": "*",
                        "reason": "an expired acceptance",
                        "until": "2020-01-01",
                    },
                ]
            }
        )
    )
    args = ("scan", "terraform", "terraform-fixtures/public-pacs-export", "--mute", str(mutes))
    report = json.loads(run(*args, "--format", "json").stdout)
    statuses = {f["status"] for f in report["findings"]}
    assert "FAIL" not in statuses and "MUTED" in statuses
    muted = [f for f in report["findings"] if f["status"] == "MUTED"]
    assert all(f["suppression"]["reason"] == "demo bucket, no PHI" for f in muted)
    assert not list(report_validator().iter_errors(report))
    assert run(*args).exit_code == 0
    sarif = json.loads(run(*args, "--format", "sarif").stdout)
    from jsonschema import validators

    schema = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0.json").read_text())
    assert not list(validators.validator_for(schema)(schema).iter_errors(sarif))
    suppressed = [r for r in sarif["runs"][0]["results"] if r.get("suppressions")]
    assert suppressed and suppressed[0]["suppressions"][0]["justification"] == "demo bucket, no PHI"


def test_a_file_that_is_no_mute_file_is_a_usage_error(tmp_path):
    mutes = tmp_path / "mutes.json"
    mutes.write_text(json.dumps({"mute": [{"policy": "x", "resource": "y", "reason": "typo of mutes"}]}))
    result = run("scan", "terraform", "terraform-fixtures/public-pacs-export", "--mute", str(mutes))
    assert result.exit_code == 2
    assert f'{mutes}: not a mute file: expected {{"mutes": [...]}}' in result.output


def test_a_malformed_or_expired_mute_entry_mutes_nothing_and_says_why(tmp_path):
    target = "aws_s3_bucket.exports"
    mutes = tmp_path / "mutes.json"
    mutes.write_text(
        json.dumps(
            {
                "mutes": [
                    {"policy": "storage-no-public-read", "resource": target},  # no reason
                    {
                        "policy": "storage-no-public-list",
                        "resource": target,
                        "reason": "reviewed in 2019",
                        "until": "2020-01-01",
                    },
                    {
                        "policy": "storage-tls-required",
                        "resource": target,
                        "reason": "reviewed by SEC",
                        "owner": "imaging-platform",
                        "ticket": "SEC-1234",
                    },
                ]
            }
        )
    )
    report = tmp_path / "report.json"
    args = ["scan", "terraform", "terraform-fixtures/public-pacs-export", "--mute", str(mutes)]
    result = run(*args, "--format", "json", "-o", str(report))
    assert result.exit_code == 1  # the findings the first two entries meant to mute fail
    document = json.loads(report.read_text())
    assert not list(report_validator().iter_errors(document))
    status = {f["policy_id"]: f for f in document["findings"] if f["resource"]["source"]["address"] == target}
    assert status["storage-no-public-read"]["status"] == "FAIL"
    assert status["storage-no-public-list"]["status"] == "FAIL"
    suppression = status["storage-tls-required"]["suppression"]
    assert (suppression["owner"], suppression["ticket"]) == ("imaging-platform", "SEC-1234")
    said = document["warnings"]
    assert said[0] == f"{mutes}: /mutes/0: 'reason' is a required property: this entry mutes nothing"
    assert said[1].startswith(f"{mutes}: /mutes/1 (storage-no-public-list on {target}) ended on 2020-01-01")
    assert "cloudscan: warning: " + said[1] in result.output


def test_a_registry_module_is_reported_but_does_not_fail_closed(monkeypatch):
    """A module this scan does not fetch is a limit of the scan, not a file nobody read."""
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    result = run("scan", "terraform", "terraform-fixtures/local-modules", "--fail-on", "none")
    assert result.exit_code == 0
    assert "ModuleNotRead" in result.stdout
