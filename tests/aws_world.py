"""Build an AWS account in moto from a readable spec, and watch every call a scan makes.

A spec is data, so the same scenario can later be written as Terraform and must give the
same results:

    {"account_block_public_access": {"BlockPublicAcls": true, ...},
     "buckets": {"name": {"acl": "public-read" | [grants], "policy": {...},
                          "block_public_access": {...}, "ownership": "BucketOwnerEnforced",
                          "encryption": "AES256" | "aws:kms", "versioning": true,
                          "object_lock_days": 30, "logging": "target-bucket",
                          "tags": {"DataClassification": "PHI"},
                          "objects": {"key": {"acl": "public-read"}},
                          "access_points": {"name": {"policy": {...}, "block_public_access": false,
                                                     "vpc": "vpc-id"}},
                          "multi_region_access_points": {"name": {"policy": {...},
                                                                  "block_public_access": false}}}},
     "security_groups": {"name": {"attached": true, "public_ip": true,
                                  "ingress": [{"protocol": "tcp", "from": 104, "to": 104,
                                               "cidr": "0.0.0.0/0"}]}}},
     "snapshots": {"name": {"type": "disk" | "database" | "database-cluster",
                            "encrypted": true, "public": true, "accounts": ["111122223333"]}},
     "distributions": {"name": {"origin": "bucket-name", ...}}}   (see aws_cloudfront.py)

A disk snapshot is named by its Name tag, a database snapshot by its identifier (the instance
or cluster it copies is NAME-source).

With `"organization": true` the account first creates an AWS Organization (moto makes up its
id), and ORG_ID in a bucket policy stands for that id, as BUCKET stands for the bucket's name.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import aws_cloudfront
import boto3

ACCOUNT = "123456789012"
REGION = "us-east-1"
GROUPS = {
    "AllUsers": "http://acs.amazonaws.com/groups/global/AllUsers",
    "AuthenticatedUsers": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
    "LogDelivery": "http://acs.amazonaws.com/groups/s3/LogDelivery",
}
BPA_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def session() -> Any:
    return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)


def build(
    spec: dict[str, Any], setup: Any | None = None, account: str = ACCOUNT, organization: str = "ORG_ID"
) -> None:
    """Build `spec` in `account`, through `setup` (a session acting in that account), in
    `organization` when the organization is made elsewhere."""
    setup = setup or session()
    s3 = setup.client("s3")
    if spec.get("organization"):
        made = setup.client("organizations").create_organization(FeatureSet="ALL")
        organization = made["Organization"]["Id"]
    if spec.get("account_block_public_access") is not None:
        setup.client("s3control").put_public_access_block(
            AccountId=account, PublicAccessBlockConfiguration=_bpa(spec["account_block_public_access"])
        )
    # CloudFront first: a bucket policy names a distribution's ARN (tests/aws_cloudfront.py).
    arns = aws_cloudfront.build(setup, spec.get("distributions", {}), account, REGION)
    for name, bucket in spec.get("buckets", {}).items():
        if "policy" in bucket:
            text = bucket["policy"] if isinstance(bucket["policy"], str) else json.dumps(bucket["policy"])
            bucket = {**bucket, "policy": aws_cloudfront.with_arns(text, arns)}
        _build_bucket(s3, name, bucket, account, organization)
        if bucket.get("access_points"):
            _build_access_points(setup.client("s3control"), name, bucket["access_points"], account)
        for point, settings in bucket.get("multi_region_access_points", {}).items():
            home = setup.client("s3control", region_name="us-west-2")  # where S3 manages them
            _build_multi_region(home, name, point, settings, account)
    if spec.get("security_groups"):
        _build_groups(setup.client("ec2"), spec["security_groups"])
    for name, snapshot in spec.get("snapshots", {}).items():
        _build_snapshot(setup, name, snapshot, account)


def _bpa(value: dict[str, bool] | bool) -> dict[str, bool]:
    return dict.fromkeys(BPA_KEYS, value) if isinstance(value, bool) else value


def _build_bucket(
    s3: Any, name: str, bucket: dict[str, Any], account: str = ACCOUNT, organization: str = "ORG_ID"
) -> None:
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=bool(bucket.get("object_lock_days")))
    acl = bucket.get("acl")
    if isinstance(acl, str):
        s3.put_bucket_acl(Bucket=name, ACL=acl)
    elif isinstance(acl, list):
        owner = s3.get_bucket_acl(Bucket=name)["Owner"]
        grants = [{"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"}]
        for grant in acl:
            grantee = (
                {"Type": "Group", "URI": GROUPS[grant["group"]]}
                if "group" in grant
                else {"Type": "CanonicalUser", "ID": grant["canonical_user"]}
            )
            grants.append({"Grantee": grantee, "Permission": grant["permission"]})
        s3.put_bucket_acl(Bucket=name, AccessControlPolicy={"Owner": owner, "Grants": grants})
    if "policy" in bucket:
        text = bucket["policy"] if isinstance(bucket["policy"], str) else json.dumps(bucket["policy"])
        text = text.replace("BUCKET", name).replace("ORG_ID", organization)
        s3.put_bucket_policy(Bucket=name, Policy=text)
    if "block_public_access" in bucket:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=_bpa(bucket["block_public_access"])
        )
    for key, item in bucket.get("objects", {}).items():
        # Objects first: once ACLs are disabled S3 refuses an object ACL.
        extra = {"ACL": item["acl"]} if "acl" in item else {}
        s3.put_object(Bucket=name, Key=key, Body=item.get("body", "not an image").encode(), **extra)
    if "ownership" in bucket:
        s3.put_bucket_ownership_controls(
            Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": bucket["ownership"]}]}
        )
    if "encryption" in bucket:
        default = {"SSEAlgorithm": bucket["encryption"]}
        if bucket["encryption"].startswith("aws:kms"):
            default["KMSMasterKeyID"] = f"arn:aws:kms:{REGION}:{account}:key/test"
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": default}]},
        )
    if "tags" in bucket:
        s3.put_bucket_tagging(
            Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in bucket["tags"].items()]}
        )
    if bucket.get("versioning"):
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    if bucket.get("object_lock_days"):
        s3.put_object_lock_configuration(
            Bucket=name,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": bucket["object_lock_days"]}},
            },
        )
    if "logging" in bucket:
        target = bucket["logging"]
        s3.create_bucket(Bucket=target, ACL="log-delivery-write")
        s3.put_bucket_logging(
            Bucket=name,
            BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": f"{name}/"}},
        )


def _build_access_points(s3control: Any, bucket: str, points: dict[str, Any], account: str) -> None:
    """Access points of `bucket`; ACCESS_POINT in a policy stands for the access point's ARN."""
    for name, point in points.items():
        extra: dict[str, Any] = {}
        if "block_public_access" in point:
            extra["PublicAccessBlockConfiguration"] = _bpa(point["block_public_access"])
        if "vpc" in point:
            extra["VpcConfiguration"] = {"VpcId": point["vpc"]}
        arn = s3control.create_access_point(AccountId=account, Name=name, Bucket=bucket, **extra)[
            "AccessPointArn"
        ]
        if "policy" in point:
            text = json.dumps(point["policy"]).replace("ACCESS_POINT", arn)
            s3control.put_access_point_policy(AccountId=account, Name=name, Policy=text)


