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

    # An OHIF viewer's studies, in a bucket that blocks public access, served to anyone through
    # CloudFront: origin access control, and no signed URLs or cookies.
    build_viewer(session, body)

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


VIEWER_BUCKET = "ohif-viewer-studies"


def build_viewer(session: Any, study: bytes) -> None:
    s3, cloudfront = session.client("s3"), session.client("cloudfront")
    s3.create_bucket(Bucket=VIEWER_BUCKET)
    s3.put_public_access_block(
        Bucket=VIEWER_BUCKET,
        PublicAccessBlockConfiguration=dict.fromkeys(
            ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
        ),
    )
    s3.put_object(Bucket=VIEWER_BUCKET, Body=study, Key="studies/1.2.840.99999.2/IM0001.dcm")
    control = cloudfront.create_origin_access_control(
        OriginAccessControlConfig={
            "Name": "ohif-viewer",
            "SigningProtocol": "sigv4",
            "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3",
        }
    )["OriginAccessControl"]["Id"]
    config = {
        "CallerReference": "ohif-viewer",
        "Comment": "OHIF viewer",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "studies",
                    "DomainName": f"{VIEWER_BUCKET}.s3.{REGION}.amazonaws.com",
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                    "OriginAccessControlId": control,
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "studies",
            "ViewerProtocolPolicy": "redirect-to-https",
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        },
    }
    made = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]
    account = session.client("sts").get_caller_identity()["Account"]
    complete_in_moto(account, made["Id"], config)
    s3.put_bucket_policy(
        Bucket=VIEWER_BUCKET,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "ViewerDistribution",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{VIEWER_BUCKET}/*",
                        "Condition": {
                            "StringEquals": {
                                "AWS:SourceArn": f"arn:aws:cloudfront::{account}:distribution/{made['Id']}"
                            }
                        },
                    }
                ],
            }
        ),
    )


# What CloudFront's ListDistributions gives and moto 5.2's summaries lack.
SUMMARY_FIELDS = (
    "Aliases",
    "Origins",
    "OriginGroups",
    "DefaultCacheBehavior",
    "CacheBehaviors",
    "CustomErrorResponses",
    "Comment",
    "PriceClass",
    "Enabled",
    "ViewerCertificate",
    "Restrictions",
    "WebACLId",
    "HttpVersion",
    "IsIPV6Enabled",
)


def complete_in_moto(account: str, distribution_id: str, config: dict[str, Any]) -> None:
    """moto 5.2 lists a distribution with its id, ARN, status and domain only, drops an origin's
    OriginAccessControlId and S3OriginConfig, and keeps no function associations: give its
    distribution object those fields from the request that made it, so that the scan reads
    them as CloudFront would list them (moto still writes the XML, boto3 still parses it)."""
    from moto.cloudfront.models import cloudfront_backends

    made: Any = cloudfront_backends[account]["aws"].distributions[distribution_id]
    stored: Any = made.distribution_config
    for name in SUMMARY_FIELDS:
        setattr(made, name, getattr(stored, name))
    made.Staging = False
    for origin, asked in zip(stored.Origins["Items"], config["Origins"]["Items"], strict=True):
        origin.origin_access_control_id = asked.get("OriginAccessControlId", "")
        if "S3OriginConfig" in asked:  # moto keeps only the identity, under a name of its own
            origin.s3_origin_config = asked["S3OriginConfig"]
    behaviours = [(stored.DefaultCacheBehavior, config["DefaultCacheBehavior"])]
    if "CacheBehaviors" in config:
        behaviours += zip(stored.CacheBehaviors["Items"], config["CacheBehaviors"]["Items"], strict=True)
    for kept, asked in behaviours:
        kept.function_associations = asked.get("FunctionAssociations", {"Quantity": 0})
        kept.lambda_function_associations = asked.get("LambdaFunctionAssociations", {"Quantity": 0})
