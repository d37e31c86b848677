"""S3 access points (issue 15, item 3): read once per account and region, named as the origin
of what they open, and UNKNOWN, never PASS, where they cannot be read."""

import json
from pathlib import Path

import aws_world
import pytest

from cloudscan.scan import scan_aws

SCENARIO = json.loads((Path(__file__).parent / "scenarios" / "aws" / "public-access-point.json").read_text())
BUCKET = SCENARIO["spec"]["buckets"]["ct-viewer-origin"]


def scan(guard, policies, **options):
    result = scan_aws(guard.session(), policies, regions=(aws_world.REGION,), **options)
    return result, {r["name"]: r for r in result.resources if r["kind"] == "storage.bucket"}


def statuses(result, name):
    return {
        f["policy_id"]: f["status"] for f in result.findings if f["resource"]["id"] == f"arn:aws:s3:::{name}"
    }


def test_the_access_point_is_named_as_the_origin(guard, builtin_policies):
    aws_world.build(SCENARIO["spec"])
    _, buckets = scan(guard, builtin_policies)
    exposure = buckets["ct-viewer-origin"]["exposure"]
    (reason,) = [r for r in exposure["reasons"]["public_read"] if r["effective"]]
    assert reason["origin"] == "access point viewer Policy.Statement[0]"
    assert "Sid DelegateToAccessPoints" in reason["detail"]


def test_access_points_are_listed_once_per_region_not_per_bucket(guard, builtin_policies):
    # Access point names are unique in an account.
    viewer = BUCKET["access_points"]["viewer"]
    buckets = {f"ct-viewer-{i}": {**BUCKET, "access_points": {f"viewer-{i}": viewer}} for i in range(3)}
    buckets["no-access-point"] = {}
    aws_world.build({"buckets": buckets})
    scan(guard, builtin_policies)
    assert guard.count("s3control", "ListAccessPoints") == 1
    assert guard.count("s3control", "GetAccessPointPolicy") == 3  # one access point per bucket
    assert guard.count("s3control", "GetAccessPoint") == 3  # each has a policy


def test_an_access_point_without_a_policy_costs_one_call(guard, builtin_policies):
    bucket = {**BUCKET, "access_points": {"internal": {}}}
    aws_world.build({"buckets": {"ct-viewer-origin": bucket}})
    _, buckets = scan(guard, builtin_policies)
    assert guard.count("s3control", "GetAccessPoint") == 0
    (point,) = buckets["ct-viewer-origin"]["access"]["access_points"]
    assert point["policy"] == {"present": False, "statement_count": 0}
    assert buckets["ct-viewer-origin"]["exposure"]["public_read"] is False


def test_no_access_point_call_when_no_enabled_policy_needs_exposure(guard, builtin_policies):
    aws_world.build(SCENARIO["spec"])
    scan(guard, [p for p in builtin_policies if p.id == "storage-default-encryption"])
    assert not [c for c in guard.calls if c[0] == "s3control" and "AccessPoint" in c[1]]


def test_a_denied_listing_is_unknown_where_the_bucket_policy_delegates(guard, builtin_policies):
    aws_world.build({"buckets": {"ct-viewer-origin": BUCKET, "plain": {}}})
    guard.fail[("s3control", "ListAccessPoints")] = "AccessDenied"
    result, buckets = scan(guard, builtin_policies)
    assert buckets["ct-viewer-origin"]["exposure"]["public_read"] is None
    assert statuses(result, "ct-viewer-origin")["storage-no-public-read"] == "UNKNOWN"
    assert "/access/access_points" in buckets["ct-viewer-origin"]["_meta"]["unknown"]
    # Without a bucket policy nothing public or foreign passes an access point: still known.
    assert buckets["plain"]["exposure"]["public_read"] is False
    assert statuses(result, "plain")["storage-no-public-read"] == "PASS"


def test_a_listing_that_hands_out_the_same_page_again_is_unknown_not_endless(guard, builtin_policies):
    aws_world.build({"buckets": {"ct-viewer-origin": BUCKET}})
    again = {"AccessPointList": [], "NextToken": "same"}
    guard.answers[("s3control", "ListAccessPoints")] = [dict(again) for _ in range(3)]
    result, buckets = scan(guard, builtin_policies)
    assert guard.count("s3control", "ListAccessPoints") == 2
    assert statuses(result, "ct-viewer-origin")["storage-no-public-read"] == "UNKNOWN"
    assert "/access/access_points" in buckets["ct-viewer-origin"]["_meta"]["unknown"]


