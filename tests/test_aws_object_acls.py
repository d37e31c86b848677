"""The ACLs of sampled objects (issue 15, item 5): a single public study exposes its bucket; read
only where ACLs still grant, named without the object's key, and unknown when unreadable."""

import json

import aws_world

from cloudscan.providers.sampling import Sampling
from cloudscan.scan import scan_aws

KEY = "Doe^Jane/1.2.840.113619.2.55.3.2.dcm"  # a key that carries a patient's name


def build(**bucket):
    aws_world.build(
        {"buckets": {"uploads": {"encryption": "AES256", "objects": {KEY: {"acl": "public-read"}}, **bucket}}}
    )


def scan(guard, policies, **options):
    result = scan_aws(guard.session(), policies, regions=(aws_world.REGION,), **options)
    (bucket,) = [r for r in result.resources if r["name"] == "uploads"]
    return result, bucket


def test_a_public_object_makes_its_bucket_public_without_naming_it(guard, builtin_policies):
    build(ownership="ObjectWriter")
    result, bucket = scan(guard, builtin_policies)
    assert bucket["exposure"]["public_read"] is True
    assert bucket["access"]["object_acls"] == {"read": 1, "grant_count": 1}
    (reason,) = [r for r in bucket["exposure"]["reasons"]["public_read"] if r["effective"]]
    assert reason["origin"].startswith("ACL of sampled object 1 of 1 (")
    assert guard.count("s3", "GetObjectAcl") == 1
    assert "Doe" not in json.dumps(result.resources) + json.dumps(result.findings)


def test_authenticated_users_read_is_its_own_fact(guard, builtin_policies):
    aws_world.build(
        {
            "buckets": {
                "uploads": {"objects": {KEY: {"acl": "authenticated-read"}}, "ownership": "ObjectWriter"}
            }
        }
    )
    _, bucket = scan(guard, builtin_policies)
    assert bucket["exposure"]["all_authenticated_read"] is True
    assert bucket["exposure"]["public_read"] is False


def test_no_object_acl_is_read_where_acls_are_disabled_or_ignored(guard, builtin_policies):
    build(ownership="BucketOwnerEnforced")
    _, bucket = scan(guard, builtin_policies)
    assert guard.count("s3", "GetObjectAcl") == 0
    assert bucket["exposure"]["public_read"] is False and bucket["access"]["object_acls"] is None


def test_account_ignore_public_acls_spares_the_calls(guard, builtin_policies):
    aws_world.build({"account_block_public_access": {"IgnorePublicAcls": True}})
    build(ownership="ObjectWriter")
    _, bucket = scan(guard, builtin_policies)
    assert guard.count("s3", "GetObjectAcl") == 0
    assert bucket["exposure"]["public_read"] is False


def test_no_call_when_no_enabled_policy_needs_exposure(guard, builtin_policies):
    build(ownership="ObjectWriter")
    only_encryption = [p for p in builtin_policies if p.id == "storage-default-encryption"]
    scan(guard, only_encryption)
    assert guard.count("s3", "GetObjectAcl") == 0


def test_the_sample_bounds_the_calls(guard, builtin_policies):
    aws_world.build(
        {
            "buckets": {
                "uploads": {
                    "ownership": "ObjectWriter",
                    "objects": {f"1.2.3.{i}.dcm": {} for i in range(6)},
                }
            }
        }
    )
    scan(guard, builtin_policies, sampling=Sampling(size=2))
    assert guard.count("s3", "GetObjectAcl") == 2


def test_an_unreadable_object_acl_is_unknown_and_names_no_object(guard, builtin_policies):
    build(ownership="ObjectWriter")
    guard.fail[("s3", "GetObjectAcl")] = "AccessDenied"
    result, bucket = scan(guard, builtin_policies)
    assert bucket["exposure"]["public_read"] is None
    assert "/access/object_acls" in bucket["_meta"]["unknown"]
    statuses = {
        f["policy_id"]: f["status"] for f in result.findings if f["resource"]["id"].endswith("uploads")
    }
    assert statuses["storage-no-public-read"] == "UNKNOWN"
    assert "Doe" not in json.dumps(bucket["_meta"]["errors"])
