"""--config-aggregator: an organisation's bucket settings from one AWS Config aggregator, asked
with the scanner's own credentials, through the real boto3 config client against the local
ConfigFake; the accounts themselves in moto (Organizations, STS, IAM enforced). Judged as the API
scan judges them, with the per-account Config and the recorded S3 calls not made; an aggregator
that cannot answer is said once and each account's own Config answers instead."""

from __future__ import annotations

import json
from collections import Counter

import aws_organization
import aws_world
import pytest
from aws_organization import PRIVATE, PUBLIC_POLICY, PUBLIC_READ, scan
from click.testing import CliRunner
from config_fake import ConfigFake
from judged import statuses_by_name

from cloudscan.cli import cli
from cloudscan.providers.aws.permissions import TABLE
from cloudscan.scan import needed_fields, scan_aws

AGGREGATOR = "org-imaging"
RECORDED_AT = "2026-11-29T04:12:33+00:00"  # config_fake's capture time, as boto3 parses it
# The S3 calls a recorded item answers (inventory.RECORDED_CALLS).
RECORDED = {
    "GetBucketAcl",
    "GetBucketPolicy",
    "GetPublicAccessBlock",
    "GetBucketEncryption",
    "GetBucketVersioning",
    "GetBucketLogging",
    "GetBucketTagging",
}
ORGANIZATION = {
    "management": {"role": "trusts-scanner", "buckets": {"billing-exports": PUBLIC_POLICY}},
    "accounts": {
        "radiology": {"buckets": {"radiology-pacs-exports": PUBLIC_READ, "radiology-archive": PRIVATE}},
        "research": {"buckets": {"research-deidentified": PRIVATE}},
    },
}


@pytest.fixture
def config(monkeypatch):
    with ConfigFake() as fake:
        monkeypatch.setenv("AWS_ENDPOINT_URL_CONFIG_SERVICE", fake.url)
        yield fake


