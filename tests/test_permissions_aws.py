"""`cloudscan permissions aws` gives exactly what a scan calls: the IAM policy a subset of the
policies generates covers every call a scan with that subset makes under the read-only guard
(moto, every botocore call recorded), and lists nothing such a scan left unused.

Each call is mapped to its IAM action here, independently of cloudscan's table: the service's
prefix and the operation's name, except for the operations AWS's Service Authorization Reference
names otherwise. The account is built so that every conditional call happens: a bucket without
its region in the listing (moto gives none), objects to sample, a rule naming a prefix list,
DescribeRegions (answered with one region, to keep the scan short), a HealthImaging data store
with an import job (tests/healthimaging_fake.py)."""

from __future__ import annotations

import os
import re

import aws_world
import pytest
from aws_world import CallGuard
from healthimaging_fake import HealthImagingFake, Job, Store
from moto import mock_aws
from permission_cases import EVERY_POLICY, compare, generated, policies_of, subsets

from cloudscan.providers.aws.permissions import TABLE
from cloudscan.providers.sampling import Sampling
from cloudscan.scan import needed_fields, scan_aws

# botocore's service names whose IAM prefix differs
PREFIXES = {"s3control": "s3"}
# Operations whose IAM action is not named after them
ACTIONS = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "GetObjectLockConfiguration"): "s3:GetBucketObjectLockConfiguration",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
}

ACCOUNT = {
    "account_block_public_access": {"BlockPublicAcls": True},
    "buckets": {
        "pacs-export": {
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
            "encryption": "aws:kms",
            "versioning": True,
            "logging": "pacs-export-logs",
            "tags": {"DataClassification": "PHI"},
        },
        "archive": {"object_lock_days": 30, "block_public_access": True, "ownership": "BucketOwnerEnforced"},
    },
    "security_groups": {
        "pacs": {
            "attached": True,
            "public_ip": True,
            "ingress": [
                {"protocol": "tcp", "from": 104, "to": 104, "cidr": "0.0.0.0/0"},
                {"protocol": "tcp", "from": 443, "to": 443, "prefix_list": ["198.51.100.0/24"]},
            ],
        }
    },
}


def iam_action(service: str, operation: str) -> str:
    return ACTIONS.get((service, operation)) or f"{PREFIXES.get(service, service)}:{operation}"


@pytest.fixture(scope="module")
def account():
    with mock_aws(), HealthImagingFake() as healthimaging:
        aws_world.build(ACCOUNT)
        s3 = aws_world.session().client("s3")
        for key in ("study-1/IM0001.dcm", "study-1/IM0002.dcm", "README.txt"):
            s3.put_object(Bucket="pacs-export", Key=key, Body=b"\0" * 128 + b"DICM" + b"\0" * 64)
        # A data store with an import job, so that every HealthImaging read happens.
        healthimaging.add(Store("radiology", jobs=[Job("pacs-export", "archive")]))
        before = os.environ["AWS_ENDPOINT_URL_MEDICAL_IMAGING"]
        os.environ["AWS_ENDPOINT_URL_MEDICAL_IMAGING"] = healthimaging.url
        try:
            yield
        finally:
            os.environ["AWS_ENDPOINT_URL_MEDICAL_IMAGING"] = before


def scan(policies, sample: int) -> tuple[CallGuard, object]:
    guard = CallGuard()
    guard.answers[("ec2", "DescribeRegions")] = [{"Regions": [{"RegionName": aws_world.REGION}]}]
    result = scan_aws(guard.session(), policies, sampling=Sampling(size=sample))
    assert not guard.violations
    return guard, result


@pytest.mark.parametrize("subset", subsets())
def test_generated_policy_is_what_the_scan_calls(account, subset):
    policies = policies_of(subset)
    guard, result = scan(policies, sample=2)
    assert result.errors == []

    made = {iam_action(*call) for call in guard.calls}
    document = generated("aws", subset)
    (statement,) = document["Statement"]
    assert (statement["Effect"], statement["Resource"]) == ("Allow", "*")
    assert compare(made, set(statement["Action"])) == []
    # The adapter names its calls as botocore does, and makes only those the table lists for
    # the fields the policies read.
    names = {f"{service}:{operation}" for service, operation in guard.calls}
    assert names <= set(TABLE.calls_for(needed_fields(policies)))


def test_sample_zero_needs_no_object_read(account):
    guard, _ = scan(policies_of(EVERY_POLICY), sample=0)
    made = {iam_action(*call) for call in guard.calls}
    listed = set(generated("aws", EVERY_POLICY, "--sample", "0")["Statement"][0]["Action"])
    assert compare(made, listed) == []
    assert not {"s3:GetObject", "s3:ListBucket"} & listed


def test_the_document_is_an_iam_policy_of_reads(account):
    document = generated("aws", EVERY_POLICY)
    assert document["Version"] == "2012-10-17"
    actions = document["Statement"][0]["Action"]
    assert "sts:GetCallerIdentity" in actions
    assert all(re.fullmatch(r"[a-z0-9-]+:(Get|List|Describe)[A-Za-z]+", a) for a in actions), actions
