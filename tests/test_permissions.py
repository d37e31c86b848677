"""`cloudscan permissions`: the command and the permission tables it reads. That the generated
documents hold exactly what scans call is tested per cloud in test_permissions_{aws,gcp,azure}.py."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from cloudscan.cli import cli
from cloudscan.providers.permissions import CLOUDS, Call, Table, least_privilege
from cloudscan.scan import needed_fields

# What a read looks like in each cloud's permission vocabulary
READS = {
    "aws": r"[a-z0-9]+:(Get|List|Describe)[A-Za-z]+",
    "gcp": r"[a-z]+\.[A-Za-z]+\.(list|get|getIamPolicy)",
    "azure": r"Microsoft\.[A-Za-z]+(/[A-Za-z]+)+/(read|getAcl/action)",
}


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_permission_is_a_read_and_the_text_names_each(cloud):
    every = ["--organization"] if cloud == "gcp" else []
    document = json.loads(run("permissions", cloud, *every).stdout)
    listed = {
        "aws": lambda d: d["Statement"][0]["Action"],
        "gcp": lambda d: d["includedPermissions"],
        "azure": lambda d: d["Actions"] + d["DataActions"],
    }[cloud](document)
    assert listed and all(re.fullmatch(READS[cloud], p) for p in listed), listed
    text = run("permissions", cloud, "--format", "text", *every).stdout
    named = {line.split(" ")[0] for line in text.splitlines() if line and not line.startswith((" ", "#"))}
    assert named == set(listed)


def test_a_subset_needs_less():
    every = json.loads(run("permissions", "aws").stdout)["Statement"][0]["Action"]
    network = json.loads(run("permissions", "aws", "--only", "network-*").stdout)["Statement"][0]["Action"]
    assert set(network) < set(every)
    assert not [a for a in network if a.startswith("s3:")]
    assert "sts:GetCallerIdentity" in network


def test_policies_that_read_nothing_of_a_cloud_need_nothing_and_it_is_said():
    result = CliRunner().invoke(cli, ["permissions", "gcp", "--only", "dicomweb-*"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["includedPermissions"] == []
    assert "read nothing of gcp" in result.stderr


def test_the_command_takes_the_scan_s_policy_options(tmp_path):
    custom = tmp_path / "org-logging.json"
    policy = json.loads(run("policies", "show", "storage-access-logging").stdout)
    policy["x-cloudscan"]["id"] = "org-logging"
    custom.write_text(json.dumps(policy))
    result = run("permissions", "aws", "--no-builtin-policies", "--policies", str(custom))
    assert result.exit_code == 0, result.output
    actions = set(json.loads(result.stdout)["Statement"][0]["Action"])
    assert {"s3:GetBucketLogging", "s3:GetBucketTagging"} <= actions
    assert "s3:GetBucketAcl" not in actions


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["aws", "--organization"], "--organization"),
        (["gcp", "--only", "no-such-policy"], "no policy left"),
        (["oracle"], "Invalid value"),
    ],
)
def test_usage_errors_exit_2(args, message):
    result = run("permissions", *args)
    assert result.exit_code == 2 and message in result.output


def test_a_table_must_describe_every_call_it_reads():
    with pytest.raises(ValueError, match="read but not described"):
        Table("test", calls={}, reads={("storage.bucket", "*"): ("s3:ListBuckets",)})
    with pytest.raises(ValueError, match="never read"):
        Table("test", calls={"s3:ListBuckets": Call(("s3:ListAllMyBuckets",))}, reads={})


def test_a_permission_two_calls_need_is_conditional_only_when_both_are():
    table = Table(
        "test",
        calls={
            "list": Call(("p",), option="sample"),
            "get": Call(("p",), option="sample", when="where there is something"),
            "acl": Call(("q",), when="where ACLs apply"),
        },
        reads={("storage.bucket", "objects"): ("list", "get"), ("storage.bucket", "access"): ("acl",)},
    )
    needed = {n.permission: n for n in table.needed({"storage.bucket": frozenset({"objects", "access"})})}
    assert needed["p"].only == ("only with --sample > 0",)
    assert needed["q"].only == ("only where ACLs apply",)
    assert [n.permission for n in table.needed({"storage.bucket": frozenset({"objects"})}, frozenset())] == []


def test_fields_no_policy_reads_need_no_permission():
    needed, _ = least_privilege("azure", needed_fields([]))
    assert [n.permission for n in needed] == ["Microsoft.Resources/subscriptions/read"]