def _build_multi_region(s3control: Any, bucket: str, name: str, point: dict[str, Any], account: str) -> None:
    details: dict[str, Any] = {"Name": name, "Regions": [{"Bucket": bucket}]}
    if "block_public_access" in point:
        details["PublicAccessBlock"] = _bpa(point["block_public_access"])
    s3control.create_multi_region_access_point(AccountId=account, ClientToken=name, Details=details)
    if "policy" in point:
        policy = {"Name": name, "Policy": json.dumps(point["policy"])}
        s3control.put_multi_region_access_point_policy(AccountId=account, ClientToken=name, Details=policy)


def _build_groups(ec2: Any, groups: dict[str, dict[str, Any]]) -> None:
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    for name, group in groups.items():
        gid = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        if group.get("attached"):
            eni = ec2.create_network_interface(SubnetId=subnet, Groups=[gid])["NetworkInterface"]
            if group.get("public_ip"):
                address = ec2.allocate_address(Domain="vpc")["AllocationId"]
                ec2.associate_address(AllocationId=address, NetworkInterfaceId=eni["NetworkInterfaceId"])
        permissions = []
        for rule in group.get("ingress", []):
            permission: dict[str, Any] = {"IpProtocol": rule["protocol"]}
            if "from" in rule:
                permission |= {"FromPort": rule["from"], "ToPort": rule["to"]}
            if "prefix_list" in rule:
                entries = [{"Cidr": c} for c in rule["prefix_list"]]
                listed = ec2.create_managed_prefix_list(
                    PrefixListName=f"{name}-list", AddressFamily="IPv4", MaxEntries=10, Entries=entries
                )
                permission["PrefixListIds"] = [{"PrefixListId": listed["PrefixList"]["PrefixListId"]}]
            else:
                cidr = rule["cidr"]
                permission["Ipv6Ranges" if ":" in cidr else "IpRanges"] = [
                    {"CidrIpv6": cidr} if ":" in cidr else {"CidrIp": cidr}
                ]
            permissions.append(permission)
        if permissions:
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=permissions)