@pytest.fixture
def organization(aws, monkeypatch, config):
    """The organisation, every account's buckets recorded, and the aggregator in us-east-1."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    built = aws_organization.build(ORGANIZATION)
    for account in built.ids.values():
        acting = aws_organization.in_account(aws_world.session(), account)
        config.record(acting, [b["Name"] for b in acting.client("s3").list_buckets()["Buckets"]])
    config.aggregators[AGGREGATOR] = aws_world.REGION
    return built


def buckets_of(result) -> dict[str, dict]:
    return {d["name"]: d for d in result.resources if d["kind"] == "storage.bucket"}


def test_an_organisations_buckets_come_from_its_aggregator(organization, config, guard, builtin_policies):
    live = scan(organization, guard, builtin_policies)
    guard.calls.clear()

    recorded = scan(
        organization, guard, builtin_policies, settings_source="inventory", aggregator=(AGGREGATOR, None)
    )

    assert recorded.errors == [] and recorded.warnings == []
    assert statuses_by_name(recorded) == statuses_by_name(live)
    assert statuses_by_name(recorded)["radiology-pacs-exports"]["storage-no-public-list"] == "FAIL"
    made = {name for service, name in guard.calls if service in ("s3", "config")}
    assert not RECORDED & made and "BatchGetResourceConfig" not in made, made
    # One call an account (each has fewer than a hundred buckets), all as the scanner itself.
    assert [op for op, _, _ in config.requests] == ["BatchGetAggregateResourceConfig"] * 3
    assert set(config.signers) == {organization.scanner_key["AccessKeyId"]}
    for name, doc in buckets_of(recorded).items():
        assert doc["source"]["type"] == "inventory", name
        assert (doc["source"]["aggregator"], doc["source"]["recorded_at"]) == (AGGREGATOR, RECORDED_AT)
        assert "/access/acl" in doc["source"]["recorded"] and "/object_lock" not in doc["source"]["recorded"]
    assert buckets_of(recorded)["research-deidentified"]["account"] == organization.ids["research"]


def test_an_account_the_aggregator_does_not_hold_is_read_live_and_said(
    organization, config, guard, builtin_policies
):
    research = organization.ids["research"]
    config.items = {key: item for key, item in config.items.items() if item["accountId"] != research}

    result = scan(
        organization, guard, builtin_policies, settings_source="inventory", aggregator=(AGGREGATOR, None)
    )

    assert result.warnings == [
        f"config:BatchGetAggregateResourceConfig: AWS Config aggregator {AGGREGATOR} holds none of the 1 "
        f"buckets of account {research} in us-east-1; they are read through the API"
    ]
    assert buckets_of(result)["research-deidentified"]["source"] == {"type": "live"}
    assert buckets_of(result)["radiology-archive"]["source"]["aggregator"] == AGGREGATOR
    assert "BatchGetResourceConfig" not in {op for op, _, _ in config.requests}


def test_a_denied_aggregator_is_said_once_and_each_account_reads_its_own_config(
    organization, config, guard, builtin_policies
):
    denied = ("AccessDeniedException", "not a delegated administrator")
    config.refuse["BatchGetAggregateResourceConfig"] = denied

    result = scan(
        organization, guard, builtin_policies, settings_source="inventory", aggregator=(AGGREGATOR, None)
    )

    assert result.errors == []
    assert result.warnings == [
        f"config:BatchGetAggregateResourceConfig: AWS Config aggregator {AGGREGATOR} in us-east-1 cannot "
        "answer (AccessDeniedException: not a delegated administrator); each account's buckets are read "
        "from its own Config, or through the API"
    ]
    asked = Counter(op for op, _, _ in config.requests)
    assert asked == {"BatchGetAggregateResourceConfig": 1, "BatchGetResourceConfig": 3}
    signed = zip(config.requests, config.signers, strict=True)
    own = [key for (op, _, _), key in signed if op == "BatchGetResourceConfig"]
    assert organization.scanner_key["AccessKeyId"] not in own  # each member's own credentials
    assert all(doc["source"]["type"] == "inventory" for doc in buckets_of(result).values())
    assert all("aggregator" not in doc["source"] for doc in buckets_of(result).values())
    assert statuses_by_name(result)["radiology-pacs-exports"]["storage-no-public-list"] == "FAIL"


def test_an_aggregator_that_fails_after_answering_fails_only_for_the_accounts_it_fails(
    organization, config, guard, builtin_policies
):
    config.aggregate_calls_allowed = 1

    result = scan(
        organization,
        guard,
        builtin_policies,
        settings_source="inventory",
        aggregator=(AGGREGATOR, None),
        account_concurrency=1,
    )

    assert result.errors == [] and len(result.warnings) == 2
    assert all("(AccessDeniedException: delegation revoked)" in w for w in result.warnings)
    assert Counter(op for op, _, _ in config.requests) == {
        "BatchGetAggregateResourceConfig": 3,
        "BatchGetResourceConfig": 2,
    }
    sources = Counter("aggregator" in doc["source"] for doc in buckets_of(result).values())
    assert sources[True] >= 1 and sources[False] >= 1
    assert statuses_by_name(result)["radiology-pacs-exports"]["storage-no-public-list"] == "FAIL"


def test_an_aggregator_that_does_not_exist_falls_back_silently_under_auto(
    organization, config, guard, builtin_policies
):
    result = scan(organization, guard, builtin_policies, settings_source="auto", aggregator=("typo", None))

    assert result.errors == [] and result.warnings == []
    assert Counter(op for op, _, _ in config.requests) == {
        "BatchGetAggregateResourceConfig": 1,
        "BatchGetResourceConfig": 3,
    }
    assert statuses_by_name(result)["billing-exports"]["storage-no-public-read"] == "FAIL"


def test_batches_of_a_hundred_and_identifiers_left_unprocessed_are_asked_again(
    guard, config, builtin_policies
):
    aws_world.build({"buckets": {f"study-{i:03d}": {} for i in range(150)}})
    names = [b["Name"] for b in aws_world.session().client("s3").list_buckets()["Buckets"]]
    config.record(aws_world.session(), names)
    config.aggregators[AGGREGATOR] = "eu-west-1"
    config.aggregate_batch = 60  # Config gets through 60 identifiers a call, and says which not
    policies = [p for p in builtin_policies if p.id == "storage-no-public-read"]

    result = scan_aws(
        guard.session(),
        policies,
        regions=(aws_world.REGION,),
        source="inventory",
        aggregator=(AGGREGATOR, "eu-west-1"),
    )

    assert result.errors == [] and result.warnings == []
    assert config.requests == [
        ("BatchGetAggregateResourceConfig", "eu-west-1", 100),
        ("BatchGetAggregateResourceConfig", "eu-west-1", 40),
        ("BatchGetAggregateResourceConfig", "eu-west-1", 50),
    ]
    sources = Counter(doc["source"].get("aggregator") for doc in buckets_of(result).values())
    assert sources == {AGGREGATOR: 150}
    made = {f"{service}:{name}" for service, name in guard.calls}
    assert made <= set(TABLE.calls_for(needed_fields(policies)))


def test_cli_takes_the_aggregator_and_checks_its_options(aws, config, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    aws_world.build({"buckets": {"pacs-exports": {"acl": "public-read"}}})
    config.record(aws_world.session(), ["pacs-exports"])
    config.aggregators[AGGREGATOR] = "eu-central-1"  # the credentials' region, by default
    report = tmp_path / "report.json"
    base = ["scan", "aws", "--region", "us-east-1", "--sample", "0", "--format", "json", "-o", str(report)]

    outcome = CliRunner().invoke(cli, [*base, "--source", "inventory", "--config-aggregator", AGGREGATOR])

    assert outcome.exit_code == 1, outcome.output
    [bucket] = [r for r in json.loads(report.read_text())["resources"] if r["kind"] == "storage.bucket"]
    assert bucket["source"]["aggregator"] == AGGREGATOR
    for args, said in [
        (["--config-aggregator", AGGREGATOR], "--config-aggregator needs --source inventory or auto"),
        (["--source", "auto", "--config-aggregator", "no spaces"], "letters, digits, _ and - only"),
        (["--config-aggregator-region", "eu-west-1"], "--config-aggregator-region needs --config-aggregator"),
        (
            ["--source", "auto", "--config-aggregator", AGGREGATOR, "--config-aggregator-region", "mars"],
            "not an AWS region name",
        ),
    ]:
        refused = CliRunner().invoke(cli, [*base, *args])
        assert refused.exit_code == 2 and said in refused.output, (args, refused.output)


def test_cli_reads_an_organisation_from_its_aggregator(organization, config, monkeypatch, tmp_path):
    from moto.core import enable_iam_authentication

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", organization.scanner_key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", organization.scanner_key["SecretAccessKey"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", aws_world.REGION)
    monkeypatch.setenv("CLOUDSCAN_AWS_EXTERNAL_ID", aws_organization.EXTERNAL_ID)
    report = tmp_path / "org.json"
    args = ["scan", "aws", "--organization", "--role-name", aws_organization.ROLE, "--region", "us-east-1"]
    args += ["--sample", "0", "--source", "inventory", "--config-aggregator", AGGREGATOR]

    with enable_iam_authentication():
        outcome = CliRunner().invoke(cli, [*args, "--format", "json", "-o", str(report)])

    assert outcome.exit_code == 1, outcome.output
    document = json.loads(report.read_text())
    assert document["errors"] == []
    buckets = [r for r in document["resources"] if r["kind"] == "storage.bucket"]
    assert len(buckets) == 4 and all(b["source"]["aggregator"] == AGGREGATOR for b in buckets)
    assert set(config.signers) == {organization.scanner_key["AccessKeyId"]}


def test_least_privilege_adds_the_aggregator_call_only_with_the_option():
    def actions(*args: str) -> set[str]:
        outcome = CliRunner().invoke(cli, ["permissions", "aws", *args])
        assert outcome.exit_code == 0, outcome.output
        return set(json.loads(outcome.output)["Statement"][0]["Action"])

    with_aggregator = actions("--source", "inventory", "--config-aggregator", AGGREGATOR)
    assert {"config:BatchGetAggregateResourceConfig", "config:BatchGetResourceConfig"} <= with_aggregator
    assert "config:BatchGetAggregateResourceConfig" not in actions("--source", "inventory")
    refused = CliRunner().invoke(cli, ["permissions", "aws", "--config-aggregator", AGGREGATOR])
    assert refused.exit_code == 2
