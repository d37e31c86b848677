"""AWS Config as the source of S3 bucket settings (--source inventory|auto): one
BatchGetResourceConfig answers a hundred buckets' ACL, policy, Block Public Access, encryption,
versioning, logging and tags, where the API takes seven calls a bucket.

The recorded configuration item is turned back into the answers of the S3 calls it stands for
(RecordedS3), so a bucket is described by the same code whichever source answered; what Config
does not carry (Object Ownership, Object Lock, the content sample, the account's Block Public
Access) is read live. Each document says when Config recorded it. A bucket Config has not
recorded, or a region whose Config cannot be read (no recorder, access denied), is read live.

Item shape (AWS Config, resource type AWS::S3::Bucket): `configuration` and every
`supplementaryConfiguration` value are JSON strings; `AccessControlList` is JSON encoded twice;
group grantees are named (`AllUsers`), users are {id, displayName}; tags are a supplementary part
(BucketTaggingConfiguration: {"tagSets": [{"tags": {...}}]}); a setting never made is left out
(no PublicAccessBlockConfiguration) or null (`policyText`)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from cloudscan.providers.aws.calls import error_of

BATCH = 100  # BatchGetResourceConfig takes at most 100 resource keys
BUCKET = "AWS::S3::Bucket"
GROUP_URIS = {
    "AllUsers": "http://acs.amazonaws.com/groups/global/AllUsers",
    "AuthenticatedUsers": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
    "LogDelivery": "http://acs.amazonaws.com/groups/s3/LogDelivery",
}
PERMISSIONS = {
    "FullControl": "FULL_CONTROL",
    "Read": "READ",
    "Write": "WRITE",
    "ReadAcp": "READ_ACP",
    "WriteAcp": "WRITE_ACP",
}
# Codes that say Config cannot answer for a region: read it through the API instead.
UNUSABLE = (
    "NoAvailableConfigurationRecorderException",
    "AccessDeniedException",
    "AccessDenied",
    "UnrecognizedClientException",
    "EndpointConnectionError",
    "ConnectTimeoutError",
)


class Unusable(Exception):
    """Config cannot answer for a region; the message says why (code: message)."""


def recorded(config: Any, names: list[str]) -> dict[str, dict[str, Any]]:
    """The latest configuration item of each bucket Config recorded, by name. Unusable when the
    service cannot answer; buckets it has no item for are simply absent."""
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(names), BATCH):
        keys = [{"resourceType": BUCKET, "resourceId": n} for n in names[start : start + BATCH]]
        while keys:
            try:
                answer = config.batch_get_resource_config(resourceKeys=keys)
            except Exception as exc:
                code, message = error_of(exc)
                raise Unusable(f"{code}: {message}"[:300]) from None
            for item in answer.get("baseConfigurationItems", []):
                if (
                    item.get("resourceType") == BUCKET
                    and item.get("configurationItemStatus") != "ResourceDeleted"
                ):
                    out[str(item.get("resourceId"))] = item
            # Keys Config did not get to this time (throttled): asked again; those it does not
            # know come back in neither list.
            unprocessed = answer.get("unprocessedResourceKeys") or []
            keys = unprocessed if len(unprocessed) < len(keys) else []
    return out


class RecordedS3:
    """An S3 client whose bucket-settings reads are answered from one recorded configuration
    item; every other call goes to the live client."""

    def __init__(self, live: Any, item: dict[str, Any]) -> None:
        self.live, self.item = live, item
        self.supplementary = item.get("supplementaryConfiguration") or {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.live, name)

    def _part(self, key: str, operation: str) -> Any:
        """The decoded supplementary value, or None when Config left it out."""
        raw = self.supplementary.get(key)
        if raw is None:
            return None
        try:
            value = json.loads(raw) if isinstance(raw, str) else raw
            if key == "AccessControlList" and isinstance(value, str):
                value = json.loads(value)  # encoded twice
        except (ValueError, RecursionError):
            message = f"{key} of the recorded item is not JSON"
            raise _failure("InventoryRecordUnreadable", message, operation) from None
        return value

    def get_bucket_acl(self, Bucket: str) -> dict[str, Any]:
        acl = self._part("AccessControlList", "GetBucketAcl")
        if not isinstance(acl, dict):
            raise _failure(
                "InventoryRecordUnreadable", "no AccessControlList in the recorded item", "GetBucketAcl"
            )
        grants = []
        for entry in acl.get("grantList") or []:
            grantee = entry.get("grantee") if isinstance(entry, dict) else None
            permission = PERMISSIONS.get(str(entry.get("permission")) if isinstance(entry, dict) else "")
            if isinstance(grantee, str) and grantee in GROUP_URIS and permission:
                grants.append(
                    {"Grantee": {"Type": "Group", "URI": GROUP_URIS[grantee]}, "Permission": permission}
                )
            elif isinstance(grantee, dict) and isinstance(grantee.get("id"), str) and permission:
                grants.append(
                    {"Grantee": {"Type": "CanonicalUser", "ID": grantee["id"]}, "Permission": permission}
                )
            else:  # a grantee this reading does not know could be anyone: not a pass
                raise _failure(
                    "InventoryRecordUnreadable", "a recorded ACL grant is not understood", "GetBucketAcl"
                )
        owner = acl.get("owner")
        owner = owner if isinstance(owner, dict) else {}
        return {"Owner": {"ID": owner.get("id")}, "Grants": grants}

    def get_bucket_policy(self, Bucket: str) -> dict[str, Any]:
        policy = self._part("BucketPolicy", "GetBucketPolicy") or {}
        text = policy.get("policyText") if isinstance(policy, dict) else None
        if not text:
            raise _failure("NoSuchBucketPolicy", "no policy recorded", "GetBucketPolicy")
        return {"Policy": text}

    def get_public_access_block(self, Bucket: str) -> dict[str, Any]:
        block = self._part("PublicAccessBlockConfiguration", "GetPublicAccessBlock")
        if not isinstance(block, dict):
            raise _failure("NoSuchPublicAccessBlockConfiguration", "none recorded", "GetPublicAccessBlock")
        names = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        return {"PublicAccessBlockConfiguration": {n: block.get(n[0].lower() + n[1:]) is True for n in names}}

    def get_bucket_encryption(self, Bucket: str) -> dict[str, Any]:
        config = self._part("ServerSideEncryptionConfiguration", "GetBucketEncryption")
        if not isinstance(config, dict) or not config.get("rules"):
            code = "ServerSideEncryptionConfigurationNotFoundError"
            raise _failure(code, "none recorded", "GetBucketEncryption")
        rules = []
        for rule in config["rules"]:
            default = (rule or {}).get("applyServerSideEncryptionByDefault") or {}
            rules.append(
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": default.get("sseAlgorithm"),
                        **(
                            {"KMSMasterKeyID": default["kmsMasterKeyID"]}
                            if default.get("kmsMasterKeyID")
                            else {}
                        ),
                    },
                    **(
                        {"BucketKeyEnabled": rule["bucketKeyEnabled"]}
                        if "bucketKeyEnabled" in (rule or {})
                        else {}
                    ),
                }
            )
        return {"ServerSideEncryptionConfiguration": {"Rules": rules}}

    def get_bucket_versioning(self, Bucket: str) -> dict[str, Any]:
        config = self._part("BucketVersioningConfiguration", "GetBucketVersioning")
        if not isinstance(config, dict):
            raise _failure("InventoryRecordUnreadable", "no versioning recorded", "GetBucketVersioning")
        status = config.get("status")
        return {
            **({"Status": status} if status in ("Enabled", "Suspended") else {}),
            **({"MFADelete": "Enabled"} if config.get("isMfaDeleteEnabled") is True else {}),
        }

    def get_bucket_logging(self, Bucket: str) -> dict[str, Any]:
        config = self._part("BucketLoggingConfiguration", "GetBucketLogging") or {}
        target = config.get("destinationBucketName") if isinstance(config, dict) else None
        if not target:
            return {}
        return {"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": config.get("logFilePrefix") or ""}}

    def get_bucket_tagging(self, Bucket: str) -> dict[str, Any]:
        # BatchGetResourceConfig's items carry no `tags`: the bucket's are a supplementary part.
        config = self._part("BucketTaggingConfiguration", "GetBucketTagging")
        sets = config.get("tagSets") if isinstance(config, dict) else None
        if not sets:
            raise _failure("NoSuchTagSet", "none recorded", "GetBucketTagging")
        tags = {k: v for tag_set in sets for k, v in ((tag_set or {}).get("tags") or {}).items()}
        return {"TagSet": [{"Key": str(k), "Value": str(v)} for k, v in tags.items()]}


# The calls a recorded item answers, and so the fields read from the inventory.
RECORDED_CALLS = {
    "s3:GetBucketAcl": "/access/acl",
    "s3:GetBucketPolicy": "/access/policy",
    "s3:GetPublicAccessBlock": "/access/guards/bucket_block_public_access",
    "s3:GetBucketEncryption": "/encryption",
    "s3:GetBucketVersioning": "/versioning",
    "s3:GetBucketLogging": "/logging",
    "s3:GetBucketTagging": "/labels",
}


def _failure(code: str, message: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)