def test_a_denied_access_point_policy_is_unknown_not_a_pass(guard, builtin_policies):
    aws_world.build(SCENARIO["spec"])
    guard.fail[("s3control", "GetAccessPointPolicy")] = "AccessDenied"
    result, buckets = scan(guard, builtin_policies)
    bucket = buckets["ct-viewer-origin"]
    assert bucket["exposure"]["public_read"] is None
    assert "/access/access_points/0/policy" in bucket["_meta"]["unknown"]
    assert statuses(result, "ct-viewer-origin")["storage-no-public-read"] == "UNKNOWN"


def test_a_denied_access_point_block_public_access_is_unknown(guard, builtin_policies):
    aws_world.build(SCENARIO["spec"])
    guard.fail[("s3control", "GetAccessPoint")] = "AccessDenied"
    _, buckets = scan(guard, builtin_policies)
    assert buckets["ct-viewer-origin"]["exposure"]["public_read"] is None


MULTI_REGION = json.loads(
    (Path(__file__).parent / "scenarios" / "aws" / "multi-region-access-point.json").read_text()
)


def test_a_multi_region_access_point_is_read_once_for_all_its_buckets(guard, builtin_policies):
    s3control = aws_world.session().client("s3control", region_name="us-west-2")
    bucket = {**MULTI_REGION["spec"]["buckets"]["mammo-global"]}
    point = bucket.pop("multi_region_access_points")["mammo-everywhere"]
    aws_world.build({"buckets": {"mammo-a": bucket, "mammo-b": bucket}})
    s3control.create_multi_region_access_point(
        AccountId=aws_world.ACCOUNT,
        ClientToken="t",
        Details={
            "Name": "mammo-everywhere",
            "PublicAccessBlock": aws_world._bpa(False),
            "Regions": [{"Bucket": "mammo-a"}, {"Bucket": "mammo-b"}],
        },
    )
    s3control.put_multi_region_access_point_policy(
        AccountId=aws_world.ACCOUNT,
        ClientToken="p",
        Details={"Name": "mammo-everywhere", "Policy": json.dumps(point["policy"])},
    )
    _, buckets = scan(guard, builtin_policies)
    assert guard.count("s3control", "ListMultiRegionAccessPoints") == 1
    assert guard.count("s3control", "GetMultiRegionAccessPointPolicy") == 1
    for name in ("mammo-a", "mammo-b"):
        (reason,) = [r for r in buckets[name]["exposure"]["reasons"]["public_read"] if r["effective"]]
        assert reason["origin"] == "Multi-Region Access Point mammo-everywhere Policy.Statement[0]"


def test_a_denied_multi_region_listing_is_unknown_not_a_pass(guard, builtin_policies):
    aws_world.build(MULTI_REGION["spec"])
    guard.fail[("s3control", "ListMultiRegionAccessPoints")] = "AccessDenied"
    result, buckets = scan(guard, builtin_policies)
    assert buckets["mammo-global-guarded"]["exposure"]["public_read"] is None
    assert statuses(result, "mammo-global")["storage-no-public-read"] == "UNKNOWN"


DELEGATING_BUCKET = """
variable "target" {}
resource "aws_s3_bucket" "studies" {
  bucket = "studies"
}
resource "aws_s3_bucket_policy" "delegate" {
  bucket = aws_s3_bucket.studies.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "*" }
      Action    = "*"
      Resource  = ["arn:aws:s3:::studies", "arn:aws:s3:::studies/*"]
      Condition = { StringEquals = { "s3:DataAccessPointAccount" = "123456789012" } }
    }]
  })
}
resource "aws_s3_access_point" "viewer" {
  bucket = BUCKET
  name   = "viewer"
}
"""


@pytest.mark.parametrize(
    ("bucket", "status"), [("aws_s3_bucket.studies.id", "PASS"), ("var.target", "UNKNOWN")]
)
def test_terraform_an_access_point_whose_bucket_cannot_be_told_is_unknown(
    tmp_path, builtin_policies, bucket, status
):
    from cloudscan.scan import scan_terraform

    (tmp_path / "main.tf").write_text(DELEGATING_BUCKET.replace("BUCKET", bucket))
    result = scan_terraform([tmp_path], builtin_policies)
    judged = {f["policy_id"]: f["status"] for f in result.findings if f["resource"]["name"] == "studies"}
    assert judged["storage-no-public-read"] == status
