"""Buckets behind CloudFront: a private bucket that a distribution serves to anyone is public,
and its severity follows the studies it holds; CloudFront is read once per account, only when
an enabled policy needs it, and a listing that cannot be read leaves the bucket UNKNOWN.

The statuses of each kind of distribution are in scenarios/aws/cloudfront-viewer-origins.json
and its Terraform twin; this file holds what a scenario cannot say."""

import json
from pathlib import Path

import aws_world
import pytest
from judged import statuses_by_name
from test_imaging_data import dicom_bytes

from cloudscan.providers.aws.cloudfront import bucket_of_origin, distribution_entries
from cloudscan.providers.sampling import Sampling
from cloudscan.scan import scan_aws

SCENARIO = Path(__file__).parent / "scenarios" / "aws" / "cloudfront-viewer-origins.json"
PUBLIC_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::BUCKET/*"}
    ],
}


def grant_to(distribution: str, actions: list[str] | str = "s3:GetObject") -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": actions,
                "Resource": ["arn:aws:s3:::BUCKET", "arn:aws:s3:::BUCKET/*"],
                "Condition": {"ArnLike": {"aws:SourceArn": f"CLOUDFRONT_ARN({distribution})"}},
            }
        ],
    }


def scan(guard, policies, **kwargs):
    return scan_aws(guard.session(), policies, regions=(aws_world.REGION,), **kwargs)


def test_studies_served_without_signed_urls_fail_as_identifiable_imaging(guard, builtin_policies):
    aws_world.build(
        {
            "buckets": {"ohif-studies": {"block_public_access": True, "policy": grant_to("ohif")}},
            "distributions": {"ohif": {"origin": "ohif-studies"}},
        }
    )
    s3 = aws_world.session().client("s3")
    s3.put_object(Bucket="ohif-studies", Key="1.2.3/IM0001.dcm", Body=dicom_bytes(identifiable=True))

    result = scan(guard, builtin_policies, sampling=Sampling(size=5, deep=True))

    statuses = statuses_by_name(result)["ohif-studies"]
    assert statuses["storage-no-public-identifiable-imaging"] == "FAIL"
    assert statuses["storage-no-public-read"] == "NOT_APPLICABLE"  # the data decides the severity
    assert statuses["aws-s3-bucket-block-public-access"] == "PASS"  # every public check passes
    (bucket,) = [r for r in result.resources if r["name"] == "ohif-studies"]
    (reason,) = bucket["exposure"]["reasons"]["public_read"]
    (entry,) = bucket["access"]["cdn"]
    assert reason["effective"] is True
    assert reason["detail"].startswith(
        f"public through CloudFront distribution {entry['id']} ({entry['domain']})"
    )
    finding = next(
        f
        for f in result.findings
        if f["policy_id"] == "storage-no-public-identifiable-imaging" and f["resource"]["id"] == bucket["id"]
    )
    assert "identifiable DICOM" in json.dumps(finding["evidence"])


def test_one_listing_per_account_whatever_the_number_of_buckets(guard, builtin_policies):
    buckets = {f"studies-{n}": {"policy": grant_to("viewer")} for n in range(6)}
    aws_world.build({"buckets": buckets, "distributions": {"viewer": {"origin": "studies-0"}}})

    result = scan(guard, builtin_policies)

    assert guard.count("cloudfront", "ListDistributions") == 1
    assert [c for c in guard.calls if c[0] == "cloudfront"] == [("cloudfront", "ListDistributions")]
    statuses = statuses_by_name(result)
    assert statuses["studies-0"]["storage-no-public-read"] == "FAIL"
    assert statuses["studies-1"]["storage-no-public-read"] == "PASS"  # granted, but nothing serves it


def test_not_read_when_no_enabled_policy_needs_access(guard, builtin_policies):
    aws_world.build({"buckets": {"studies": {}}, "distributions": {"viewer": {"origin": "studies"}}})
    only_versioning = [p for p in builtin_policies if p.id == "storage-versioning-enabled"]

    scan(guard, only_versioning)

    assert guard.count("cloudfront", "ListDistributions") == 0


def test_not_read_in_an_account_without_buckets(guard, builtin_policies):
    aws_world.build({"distributions": {"viewer": {"origin": "gone-bucket"}}})
    scan(guard, builtin_policies)
    assert guard.count("cloudfront", "ListDistributions") == 0


def test_an_unreadable_listing_is_unknown_never_a_pass(guard, builtin_policies):
    aws_world.build(json.loads(SCENARIO.read_text())["spec"])
    aws_world.build({"buckets": {"public-exports": {"policy": PUBLIC_READ}}})
    guard.fail[("cloudfront", "ListDistributions")] = "AccessDenied"

    result = scan(guard, builtin_policies)

    statuses = statuses_by_name(result)
    for name in ("ohif-studies-open", "ohif-studies-signed", "ohif-studies-not-granted"):
        assert statuses[name]["storage-no-public-read"] == "UNKNOWN", name
    assert statuses["public-exports"]["storage-no-public-read"] == "FAIL"  # known public stays FAIL
    (bucket,) = [r for r in result.resources if r["name"] == "ohif-studies-signed"]
    assert "/access/cdn" in bucket["_meta"]["unknown"]
    (error,) = [e for e in bucket["_meta"]["errors"] if e["call"] == "cloudfront:ListDistributions"]
    assert error["code"] == "AccessDenied" and "/exposure/public_read" in error["pointers"]


def test_every_page_of_the_listing_is_read(guard, builtin_policies):
    late = _summary("E2LATE", "late-studies", "arn:aws:cloudfront::123456789012:distribution/E2LATE")
    policy = json.dumps(grant_to("late")).replace("CLOUDFRONT_ARN(late)", late["ARN"])
    aws_world.build({"buckets": {"late-studies": {"policy": policy}}})
    first = {"DistributionList": {"IsTruncated": True, "NextMarker": "E2LATE", "Quantity": 0, "Items": []}}
    last = {"DistributionList": {"IsTruncated": False, "Quantity": 1, "Items": [late]}}
    guard.answers[("cloudfront", "ListDistributions")] = [first, last]

    result = scan(guard, builtin_policies)

    assert guard.count("cloudfront", "ListDistributions") == 2
    assert statuses_by_name(result)["late-studies"]["storage-no-public-read"] == "FAIL"


def _summary(dist_id: str, bucket: str, arn: str, **behaviour) -> dict:
    return {
        "Id": dist_id,
        "ARN": arn,
        "DomainName": f"{dist_id.lower()}.cloudfront.net",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "s3",
                    "DomainName": f"{bucket}.s3.amazonaws.com",
                    "OriginAccessControlId": "OAC1",
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                }
            ],
        },
        "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "https-only", **behaviour},
        "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
    }


@pytest.mark.parametrize(
    "domain, expected",
    [
        ("studies.s3.amazonaws.com", ("studies", "rest")),
        ("studies.s3.eu-west-1.amazonaws.com", ("studies", "rest")),
        ("studies.s3-eu-west-1.amazonaws.com", ("studies", "rest")),
        ("studies.s3.dualstack.us-east-1.amazonaws.com", ("studies", "rest")),
        ("my.s3.studies.s3.us-east-1.amazonaws.com", ("my.s3.studies", "rest")),
        ("studies.s3.cn-north-1.amazonaws.com.cn", ("studies", "rest")),
        ("studies.s3-website-us-east-1.amazonaws.com", ("studies", "website")),
        ("studies.s3-website.eu-central-1.amazonaws.com", ("studies", "website")),
        ("viewer.example.org", None),
        ("abc.execute-api.us-east-1.amazonaws.com", None),
        ("ap-123456789012.s3-accesspoint.us-east-1.amazonaws.com", None),
    ],
)
def test_which_origins_are_buckets(domain, expected):
    assert bucket_of_origin(domain) == expected


def test_an_origin_group_serves_each_of_its_members():
    summary = _summary("E1", "primary", "arn:aws:cloudfront::1:distribution/E1")
    summary["Origins"]["Items"].append({"Id": "s3-b", "DomainName": "replica.s3.amazonaws.com"})
    summary["OriginGroups"] = {
        "Items": [{"Id": "group", "Members": {"Items": [{"OriginId": "s3"}, {"OriginId": "s3-b"}]}}]
    }
    summary["DefaultCacheBehavior"]["TargetOriginId"] = "group"
    entries = dict(distribution_entries(summary))
    assert entries["primary"]["routes"][0]["path"] == "*"
    assert entries["replica"]["routes"][0]["path"] == "*"
    assert entries["replica"]["origin_identity"] == {"type": None, "id": None}  # no OAC: anonymous


def test_a_disabled_distribution_or_a_website_origin_adds_nothing(guard, builtin_policies):
    aws_world.build(
        {
            "buckets": {
                "disabled-studies": {"policy": grant_to("off")},
                "website-studies": {"policy": grant_to("site")},
            },
            "distributions": {
                "off": {"origin": "disabled-studies", "enabled": False},
                "site": {"origin": "website-studies", "access": "website"},
            },
        }
    )
    statuses = statuses_by_name(scan(guard, builtin_policies))
    assert statuses["disabled-studies"]["storage-no-public-read"] == "PASS"
    # A website endpoint is read anonymously: only what is public anyway goes through it.
    assert statuses["website-studies"]["storage-no-public-read"] == "PASS"


def test_a_signed_default_route_and_an_open_path_is_public(guard, builtin_policies):
    aws_world.build(
        {
            "buckets": {"mixed-studies": {"policy": grant_to("mixed")}},
            "distributions": {
                "mixed": {"origin": "mixed-studies", "signed": True, "unsigned_paths": ["/dicomweb/*"]}
            },
        }
    )

    result = scan(guard, builtin_policies)

    assert statuses_by_name(result)["mixed-studies"]["storage-no-public-read"] == "FAIL"
    bucket = next(r for r in result.resources if r["name"] == "mixed-studies")
    assert "route /dicomweb/* " in bucket["exposure"]["reasons"]["public_read"][0]["detail"]
