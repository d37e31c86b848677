"""A small simulated AWS account of imaging archives, built in memory with moto."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto import mock_aws

REGION = "us-east-1"
PARTNER_ACCOUNT = "111122223333"


@contextmanager
def demo_account() -> Iterator[tuple[Any, tuple[str, ...]]]:
    """Yield (session, regions) for a mocked account; nothing leaves the process."""
    saved = {k: os.environ.pop(k) for k in ("AWS_ENDPOINT_URL", "AWS_PROFILE") if k in os.environ}
    try:
        with mock_aws():
            session = boto3.Session(
                aws_access_key_id="demo", aws_secret_access_key="demo", region_name=REGION
            )
            build(session)
            session.events.register(
                "before-call.ec2.GetSnapshotBlockPublicAccessState", _snapshot_sharing_not_blocked
            )
            yield session, (REGION,)
    finally:
        os.environ.update(saved)


def _snapshot_sharing_not_blocked(**_: Any) -> Any:
    """moto does not implement ec2:GetSnapshotBlockPublicAccessState: the simulated account
    answers as a new account does (nothing blocked)."""
    from botocore.awsrequest import AWSResponse, HTTPHeaders

    return AWSResponse("https://demo.invalid", 200, HTTPHeaders(), None), {"State": "unblocked"}


def build(session: Any) -> None:
    s3 = session.client("s3")
    ec2 = session.client("ec2")

    # A PACS export bucket made public "for a partner's viewer".
    s3.create_bucket(Bucket="radiology-pacs-exports")
    s3.put_bucket_policy(
        Bucket="radiology-pacs-exports",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "ViewerAccess",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": ["s3:GetObject", "s3:ListBucket"],
                        "Resource": [
                            "arn:aws:s3:::radiology-pacs-exports",
                            "arn:aws:s3:::radiology-pacs-exports/*",
                        ],
                    }
                ],
            }
        ),
    )

    # Studies in it: a sample DICOM file that ships with pydicom (a fictitious patient).
    from pydicom.data import get_testdata_file

    path = get_testdata_file("CT_small.dcm")
    assert isinstance(path, str), "pydicom ships CT_small.dcm"  # a path (read=False), or None if missing
    with open(path, "rb") as study:
        body = study.read()
    for n in (1, 2):
        s3.put_object(
            Bucket="radiology-pacs-exports", Body=body, Key=f"1.2.840.99999.1/1.2.840.99999.1.1/IM000{n}.dcm"
        )

    # A teleradiology inbox readable by every AWS user, shared with a reading group's account.
    s3.create_bucket(Bucket="teleradiology-inbox")
    owner = s3.get_bucket_acl(Bucket="teleradiology-inbox")["Owner"]
    s3.put_bucket_acl(
        Bucket="teleradiology-inbox",
        AccessControlPolicy={
            "Owner": owner,
            "Grants": [
                {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
                {
                    "Grantee": {
                        "Type": "Group",
                        "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
                    },
                    "Permission": "READ",
                },
            ],
        },
    )
    s3.put_bucket_policy(
        Bucket="teleradiology-inbox",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "ReadingGroup",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{PARTNER_ACCOUNT}:root"},
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::teleradiology-inbox/*",
                    }
                ],
            }
        ),
    )

    # A de-identified research set with a public ACL that Block Public Access neutralises.
    s3.create_bucket(Bucket="ct-research-deidentified", ACL="public-read")
    s3.put_public_access_block(
        Bucket="ct-research-deidentified",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )

    # The archive done right, and its log bucket.
    s3.create_bucket(Bucket="imaging-access-logs", ACL="log-delivery-write")
    s3.create_bucket(Bucket="imaging-archive-secure", ObjectLockEnabledForBucket=True)
    s3.put_public_access_block(
        Bucket="imaging-archive-secure",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket="imaging-archive-secure",
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": "arn:aws:kms:us-east-1:123456789012:key/demo",
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_bucket_versioning(Bucket="imaging-archive-secure", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(
        Bucket="imaging-archive-secure",
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}},
        },
    )
    s3.put_bucket_logging(
        Bucket="imaging-archive-secure",
        BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "imaging-access-logs", "TargetPrefix": "archive/"}
        },
    )
    s3.put_bucket_policy(
        Bucket="imaging-archive-secure",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "TLSOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [
                            "arn:aws:s3:::imaging-archive-secure",
                            "arn:aws:s3:::imaging-archive-secure/*",
                        ],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        ),
    )

    # An Orthanc server with DICOM and its web port open to the world, and a router kept inside.
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    orthanc = ec2.create_security_group(GroupName="orthanc-server", Description="Orthanc PACS", VpcId=vpc)[
        "GroupId"
    ]
    ec2.authorize_security_group_ingress(
        GroupId=orthanc,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 4242, "ToPort": 4242, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {
                "IpProtocol": "tcp",
                "FromPort": 8042,
                "ToPort": 8042,
                "Ipv6Ranges": [{"CidrIpv6": "::/0", "Description": "viewer access"}],
            },
        ],
    )
    router = ec2.create_security_group(GroupName="dicom-router", Description="DICOM router", VpcId=vpc)[
        "GroupId"
    ]
    ec2.authorize_security_group_ingress(
        GroupId=router,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 11112,
                "ToPort": 11112,
                "IpRanges": [{"CidrIp": "10.20.0.0/16"}],
            },
        ],
    )

    # The Orthanc server's disk, snapshot shared with all "for the vendor's migration": anyone in
    # AWS can restore it, studies and index included.
    volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=100)["VolumeId"]
    snapshot = ec2.create_snapshot(
        VolumeId=volume,
        Description="orthanc-server data disk",
        TagSpecifications=[
            {"ResourceType": "snapshot", "Tags": [{"Key": "Name", "Value": "orthanc-data-disk"}]}
        ],
    )["SnapshotId"]
    ec2.modify_snapshot_attribute(
        SnapshotId=snapshot, Attribute="createVolumePermission", OperationType="add", GroupNames=["all"]
    )
