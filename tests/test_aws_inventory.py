"""--source inventory: bucket settings from AWS Config's recordings, through the real boto3 config
client against the local ConfigFake, the rest from S3 in moto. Every AWS scenario is judged alike
whichever source answered, with the recorded calls not made live."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import aws_world
import pytest
from config_fake import ConfigFake
from judged import statuses_by_name

from cloudscan.scan import scan_aws

SCENARIOS = sorted((Path(__file__).parent / "scenarios" / "aws").glob("*.json"))
RECORDED_AT = "2026-11-29T04:12:33+00:00"  # config_fake's capture time, as boto3 parses it
RECORDED = {
    "GetBucketAcl",
    "GetBucketPolicy",
    "GetPublicAccessBlock",
    "GetBucketEncryption",
    "GetBucketVersioning",
    "GetBucketLogging",
    "GetBucketTagging",
}


@pytest.fixture
def config(monkeypatch):
    with ConfigFake() as fake:
        monkeypatch.setenv("AWS_ENDPOINT_URL_CONFIG_SERVICE", fake.url)
        yield fake


def buckets() -> list[str]:
    return [b["Name"] for b in aws_world.session().client("s3").list_buckets()["Buckets"]]


def scan(guard, policies, source, **kwargs):
    return scan_aws(guard.session(), policies, regions=(aws_world.REGION,), source=source, **kwargs)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_each_scenario_is_judged_alike_from_the_recordings(path, guard, config, builtin_policies):
    scenario = json.loads(path.read_text())
    aws_world.build(scenario["spec"])
    config.record(aws_world.session(), buckets())
    trusted = scenario.get("trusted_accounts", ())

    live = scan(guard, builtin_policies, "api", trusted_accounts=trusted)
    live_calls = Counter(name for service, name in guard.calls if service == "s3")
    guard.calls.clear()
    recorded = scan(guard, builtin_policies, "inventory", trusted_accounts=trusted)

    assert recorded.errors == [] and recorded.warnings == []
    assert statuses_by_name(recorded) == statuses_by_name(live)
    made = Counter(name for service, name in guard.calls if service in ("s3", "config"))
    if buckets():
        assert made["BatchGetResourceConfig"] == 1 and not RECORDED & set(made)
        assert sum(live_calls[c] for c in RECORDED) == len(RECORDED) * len(buckets())
    for doc in recorded.resources:
        if doc["kind"] == "storage.bucket":
            assert doc["source"]["type"] == "inventory" and doc["source"]["recorded_at"] == RECORDED_AT


def test_a_region_whose_config_cannot_answer_is_read_through_the_api(guard, config, builtin_policies):
    aws_world.build({"buckets": {"pacs-exports": {"acl": "public-read"}}})
    config.refuse[aws_world.REGION] = ("NoAvailableConfigurationRecorderException", "no recorder")

    result = scan(guard, builtin_policies, "inventory")
    quiet = scan(guard, builtin_policies, "auto")

    assert result.errors == []
    assert result.warnings == [
        "config:BatchGetResourceConfig: AWS Config in us-east-1 cannot answer "
        "(NoAvailableConfigurationRecorderException: no recorder); its buckets are read through the API"
    ]
    assert quiet.warnings == []
    assert statuses_by_name(result)["pacs-exports"]["storage-no-public-list"] == "FAIL"
    assert [d["source"] for d in result.resources if d["kind"] == "storage.bucket"] == [{"type": "live"}]


def test_buckets_config_has_not_recorded_are_read_live(guard, config, builtin_policies):
    aws_world.build({"buckets": {"recorded": {}, "made-after-the-recording": {"acl": "public-read"}}})
    config.record(aws_world.session(), ["recorded"])

    result = scan(guard, builtin_policies, "inventory")

    sources = {
        d["name"]: (d.get("source") or {}).get("type")
        for d in result.resources
        if d["kind"] == "storage.bucket"
    }
    assert sources == {"recorded": "inventory", "made-after-the-recording": "live"}
    assert statuses_by_name(result)["made-after-the-recording"]["storage-no-public-list"] == "FAIL"
    assert config.requests == [("BatchGetResourceConfig", "us-east-1", 2)]


def test_a_recording_that_cannot_be_read_leaves_its_fields_unknown(guard, config, builtin_policies):
    aws_world.build({"buckets": {"odd": {}, "garbled": {}}})
    config.record(aws_world.session(), ["odd", "garbled"])
    odd = config.items["us-east-1", "odd"]["supplementaryConfiguration"]
    odd["AccessControlList"] = json.dumps(
        json.dumps({"grantList": [{"grantee": "Everyone", "permission": "Read"}]})
    )
    config.items["us-east-1", "garbled"]["supplementaryConfiguration"]["BucketPolicy"] = "{not json"

    found = statuses_by_name(scan(guard, builtin_policies, "inventory"))

    assert found["odd"]["storage-no-public-read"] == "UNKNOWN"  # an unknown grantee could be anyone
    assert found["garbled"]["storage-no-public-read"] == "UNKNOWN"


def test_a_hundred_and_one_buckets_take_two_requests_per_region(guard, config, builtin_policies):
    aws_world.build({"buckets": {f"study-{i:03d}": {} for i in range(101)}})
    config.record(aws_world.session(), buckets())

    result = scan(guard, [p for p in builtin_policies if p.id == "storage-no-public-read"], "inventory")

    assert result.errors == []
    assert [keys for _, _, keys in config.requests] == [100, 1]


def test_cli_reads_from_config_and_says_when_it_was_recorded(aws, config, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from cloudscan.cli import cli

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws_world.build({"buckets": {"pacs-exports": {"acl": "public-read"}}})
    config.record(aws_world.session(), ["pacs-exports"])
    report = tmp_path / "report.json"

    args = ["scan", "aws", "--region", "us-east-1", "--sample", "0", "--source", "inventory"]
    outcome = CliRunner().invoke(cli, [*args, "--format", "json", "-o", str(report)])

    assert outcome.exit_code == 1, outcome.output
    document = json.loads(report.read_text())
    [bucket] = [r for r in document["resources"] if r["kind"] == "storage.bucket"]
    assert bucket["source"]["recorded_at"] == RECORDED_AT
    assert "/access/acl" in bucket["source"]["recorded"] and "/objects" not in bucket["source"]["recorded"]


def test_least_privilege_adds_what_the_inventory_sources_need():
    from click.testing import CliRunner

    from cloudscan.cli import cli

    def actions(*args: str) -> set[str]:
        outcome = CliRunner().invoke(cli, ["permissions", *args])
        assert outcome.exit_code == 0, outcome.output
        document = json.loads(outcome.output[outcome.output.index("{") :])
        return (
            set(document["Statement"][0]["Action"])
            if "Statement" in document
            else set(document["includedPermissions"])
        )

    assert "config:BatchGetResourceConfig" in actions("aws", "--source", "inventory")
    assert "config:BatchGetResourceConfig" not in actions("aws")
    assert "cloudasset.assets.listIamPolicy" in actions("gcp", "--source", "auto")
    assert "cloudasset.assets.listIamPolicy" not in actions("gcp")
