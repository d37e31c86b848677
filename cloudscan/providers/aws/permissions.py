"""The AWS calls of a scan and the IAM actions each one needs (see providers/permissions.py).

Calls are named as botocore names them, `service:Operation`; an IAM action is the service's
prefix and the operation's name, except where AWS named the action otherwise (ListBuckets is
s3:ListAllMyBuckets, the bucket's GetPublicAccessBlock is s3:GetBucketPublicAccessBlock...)."""

from __future__ import annotations

from typing import Any

from cloudscan.providers.permissions import ALWAYS, Call, Needed, Table

HOLDS_STORES = "where a region holds HealthImaging data stores"
ANY_REGION = "where ListBuckets leaves out a bucket's region, as older APIs and emulators do"
NOT_AUTOMATED = "where a snapshot is not automated: AWS shares no automated snapshot"

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
        # --config-aggregator: the scanner's own credentials ask the aggregator; each account's
        # own Config is asked only where the aggregator cannot answer.
        "config:BatchGetAggregateResourceConfig": Call(
            ("config:BatchGetAggregateResourceConfig",), option="aggregator"
        ),
        "s3:GetPublicAccessBlock": Call(("s3:GetBucketPublicAccessBlock",)),
        "s3:GetBucketOwnershipControls": Call(("s3:GetBucketOwnershipControls",)),
        "s3:GetBucketAcl": Call(("s3:GetBucketAcl",)),
        "s3:GetBucketPolicy": Call(("s3:GetBucketPolicy",)),
        # One paginated listing per account: the distributions that serve buckets as origins.
        "cloudfront:ListDistributions": Call(("cloudfront:ListDistributions",)),
        "s3control:ListAccessPoints": Call(("s3:ListAccessPoints",)),
        "s3control:GetAccessPointPolicy": Call(
            ("s3:GetAccessPointPolicy",), when="where a bucket has access points"
        ),
        "s3control:GetAccessPoint": Call(("s3:GetAccessPoint",), when="where an access point has a policy"),
        "s3control:ListMultiRegionAccessPoints": Call(("s3:ListMultiRegionAccessPoints",)),
        "s3control:GetMultiRegionAccessPointPolicy": Call(
            ("s3:GetMultiRegionAccessPointPolicy",),
            when="where a bucket is behind a Multi-Region Access Point",
        ),
        "s3:GetBucketEncryption": Call(("s3:GetEncryptionConfiguration",)),
        "s3:GetBucketVersioning": Call(("s3:GetBucketVersioning",)),
        "s3:GetObjectLockConfiguration": Call(("s3:GetBucketObjectLockConfiguration",)),
        "s3:GetBucketLogging": Call(("s3:GetBucketLogging",)),
        "s3:GetBucketTagging": Call(("s3:GetBucketTagging",)),
        "s3:ListObjectsV2": Call(("s3:ListBucket",), option="sample"),
        "s3:GetObject": Call(("s3:GetObject",), option="sample", when="where a bucket holds objects"),
        "s3:GetObjectAcl": Call(
            ("s3:GetObjectAcl",),
            option="sample",
            when="where a bucket holds objects and its ACLs are enabled and not ignored",
        ),
        "ec2:DescribeRegions": Call(("ec2:DescribeRegions",), when="without --region"),
        "ec2:DescribeSecurityGroups": Call(("ec2:DescribeSecurityGroups",)),
        "ec2:DescribeNetworkInterfaces": Call(("ec2:DescribeNetworkInterfaces",)),
        "ec2:GetManagedPrefixListEntries": Call(
            ("ec2:GetManagedPrefixListEntries",), when="where a rule names a managed prefix list"
        ),
        # HealthImaging: the data stores of each region scanned, and the import jobs that name
        # the buckets their studies came from (healthimaging.py).
        "medical-imaging:ListDatastores": Call(("medical-imaging:ListDatastores",)),
        "medical-imaging:GetDatastore": Call(("medical-imaging:GetDatastore",), when=HOLDS_STORES),
        "medical-imaging:ListTagsForResource": Call(
            ("medical-imaging:ListTagsForResource",), when=HOLDS_STORES
        ),
        "medical-imaging:ListDICOMImportJobs": Call(
            ("medical-imaging:ListDICOMImportJobs",), when=HOLDS_STORES
        ),
        "medical-imaging:GetDICOMImportJob": Call(
            ("medical-imaging:GetDICOMImportJob",), when="where a data store has import jobs"
        ),
        "ec2:DescribeSnapshots": Call(("ec2:DescribeSnapshots",)),
        "ec2:DescribeSnapshotAttribute": Call(("ec2:DescribeSnapshotAttribute",)),
        "ec2:GetSnapshotBlockPublicAccessState": Call(
            ("ec2:GetSnapshotBlockPublicAccessState",), when="where a region holds EBS snapshots"
        ),
        "rds:DescribeDBSnapshots": Call(("rds:DescribeDBSnapshots",)),
        "rds:DescribeDBSnapshotAttributes": Call(("rds:DescribeDBSnapshotAttributes",), when=NOT_AUTOMATED),
        "rds:DescribeDBClusterSnapshots": Call(("rds:DescribeDBClusterSnapshots",)),
        "rds:DescribeDBClusterSnapshotAttributes": Call(
            ("rds:DescribeDBClusterSnapshotAttributes",), when=NOT_AUTOMATED
        ),
    },
    reads={
        # The account id names every document, and the account's Block Public Access.
        ALWAYS: ("sts:GetCallerIdentity", "organizations:ListAccounts", "sts:AssumeRole"),
        ("storage.account", "*"): ("s3control:GetPublicAccessBlock",),
        ("storage.bucket", "*"): (
            "s3:ListBuckets",
            "s3:GetBucketLocation",
            "config:BatchGetAggregateResourceConfig",
            "config:BatchGetResourceConfig",
        ),
        ("storage.bucket", "access"): (
            "s3control:GetPublicAccessBlock",  # the account's guard applies to every bucket
            "organizations:DescribeOrganization",
            "s3:GetPublicAccessBlock",
            "s3:GetBucketOwnershipControls",
            "s3:GetBucketAcl",
            "s3:GetBucketPolicy",
            "cloudfront:ListDistributions",  # a distribution can serve the bucket to anyone
            # Access points: their policies open the bucket where its policy delegates to them.
            "s3control:ListAccessPoints",
            "s3control:GetAccessPointPolicy",
            "s3control:GetAccessPoint",
            "s3control:ListMultiRegionAccessPoints",
            "s3control:GetMultiRegionAccessPointPolicy",
        ),
        ("storage.bucket", "encryption"): ("s3:GetBucketEncryption",),
        ("storage.bucket", "versioning"): ("s3:GetBucketVersioning",),
        ("storage.bucket", "object_lock"): ("s3:GetObjectLockConfiguration",),
        ("storage.bucket", "logging"): ("s3:GetBucketLogging",),
        ("storage.bucket", "labels"): ("s3:GetBucketTagging",),
        ("storage.bucket", "objects"): ("s3:ListObjectsV2", "s3:GetObject"),
        # One public study makes its bucket public: the ACLs of the sampled objects.
        ("storage.bucket", "objects+access"): ("s3:GetObjectAcl",),
        ("network.ingress", "*"): (
            "ec2:DescribeRegions",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeNetworkInterfaces",
            "ec2:GetManagedPrefixListEntries",
        ),
        ("dicom.store", "*"): ("medical-imaging:ListDatastores",),
        # A Lambda authorizer on the store lets bearer tokens in besides signed requests.
        ("dicom.store", "access"): ("medical-imaging:GetDatastore",),
        ("dicom.store", "encryption"): ("medical-imaging:GetDatastore",),
        # The buckets import jobs read from and write to: their exposure is the store's.
        ("dicom.store", "copies"): (
            "medical-imaging:ListDICOMImportJobs",
            "medical-imaging:GetDICOMImportJob",
        ),
        ("dicom.store", "labels"): ("medical-imaging:ListTagsForResource",),
        # Facts of the service, not settings of a store: no call reads them.
        ("dicom.store", "network"): (),
        ("dicom.store", "cors"): (),
        # One listing per service and region; one attribute read per snapshot for sharing; the
        # region's block public access for EBS snapshots.
        ("storage.snapshot", "*"): (
            "ec2:DescribeRegions",
            "ec2:DescribeSnapshots",
            "rds:DescribeDBSnapshots",
            "rds:DescribeDBClusterSnapshots",
        ),
        ("storage.snapshot", "snapshot"): (),
        ("storage.snapshot", "encryption"): (),
        ("storage.snapshot", "sharing"): (
            "ec2:DescribeSnapshotAttribute",
            "rds:DescribeDBSnapshotAttributes",
            "rds:DescribeDBClusterSnapshotAttributes",
        ),
        ("storage.snapshot", "guards"): ("ec2:GetSnapshotBlockPublicAccessState",),
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