def _build_snapshot(setup: Any, name: str, snapshot: dict[str, Any], account: str) -> None:
    key = f"arn:aws:kms:{REGION}:{account}:key/snapshots" if snapshot.get("encrypted") else None
    encrypted = {"KmsKeyId": key} if key else {}
    shared = (["all"] if snapshot.get("public") else []) + list(snapshot.get("accounts", []))
    kind = snapshot.get("type", "disk")
    if kind == "disk":
        ec2 = setup.client("ec2")
        volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8, Encrypted=bool(key), **encrypted)
        tags = [{"ResourceType": "snapshot", "Tags": [{"Key": "Name", "Value": name}]}]
        made = ec2.create_snapshot(VolumeId=volume["VolumeId"], TagSpecifications=tags)["SnapshotId"]
        groups = [g for g in shared if g == "all"]
        users = [u for u in shared if u != "all"]
        if groups or users:
            ec2.modify_snapshot_attribute(
                SnapshotId=made,
                Attribute="createVolumePermission",
                OperationType="add",
                **({"GroupNames": groups} if groups else {}),
                **({"UserIds": users} if users else {}),
            )
        return
    rds = setup.client("rds")
    login = {"MasterUsername": "pacs", "MasterUserPassword": "not-a-real-password"}
    if kind == "database":
        rds.create_db_instance(
            DBInstanceIdentifier=f"{name}-source",
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            AllocatedStorage=20,
            StorageEncrypted=bool(key),
            **encrypted,
            **login,
        )
        rds.create_db_snapshot(DBInstanceIdentifier=f"{name}-source", DBSnapshotIdentifier=name)
        if shared:
            rds.modify_db_snapshot_attribute(
                DBSnapshotIdentifier=name, AttributeName="restore", ValuesToAdd=shared
            )
        return
    rds.create_db_cluster(
        DBClusterIdentifier=f"{name}-source",
        Engine="aurora-postgresql",
        StorageEncrypted=bool(key),
        **encrypted,
        **login,
    )
    rds.create_db_cluster_snapshot(DBClusterIdentifier=f"{name}-source", DBClusterSnapshotIdentifier=name)
    if shared:
        rds.modify_db_cluster_snapshot_attribute(
            DBClusterSnapshotIdentifier=name, AttributeName="restore", ValuesToAdd=shared
        )


# -- watching a scan -------------------------------------------------------------------------

READ_ONLY = re.compile(r"^(List|Get|Describe|Head|BatchGet|Select)")  # reads by their name
# Calls that read nothing and write nothing: sts:AssumeRole issues credentials for a role (an
# organization's member account), and changes nothing in either account.
ISSUES_CREDENTIALS = {("sts", "AssumeRole")}


def anyone_may_read(condition: dict[str, Any] | None = None) -> dict[str, Any]:
    """A bucket policy letting anyone GetObject (BUCKET stands for the bucket), under `condition`."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::BUCKET/*",
    }
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


# Calls moto does not implement (it raises NotImplementedError), answered as a new account
# answers them unless a test says otherwise with `answers` or `fail`.
MOTO_GAPS: dict[tuple[str, str], dict[str, Any]] = {
    ("ec2", "GetSnapshotBlockPublicAccessState"): {"State": "unblocked"},
}


class _Raw(io.BytesIO):
    def stream(self, **_: Any):  # what botocore reads an HTTP body from
        yield self.getvalue()


class CallGuard:
    """Installed on a session: records every API call, fails the test on any call that could
    write, and for chosen calls answers with an error (`fail`), with canned responses in turn
    (`answers`), or with HTTP 503 SlowDown a number of times before letting them through
    (`throttle`, keyed by the service id in event names: s3, s3-control, ec2). Calls moto lacks
    (`MOTO_GAPS`, and those a test adds to `gaps`) get an account's default answer."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail: dict[tuple[str, str], str] = {}
        self.throttle: dict[tuple[str, str], int] = {}
        self.answers: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.violations: list[str] = []
        self.gaps = dict(MOTO_GAPS)

    def session(self) -> Any:
        guarded = session()
        self.install(guarded)
        return guarded

    def install(self, target: Any) -> None:
        target.events.register("before-call.*.*", self._before_call)
        # First, so that it answers before moto's own before-send handler.
        target.events.register_first("before-send.*.*", self._before_send)

    def _before_call(self, model: Any, **_: Any) -> Any:
        key = (model.service_model.service_name, model.name)
        self.calls.append(key)
        if not READ_ONLY.match(model.name) and key not in ISSUES_CREDENTIALS:
            self.violations.append(f"{key[0]}:{key[1]}")
            raise AssertionError(f"scanner made a call that is not read-only: {key[0]}:{key[1]}")
        from botocore.awsrequest import AWSResponse

        if self.answers.get(key):
            return AWSResponse("https://injected", 200, {}, _Raw(b"")), self.answers[key].pop(0)
        if key in self.fail:
            code = self.fail[key]
            status = 403 if "Denied" in code or "Unauthorized" in code else 500
            # raw=None: there is no body for botocore's custom parsers (GetBucketLocation) to read.
            return (
                AWSResponse("https://injected", status, {}, None),
                {
                    "Error": {"Code": code, "Message": f"injected {code}"},
                    "ResponseMetadata": {"HTTPStatusCode": status},
                },
            )
        if key in self.gaps:
            return AWSResponse("https://injected", 200, {}, _Raw(b"")), dict(self.gaps[key])
        return None

    def _before_send(self, request: Any, event_name: str, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        operation = event_name.rsplit(".", 1)[-1]
        service = event_name.split(".")[1]
        key = (service, operation)
        if self.throttle.get(key, 0) > 0:
            self.throttle[key] -= 1
            body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
            return AWSResponse(request.url, 503, {"Content-Type": "application/xml"}, _Raw(body))
        return None

    def count(self, service: str, operation: str) -> int:
        return sum(1 for c in self.calls if c == (service, operation))
