"""What a scan does when AWS says no: the field is unknown, the result says which call failed,
and the rest of the account is still scanned. Nothing unreadable ever passes."""

import aws_world
import pytest

from cloudscan.scan import scan_aws

WORLD = {
    "buckets": {
        "pacs-public": {
            "acl": "public-read",
            "policy": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::BUCKET/*",
                    }
                ],
            },
        },
        "pacs-private": {"block_public_access": True, "encryption": "aws:kms", "versioning": True},
    },
    "security_groups": {
        "orthanc": {"ingress": [{"protocol": "tcp", "from": 4242, "to": 4242, "cidr": "0.0.0.0/0"}]},
        "partner-access": {
            "ingress": [
                {"protocol": "tcp", "from": 104, "to": 104, "prefix_list": ["203.0.113.0/24"]},
                {"protocol": "tcp", "from": 22, "to": 22, "prefix_list": ["203.0.113.0/24"]},
            ]
        },
    },
}
EXPOSURE = [
    "storage-no-public-read",
    "storage-no-public-list",
    "storage-no-public-write",
    "storage-no-all-authenticated-users",
    "storage-no-untrusted-cross-account",
]

# call that fails -> policies that must turn UNKNOWN on pacs-public (all others keep their status)
CASES = {
    ("s3", "GetBucketAcl"): [
        "storage-no-public-list",
        "storage-no-public-write",
        "storage-no-all-authenticated-users",
        "storage-no-untrusted-cross-account",
    ],
    ("s3", "GetBucketPolicy"): [
        "storage-no-public-read",
        "storage-no-public-write",
        "storage-no-all-authenticated-users",
        "storage-no-untrusted-cross-account",
        "storage-tls-required",
    ],
    ("s3", "GetBucketOwnershipControls"): ["storage-no-public-list"],
    ("s3", "GetPublicAccessBlock"): [
        "aws-s3-bucket-block-public-access",
        "storage-no-public-read",
        "storage-no-public-list",
    ],
    ("s3control", "GetPublicAccessBlock"): ["storage-no-public-read", "storage-no-public-list"],
    ("s3", "GetBucketEncryption"): ["storage-default-encryption", "aws-s3-kms-encryption"],
    ("s3", "GetBucketVersioning"): ["storage-versioning-enabled"],
    ("s3", "GetObjectLockConfiguration"): ["storage-object-lock-enabled"],
    ("s3", "GetBucketLogging"): ["storage-access-logging"],
    ("s3", "GetBucketLocation"): [],
    ("ec2", "DescribeNetworkInterfaces"): [],
}


def statuses(result, name):
    ids = {r["id"] for r in result.resources if r["name"] == name}
    return {f["policy_id"]: f for f in result.findings if f["resource"]["id"] in ids}


def scan(guard, policies):
    aws_world.build(WORLD)
    return scan_aws(guard.session(), policies, regions=(aws_world.REGION,))


@pytest.fixture
def baseline(guard, builtin_policies):
    result = scan(guard, builtin_policies)
    return {p: f["status"] for p, f in statuses(result, "pacs-public").items()}


@pytest.mark.parametrize("call", CASES, ids=[f"{s}:{o}" for s, o in CASES])
def test_access_denied_makes_dependent_results_unknown(call, guard, builtin_policies):
    guard.fail[call] = "AccessDenied"
    result = scan(guard, builtin_policies)

    public = statuses(result, "pacs-public")
    unknown = sorted(p for p, f in public.items() if f["status"] == "UNKNOWN")
    assert unknown == sorted(CASES[call])
    for policy in CASES[call]:
        messages = " ".join(e["message"] for e in public[policy]["evidence"])
        assert f"{call[0]}:{call[1]} AccessDenied" in messages
    # The rest of the account is still read: the private bucket and the security group.
    scanned = {r["name"] for r in result.resources}
    assert scanned >= {"pacs-public", "pacs-private", "orthanc tcp/4242-4242/0.0.0.0/0"}
    errors = [e for r in result.resources for e in r["_meta"]["errors"]]
    assert any(e["call"] == f"{call[0]}:{call[1]}" and e["code"] == "AccessDenied" for e in errors)


def test_denied_account_settings_are_one_unknown_finding_for_the_account(guard, builtin_policies):
    guard.fail[("s3control", "GetPublicAccessBlock")] = "AccessDenied"
    result = scan(guard, builtin_policies)
    account = [f for f in result.findings if f["policy_id"] == "aws-s3-account-block-public-access"]
    assert [(f["resource"]["kind"], f["status"]) for f in account] == [("storage.account", "UNKNOWN")]
    assert "s3control:GetPublicAccessBlock AccessDenied" in account[0]["evidence"][0]["message"]


def test_failures_change_nothing_else(guard, builtin_policies, baseline):
    """The expectations above are relative to this: without failures nothing is unknown."""
    assert "UNKNOWN" not in baseline.values()
    assert baseline["storage-no-public-read"] == "FAIL"
    assert baseline["storage-no-public-list"] == "FAIL"


def test_denied_account_identity_leaves_account_facts_unknown(guard, builtin_policies):
    guard.fail[("sts", "GetCallerIdentity")] = "AccessDenied"
    result = scan(guard, builtin_policies)
    public = statuses(result, "pacs-public")
    account = statuses(result, "account (unknown) S3 settings")
    assert account["aws-s3-account-block-public-access"]["status"] == "UNKNOWN"
    # No grant names another account, so not knowing our own changes nothing.
    assert public["storage-no-untrusted-cross-account"]["status"] == "PASS"
    assert [e["call"] for e in result.errors] == ["sts:GetCallerIdentity"]


def test_denied_bucket_listing_is_a_scan_error_and_groups_are_still_scanned(guard, builtin_policies):
    guard.fail[("s3", "ListBuckets")] = "AccessDenied"
    result = scan(guard, builtin_policies)
    assert [(e["call"], e["code"]) for e in result.errors] == [("s3:ListBuckets", "AccessDenied")]
    assert {r["kind"] for r in result.resources} == {"storage.account", "network.ingress"}


def test_denied_security_groups_is_a_scan_error_naming_the_region(guard, builtin_policies):
    guard.fail[("ec2", "DescribeSecurityGroups")] = "UnauthorizedOperation"
    result = scan(guard, builtin_policies)
    assert [(e["call"], e["resource"]) for e in result.errors] == [
        ("ec2:DescribeSecurityGroups", "region us-east-1")
    ]
    assert {r["kind"] for r in result.resources} == {"storage.account", "storage.bucket"}


def test_throttling_is_retried(guard, builtin_policies):
    guard.throttle[("s3", "GetBucketAcl")] = 2
    guard.throttle[("ec2", "DescribeSecurityGroups")] = 1
    result = scan(guard, builtin_policies)
    assert guard.throttle == {("s3", "GetBucketAcl"): 0, ("ec2", "DescribeSecurityGroups"): 0}
    assert all(f["status"] != "UNKNOWN" for f in result.findings)
    assert result.errors == []


def test_bucket_policy_that_is_not_json_is_unknown_not_pass(guard, builtin_policies):
    guard.answers[("s3", "GetBucketPolicy")] = [{"Policy": '{"Statement": [ {"Effect": "Allow",'}] * 2
    result = scan(guard, builtin_policies)
    public = statuses(result, "pacs-public")
    assert public["storage-no-public-read"]["status"] == "UNKNOWN"
    assert "not valid JSON" in public["storage-no-public-read"]["evidence"][0]["message"]
    assert public["storage-no-public-list"]["status"] == "FAIL"  # the ACL alone says so


def test_bucket_listing_follows_continuation_tokens(guard, builtin_policies):
    # moto never returns a ContinuationToken, so the pages are canned here.
    guard.answers[("s3", "ListBuckets")] = [
        {"Buckets": [{"Name": "pacs-public"}], "ContinuationToken": "page-2"},
        {"Buckets": [{"Name": "pacs-private"}]},
    ]
    result = scan(guard, builtin_policies)
    assert guard.count("s3", "ListBuckets") == 2
    assert {r["name"] for r in result.resources if r["kind"] == "storage.bucket"} == {
        "pacs-public",
        "pacs-private",
    }


def test_region_from_the_listing_saves_a_location_call_per_bucket(guard, builtin_policies):
    # S3 gives BucketRegion to a listing with a parameter; moto never does, so it is canned here.
    asked = []
    session = guard.session()
    session.events.register("before-parameter-build.s3.ListBuckets", lambda params, **_: asked.append(params))
    guard.answers[("s3", "ListBuckets")] = [
        {
            "Buckets": [
                {"Name": "pacs-public", "BucketRegion": "us-east-1"},
                {"Name": "pacs-private"},  # no region given: asked for
                {"Name": "pacs-frankfurt", "BucketRegion": "eu-central-1"},  # outside --region
            ]
        }
    ]
    aws_world.build(WORLD)
    result = scan_aws(session, builtin_policies, regions=(aws_world.REGION,))
    assert "MaxBuckets" in asked[0]
    assert guard.count("s3", "GetBucketLocation") == 1
    buckets = {r["name"]: r["region"] for r in result.resources if r["kind"] == "storage.bucket"}
    assert buckets == {"pacs-public": "us-east-1", "pacs-private": "us-east-1"}
    assert result.errors == []


def test_a_full_page_without_a_token_is_listed_again_without_parameters(guard, builtin_policies, monkeypatch):
    # moto cuts a listing at MaxBuckets and gives no ContinuationToken: nothing may be lost.
    from cloudscan.providers.aws import s3

    monkeypatch.setattr(s3, "BUCKET_PAGE", 1)
    result = scan(guard, builtin_policies)
    assert guard.count("s3", "ListBuckets") == 2
    assert {r["name"] for r in result.resources if r["kind"] == "storage.bucket"} == {
        "pacs-public",
        "pacs-private",
    }


def test_the_guard_itself_stops_writes(guard):
    session = guard.session()
    with pytest.raises(AssertionError, match="not read-only: s3:CreateBucket"):
        session.client("s3").create_bucket(Bucket="must-not-exist")
    guard.violations.clear()


def test_calls_per_bucket_stay_within_budget(guard, builtin_policies):
    result = scan(guard, builtin_policies)
    buckets = [r for r in result.resources if r["kind"] == "storage.bucket"]
    sampling = ("ListObjectsV2", "GetObject")  # the content sample, bounded by --sample
    settings = [c for c in guard.calls if c[0] == "s3" and c[1] != "ListBuckets" and c[1] not in sampling]
    assert len(settings) / len(buckets) <= 10
    assert guard.count("s3", "ListObjectsV2") <= len(buckets)


def test_only_the_calls_enabled_policies_need(guard, builtin_policies):
    from cloudscan.policyset import select

    aws_world.build(WORLD)
    scan_aws(
        guard.session(),
        select(builtin_policies, only=["storage-versioning-enabled"]),
        regions=(aws_world.REGION,),
    )
    # Versioning, plus what tells whether the bucket holds patient data (tags, a sample).
    assert sorted({op for svc, op in guard.calls}) == [
        "GetBucketLocation",
        "GetBucketTagging",
        "GetBucketVersioning",
        "GetCallerIdentity",
        "ListBuckets",
        "ListObjectsV2",
    ]


def test_unreadable_prefix_list_is_unknown_only_where_it_matters(guard, builtin_policies):
    guard.fail[("ec2", "GetManagedPrefixListEntries")] = "UnauthorizedOperation"
    result = scan(guard, builtin_policies)
    rules = {r["name"]: r for r in result.resources if r["kind"] == "network.ingress"}
    dicom = [n for n in rules if n.startswith("partner-access tcp/104-104/pl-")]
    ssh = [n for n in rules if n.startswith("partner-access tcp/22-22/pl-")]
    assert len(dicom) == len(ssh) == 1
    assert statuses(result, dicom[0])["network-no-internet-dicom-ports"]["status"] == "UNKNOWN"
    assert (
        "ec2:GetManagedPrefixListEntries UnauthorizedOperation"
        in (statuses(result, dicom[0])["network-no-internet-dicom-ports"]["evidence"][0]["message"])
    )
    # An SSH rule cannot open a DICOM port, whatever the list holds.
    assert statuses(result, ssh[0])["network-no-internet-dicom-ports"]["status"] == "PASS"


def test_a_bug_while_reading_one_bucket_is_that_buckets_error(guard, builtin_policies, monkeypatch):
    from cloudscan.providers.aws import s3

    real = s3.describe_bucket

    def flaky(clients, bucket, **kwargs):
        if bucket["Name"] == "pacs-private":
            raise KeyError("Rules")
        return real(clients, bucket, **kwargs)

    monkeypatch.setattr(s3, "describe_bucket", flaky)
    result = scan(guard, builtin_policies)
    assert [(e["call"], e["resource"]) for e in result.errors] == [
        ("cloudscan:read", "arn:aws:s3:::pacs-private")
    ]
    assert "pacs-public" in {r["name"] for r in result.resources}


def test_a_bug_in_a_check_makes_its_results_unknown(guard, builtin_policies, monkeypatch):
    from cloudscan import checks

    def broken(doc, context):
        raise ValueError("unexpected grant shape")

    monkeypatch.setitem(checks.CHECKS["storage.bucket"], "exposure", (broken, ["access"]))
    result = scan(guard, builtin_policies)
    public = statuses(result, "pacs-public")
    assert public["storage-no-public-read"]["status"] == "UNKNOWN"
    assert "cloudscan:derive ValueError" in public["storage-no-public-read"]["evidence"][0]["message"]
    assert public["storage-versioning-enabled"]["status"] == "FAIL"  # the rest is still judged
