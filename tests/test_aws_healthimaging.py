"""AWS HealthImaging data stores as dicom.store documents: the real boto3 `medical-imaging`
client against a local server speaking its routes (tests/healthimaging_fake.py), and the
buckets import jobs read from and write to in moto.

A store takes no resource policy, so its studies are as open as the buckets they were imported
from: a public import bucket fails dicom-store-no-public-access with a reason naming the
bucket, a private one passes, a bucket the scan did not read leaves the store UNKNOWN."""

from __future__ import annotations

import json
import time

import aws_world
import pytest
from click.testing import CliRunner
from healthimaging_fake import HealthImagingFake, Job, Store
from jsonschema import Draft202012Validator
from judged import statuses_by_name
from loopback_server import LoopbackServer

from cloudscan.cli import cli
from cloudscan.model import load_schema, schema_registry
from cloudscan.policyset import load_policies, select
from cloudscan.providers.aws import healthimaging
from cloudscan.scan import scan_aws

PUBLIC_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::BUCKET/*"}
    ],
}
NO_PUBLIC = "dicom-store-no-public-access"
KEY = "arn:aws:kms:us-east-1:123456789012:key/0b6e1d2c-1111-4222-8333-944445555666"


@pytest.fixture
def healthimaging_api(monkeypatch):
    """The HealthImaging server, where boto3's medical-imaging clients send their requests."""
    with HealthImagingFake() as fake:
        monkeypatch.setenv("AWS_ENDPOINT_URL_MEDICAL_IMAGING", fake.url)
        yield fake
    assert not fake.writes, f"the scan sent HealthImaging requests that are not reads: {fake.writes}"


def scan(guard, policies, regions=(aws_world.REGION,)):
    return scan_aws(guard.session(), policies, regions=regions)


def stores_of(result):
    return {r["name"]: r for r in result.resources if r["kind"] == "dicom.store"}


def test_a_store_imported_from_a_public_bucket_fails_and_one_from_a_private_bucket_passes(
    guard, healthimaging_api, builtin_policies
):
    aws_world.build(
        {
            "buckets": {
                "scanner-inbox": {"policy": PUBLIC_READ},
                "import-results": {},
                "research-inbox": {"block_public_access": True},
            }
        }
    )
    healthimaging_api.add(Store("radiology", jobs=[Job("scanner-inbox", "import-results")]))
    healthimaging_api.add(Store("research", jobs=[Job("research-inbox", "research-inbox")]))

    result = scan(guard, builtin_policies)

    found = statuses_by_name(result)
    assert found["radiology"][NO_PUBLIC] == "FAIL"
    assert found["research"][NO_PUBLIC] == "PASS"
    stores = stores_of(result)
    radiology = stores["radiology"]
    assert radiology["id"].startswith("arn:aws:medical-imaging:us-east-1:123456789012:datastore/")
    assert [(c["target"], c["role"]) for c in radiology["copies"]] == [
        ("arn:aws:s3:::import-results", "the bucket its import jobs write results to"),
        ("arn:aws:s3:::scanner-inbox", "the bucket its import jobs read studies from"),
    ]
    [reason] = [r for r in radiology["exposure"]["reasons"]["public_read"] if r["effective"]]
    assert reason["origin"] == "copies: arn:aws:s3:::scanner-inbox"
    assert reason["detail"].startswith("the bucket its import jobs read studies from is readable by anyone")
    [finding] = [f for f in result.findings if f["policy_id"] == NO_PUBLIC and f["status"] == "FAIL"]
    assert "arn:aws:s3:::scanner-inbox" in json.dumps(finding["evidence"])
    # Not public by itself: no resource policy, and only signed requests get in; it says so.
    research = stores["research"]["exposure"]
    assert research["public_read"] is False and research["public_write"] is False
    said = [r["detail"] for r in research["reasons"]["all_authenticated_read"]]
    assert any("no policy on the store" in d and "SigV4-signed" in d for d in said), said
    assert result.errors == []


def test_the_key_a_store_is_encrypted_with_is_read_when_a_policy_asks(guard, healthimaging_api, tmp_path):
    (tmp_path / "cmk.json").write_text(json.dumps(CMK_POLICY))
    policies = select(load_policies([tmp_path]), ["dicom-store-customer-key"])
    healthimaging_api.add(Store("cmk", kms_key=KEY, tags={"DataClassification": "PHI"}))
    healthimaging_api.add(Store("aws-owned"))

    result = scan(guard, policies)

    stores = stores_of(result)
    assert stores["cmk"]["encryption"] == {"customer_managed_key": True, "kms_key": KEY}
    assert stores["aws-owned"]["encryption"] == {"customer_managed_key": False, "kms_key": None}
    assert stores["cmk"]["labels"] == {"DataClassification": "PHI"}
    assert stores["cmk"]["status"] == "ACTIVE"
    assert statuses_by_name(result) == {
        "cmk": {"dicom-store-customer-key": "PASS"},
        "aws-owned": {"dicom-store-customer-key": "FAIL"},
    }
    # Neither access nor import jobs were needed for that: not read.
    assert {op for op, _ in healthimaging_api.requests} == {
        "ListDatastores",
        "GetDatastore",
        "ListTagsForResource",
    }


def test_a_denied_read_of_a_store_is_unknown_and_a_denied_region_is_an_error_naming_it(
    guard, healthimaging_api, builtin_policies
):
    aws_world.build({"buckets": {"inbox": {}}})
    healthimaging_api.add(Store("no-properties", jobs=[Job("inbox", "inbox")]))
    healthimaging_api.add(Store("no-jobs", jobs=[Job("inbox", "inbox")]))
    healthimaging_api.add(Store("no-job", jobs=[Job("inbox", "inbox")]))
    healthimaging_api.add(Store("readable", region="eu-west-1", jobs=[Job("inbox", "inbox")]))
    healthimaging_api.fail[("GetDatastore", "no-properties")] = (403, "AccessDeniedException")
    healthimaging_api.fail[("ListDICOMImportJobs", "no-jobs")] = (403, "AccessDeniedException")
    healthimaging_api.fail[("GetDICOMImportJob", "no-job")] = (404, "ResourceNotFoundException")
    healthimaging_api.fail[("ListDatastores", "us-west-2")] = (403, "AccessDeniedException")

    result = scan(guard, builtin_policies, regions=("us-east-1", "us-west-2", "eu-west-1"))

    found = statuses_by_name(result)
    for name in ("no-properties", "no-jobs", "no-job"):
        assert found[name][NO_PUBLIC] == "UNKNOWN", name
    assert found["readable"][NO_PUBLIC] == "PASS"
    stores = stores_of(result)
    [error] = stores["no-jobs"]["_meta"]["errors"]
    assert (error["call"], error["code"]) == ("medical-imaging:ListDICOMImportJobs", "AccessDeniedException")
    assert stores["no-jobs"]["copies"] is None
    [denied] = result.errors
    assert denied["call"] == "medical-imaging:ListDatastores" and denied["code"] == "AccessDeniedException"
    assert "us-west-2" in denied["message"] and denied["resource"] == "region us-west-2"


def test_an_import_bucket_the_scan_did_not_read_leaves_the_store_unknown(
    guard, healthimaging_api, builtin_policies
):
    """Studies imported from another account's bucket: its exposure is not known here."""
    healthimaging_api.add(Store("partner-feed", jobs=[Job("partner-outbox", "partner-outbox")]))

    result = scan(guard, builtin_policies)

    assert statuses_by_name(result)["partner-feed"][NO_PUBLIC] == "UNKNOWN"
    error = next(
        e for e in stores_of(result)["partner-feed"]["_meta"]["errors"] if e["code"] == "StorageNotRead"
    )
    assert "arn:aws:s3:::partner-outbox" in error["message"]


def test_a_lambda_authorizer_leaves_who_reaches_the_store_unknown(guard, healthimaging_api, builtin_policies):
    authorizer = "arn:aws:lambda:us-east-1:123456789012:function:oidc-check"
    healthimaging_api.add(Store("oidc", lambda_authorizer=authorizer))

    result = scan(guard, builtin_policies)

    assert statuses_by_name(result)["oidc"][NO_PUBLIC] == "UNKNOWN"
    [error] = stores_of(result)["oidc"]["_meta"]["errors"]
    assert error["code"] == "LambdaAuthorizer" and authorizer in error["message"]


def test_only_the_most_recent_import_jobs_are_read(guard, healthimaging_api, builtin_policies):
    aws_world.build({"buckets": {"old-inbox": {"policy": PUBLIC_READ}, "inbox": {}}})
    jobs = [Job("old-inbox", "inbox", submitted_at=1_700_000_000.0 + i) for i in range(10)]
    jobs += [Job("inbox", "inbox", submitted_at=1_790_000_000.0 + i) for i in range(60)]
    healthimaging_api.add(Store("busy", jobs=jobs))

    result = scan(guard, builtin_policies)

    asked = [op for op, _ in healthimaging_api.requests]
    assert asked.count("ListDICOMImportJobs") == 2  # 70 jobs, 50 a page
    assert asked.count("GetDICOMImportJob") == healthimaging.RECENT_IMPORT_JOBS
    assert [c["target"] for c in stores_of(result)["busy"]["copies"]] == ["arn:aws:s3:::inbox"]


def test_no_healthimaging_call_without_a_dicom_store_policy(guard, healthimaging_api, builtin_policies):
    healthimaging_api.add(Store("radiology"))

    result = scan(guard, select(builtin_policies, ["storage-*", "network-*"]))

    assert healthimaging_api.requests == []
    assert stores_of(result) == {}


def test_without_a_region_only_the_regions_healthimaging_is_offered_in_are_asked(
    guard, healthimaging_api, builtin_policies
):
    guard.answers[("ec2", "DescribeRegions")] = [{"Regions": [{"RegionName": "us-east-1"}]}]
    healthimaging_api.add(Store("sydney", region="ap-southeast-2"))

    result = scan(guard, select(builtin_policies, [NO_PUBLIC]), regions=())

    assert sorted({region for _, region in healthimaging_api.requests}) == sorted(
        healthimaging.OFFERED_REGIONS
    )
    assert statuses_by_name(result)["sydney"][NO_PUBLIC] == "PASS"


def test_an_endpoint_without_healthimaging_is_a_warning_not_a_failure(guard, builtin_policies, monkeypatch):
    """moto has no HealthImaging: its 404 says the service is not offered at that endpoint."""
    monkeypatch.delenv("AWS_ENDPOINT_URL_MEDICAL_IMAGING")

    result = scan(guard, builtin_policies)

    assert result.errors == []
    [warning] = [w for w in result.warnings if "HealthImaging" in w]
    assert "us-east-1" in warning
    assert stores_of(result) == {}


CMK_POLICY = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "x-cloudscan": {
        "id": "dicom-store-customer-key",
        "title": "DICOM store studies are encrypted with a key the organisation manages",
        "severity": "low",
        "category": "data-protection",
        "applies_to": {"kind": "dicom.store"},
        "description": "A test policy: a key of one's own can be revoked and its use audited.",
        "remediation": {"text": "Create the data store with a customer managed KMS key."},
        "compliance": {"hipaa": ["164.312(a)(2)(iv)"]},
        "references": ["https://docs.aws.amazon.com/healthimaging/latest/devguide/data-encryption.html"],
    },
    "type": "object",
    "required": ["encryption", "labels"],
    "properties": {
        "encryption": {"type": "object", "properties": {"customer_managed_key": {"const": True}}},
        "labels": {"type": "object"},
    },
}


def test_the_command_line_reports_a_store_and_its_public_import_bucket(aws, healthimaging_api):
    aws_world.build({"buckets": {"scanner-inbox": {"policy": PUBLIC_READ}}})
    healthimaging_api.add(Store("radiology", kms_key=KEY, jobs=[Job("scanner-inbox", "scanner-inbox")]))

    result = CliRunner().invoke(
        cli, ["scan", "aws", "--region", "us-east-1", "--only", "dicom-store-*", "--format", "json"]
    )

    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    registry = schema_registry()
    assert not list(Draft202012Validator(load_schema("report"), registry=registry).iter_errors(report))
    [store] = [r for r in report["resources"] if r["kind"] == "dicom.store"]
    assert Draft202012Validator(load_schema("dicom.store"), registry=registry).is_valid(store)
    failed = {(f["policy_id"], f["resource"]["name"]) for f in report["findings"] if f["status"] == "FAIL"}
    assert failed == {(NO_PUBLIC, "radiology")}
    permissions = CliRunner().invoke(cli, ["permissions", "aws", "--only", NO_PUBLIC, "--format", "text"])
    assert "medical-imaging:ListDICOMImportJobs" in permissions.stdout


def test_a_region_healthimaging_is_not_offered_in_is_named_and_not_asked(
    guard, builtin_policies, monkeypatch
):
    """Against AWS itself (no endpoint override) a region without HealthImaging has no endpoint."""
    monkeypatch.delenv("AWS_ENDPOINT_URL_MEDICAL_IMAGING")
    guard.fail[("medical-imaging", "ListDatastores")] = "AccessDeniedException"

    result = scan(guard, select(builtin_policies, [NO_PUBLIC]), regions=("eu-central-1", "us-east-1"))

    assert guard.count("medical-imaging", "ListDatastores") == 1  # us-east-1 only
    [warning] = [w for w in result.warnings if "HealthImaging" in w]
    assert "eu-central-1" in warning and "us-east-1" not in warning
    [denied] = result.errors
    assert denied["resource"] == "region us-east-1"


class NotHealthImaging(LoopbackServer):
    """An endpoint that serves something else, as moto_server does: an HTML 500 for any route."""

    def handle(self, method, path, query, body, headers):
        return 500, {"Content-Type": "text/html"}, b"<title>500 Internal Server Error</title>"


def test_an_endpoint_override_that_does_not_serve_healthimaging_is_a_warning(
    guard, builtin_policies, monkeypatch
):
    with NotHealthImaging() as elsewhere:
        monkeypatch.setenv("AWS_ENDPOINT_URL_MEDICAL_IMAGING", elsewhere.url)
        started = time.monotonic()
        result = scan(guard, select(builtin_policies, [NO_PUBLIC]), regions=("us-east-1", "eu-central-1"))

    assert time.monotonic() - started < 15  # not botocore's eight tries per region
    assert result.errors == []
    [warning] = [w for w in result.warnings if "HealthImaging" in w]
    assert "eu-central-1, us-east-1" in warning
