"""The AWS calls of a scan and the IAM actions each one needs (see providers/permissions.py).

Calls are named as botocore names them, `service:Operation`; an IAM action is the service's
prefix and the operation's name, except where AWS named the action otherwise (ListBuckets is
s3:ListAllMyBuckets, the bucket's GetPublicAccessBlock is s3:GetBucketPublicAccessBlock...)."""

from __future__ import annotations

from typing import Any

from cloudscan.providers.permissions import ALWAYS, Call, Needed, Table

ANY_REGION = "where ListBuckets leaves out a bucket's region, as older APIs and emulators do"

TABLE = Table(
    "aws",
    calls={
        "sts:GetCallerIdentity": Call(("sts:GetCallerIdentity",)),
        # --organization: the management (or delegated administrator) account lists the members
        # and assumes the role in each; the role then needs the rest of this table.
        "organizations:ListAccounts": Call(("organizations:ListAccounts",), option="organization"),
        "sts:AssumeRole": Call(("sts:AssumeRole",), option="organization"),
        "s3control:GetPublicAccessBlock": Call(("s3:GetAccountPublicAccessBlock",)),
        # Which organisation the account belongs to, once a scan: a bucket policy pinned to an
        # organisation (aws:PrincipalOrgID...) is internal or foreign by it.
        "organizations:DescribeOrganization": Call(("organizations:DescribeOrganization",)),
        "s3:ListBuckets": Call(("s3:ListAllMyBuckets",)),
        "s3:GetBucketLocation": Call(("s3:GetBucketLocation",), when=ANY_REGION),
        "config:BatchGetResourceConfig": Call(("config:BatchGetResourceConfig",), option="inventory"),
        "s3:GetPublicAccessBlock": Call(("s3:GetBucketPublicAccessBlock",)),
        "s3:GetBucketOwnershipControls": Call(("s3:GetBucketOwnershipControls",)),
        "s3:GetBucketAcl": Call(("s3:GetBucketAcl",)),
        "s3:GetBucketPolicy": Call(("s3:GetBucketPolicy",)),
        "s3:GetBucketEncryption": Call(("s3:GetEncryptionConfiguration",)),
        "s3:GetBucketVersioning": Call(("s3:GetBucketVersioning",)),
        "s3:GetObjectLockConfiguration": Call(("s3:GetBucketObjectLockConfiguration",)),
        "s3:GetBucketLogging": Call(("s3:GetBucketLogging",)),
        "s3:GetBucketTagging": Call(("s3:GetBucketTagging",)),
        "s3:ListObjectsV2": Call(("s3:ListBucket",), option="sample"),
        "s3:GetObject": Call(("s3:GetObject",), option="sample", when="where a bucket holds objects"),
        "ec2:DescribeRegions": Call(("ec2:DescribeRegions",), when="without --region"),
        "ec2:DescribeSecurityGroups": Call(("ec2:DescribeSecurityGroups",)),
        "ec2:DescribeNetworkInterfaces": Call(("ec2:DescribeNetworkInterfaces",)),
        "ec2:GetManagedPrefixListEntries": Call(
            ("ec2:GetManagedPrefixListEntries",), when="where a rule names a managed prefix list"
        ),
    },
    reads={
        # The account id names every document, and the account's Block Public Access.
        ALWAYS: ("sts:GetCallerIdentity", "organizations:ListAccounts", "sts:AssumeRole"),
        ("storage.account", "*"): ("s3control:GetPublicAccessBlock",),
        ("storage.bucket", "*"): ("s3:ListBuckets", "s3:GetBucketLocation", "config:BatchGetResourceConfig"),
        ("storage.bucket", "access"): (
            "s3control:GetPublicAccessBlock",  # the account's guard applies to every bucket
            "organizations:DescribeOrganization",
            "s3:GetPublicAccessBlock",
            "s3:GetBucketOwnershipControls",
            "s3:GetBucketAcl",
            "s3:GetBucketPolicy",
        ),
        ("storage.bucket", "encryption"): ("s3:GetBucketEncryption",),
        ("storage.bucket", "versioning"): ("s3:GetBucketVersioning",),
        ("storage.bucket", "object_lock"): ("s3:GetObjectLockConfiguration",),
        ("storage.bucket", "logging"): ("s3:GetBucketLogging",),
        ("storage.bucket", "labels"): ("s3:GetBucketTagging",),
        ("storage.bucket", "objects"): ("s3:ListObjectsV2", "s3:GetObject"),
        ("network.ingress", "*"): (
            "ec2:DescribeRegions",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeNetworkInterfaces",
            "ec2:GetManagedPrefixListEntries",
        ),
    },
)


def document(needed: list[Needed]) -> dict[str, Any]:
    """An IAM policy document, as `aws iam create-policy --policy-document` takes it."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CloudscanReadOnly",
                "Effect": "Allow",
                "Action": sorted({n.permission for n in needed}),
                "Resource": "*",
            }
        ],
    }
