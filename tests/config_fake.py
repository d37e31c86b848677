"""A local AWS Config (JSON 1.1, X-Amz-Target StarlingDoveService.*) for the real boto3 `config`
client, and a recorder that writes what S3 answers into configuration items the way AWS
Config records them. moto's own Config cannot stand in: it fails on a bucket ACL that grants
AllUsers, and records neither encryption nor versioning.

The item shape follows AWS Config's S3 bucket item: `configuration` and each
`supplementaryConfiguration` value are JSON strings, `AccessControlList` is encoded twice,
group grantees are named (AllUsers), a setting never made is left out or null. The region
asked is the one the request was signed for (each region has its own Config).

An aggregator (`aggregators`: name -> the region it lives in) answers
BatchGetAggregateResourceConfig for every account's recorded buckets, by source account and
region, at most `aggregate_batch` identifiers a call (the rest come back unprocessed, as when
Config is busy). Bucket names are global, so one store serves both routes: a region's own Config
answers for the buckets recorded in that region, the aggregator for those of the account asked.

    with ConfigFake() as config:                      # AWS_ENDPOINT_URL_CONFIG_SERVICE=config.url
        config.record(session, ["pacs-exports"])      # what S3 says now, recorded
        config.aggregators["org-imaging"] = "us-east-1"
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from loopback_server import LoopbackServer

SIGNED = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/config/")  # access key id, region
CAPTURED_AT = "2026-11-29T04:12:33.000Z"
GROUP_NAMES = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "AuthenticatedUsers",
    "http://acs.amazonaws.com/groups/s3/LogDelivery": "LogDelivery",
}
PERMISSION_NAMES = {
    "FULL_CONTROL": "FullControl",
    "READ": "Read",
    "WRITE": "Write",
    "READ_ACP": "ReadAcp",
    "WRITE_ACP": "WriteAcp",
}


class ConfigFake(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], dict[str, Any]] = {}  # (region, bucket) -> item
        # region or operation -> (error type, message)
        self.refuse: dict[str, tuple[str, str]] = {}
        self.requests: list[tuple[str, str, int]] = []  # (operation, region, keys asked)
        self.signers: list[str] = []  # the access key id of each request, in turn
        self.aggregators: dict[str, str] = {}  # aggregator name -> its region
        self.aggregate_batch: int | None = None  # identifiers answered a call (None: all)
        self.aggregate_calls_allowed: int | None = None  # then AccessDenied (a revoked delegation)
        self._lock = threading.Lock()

    def handle(self, method: str, path: str, query: Any, body: bytes, headers: Any) -> Any:
        operation = str(headers.get("X-Amz-Target", "")).rpartition(".")[2]
        found = SIGNED.search(str(headers.get("Authorization", "")))
        signer, region = (found[1], found[2]) if found else ("?", "?")
        asked = json.loads(body or b"{}")
        keys = asked.get("resourceKeys") or asked.get("ResourceIdentifiers") or []
        with self._lock:
            self.requests.append((operation, region, len(keys)))
            self.signers.append(signer)
        for refused in (region, operation):
            if refused in self.refuse:
                kind, message = self.refuse[refused]
                return _json(400, {"__type": kind, "message": message})
        if len(keys) > 100:
            return _json(400, {"__type": "ValidationException", "message": "at most 100 resource keys"})
        if operation == "BatchGetResourceConfig":
            items = [
                self.items[region, k["resourceId"]] for k in keys if (region, k["resourceId"]) in self.items
            ]
            return _json(200, {"baseConfigurationItems": items, "unprocessedResourceKeys": []})
        if operation == "BatchGetAggregateResourceConfig":
            return self._aggregate(asked, region, keys)
        return _json(400, {"__type": "InvalidAction", "message": f"ConfigFake does not do {operation}"})

    def _aggregate(self, asked: dict[str, Any], region: str, keys: list[dict[str, Any]]) -> Any:
        name = asked.get("ConfigurationAggregatorName")
        with self._lock:
            if self.aggregate_calls_allowed is not None:
                if self.aggregate_calls_allowed <= 0:
                    return _json(400, {"__type": "AccessDeniedException", "message": "delegation revoked"})
                self.aggregate_calls_allowed -= 1
        if self.aggregators.get(str(name)) != region:
            message = f"The configuration aggregator {name} does not exist in {region}"
            return _json(400, {"__type": "NoSuchConfigurationAggregatorException", "message": message})
        limit = len(keys) if self.aggregate_batch is None else self.aggregate_batch
        items = []
        for key in keys[:limit]:
            item = self.items.get((key["SourceRegion"], key["ResourceId"]))
            if item is not None and item["accountId"] == key["SourceAccountId"]:
                items.append(item)
        return _json(200, {"BaseConfigurationItems": items, "UnprocessedResourceIdentifiers": keys[limit:]})

    def record(self, session: Any, names: list[str]) -> None:
        """Record each bucket as S3 answers now, in its region's Config."""
        s3 = session.client("s3")
        account = session.client("sts").get_caller_identity()["Account"]
        for name in names:
            region = s3.get_bucket_location(Bucket=name).get("LocationConstraint") or "us-east-1"
            s3_there = session.client("s3", region_name=region)
            self.items[region, name] = recorded_item(s3_there, name, region, account)


def recorded_item(s3: Any, name: str, region: str, account: str = "123456789012") -> dict[str, Any]:
    acl = s3.get_bucket_acl(Bucket=name)
    grants = [
        {
            "grantee": GROUP_NAMES[g["Grantee"]["URI"]]
            if g["Grantee"].get("Type") == "Group"
            else {"id": g["Grantee"].get("ID"), "displayName": None},
            "permission": PERMISSION_NAMES[g["Permission"]],
        }
        for g in acl.get("Grants", [])
    ]
    owner = {"displayName": None, "id": acl["Owner"]["ID"]}
    supplementary: dict[str, Any] = {
        "AccessControlList": json.dumps(json.dumps({"grantSet": None, "grantList": grants, "owner": owner})),
        "BucketPolicy": json.dumps({"policyText": _or_none(s3.get_bucket_policy, "Policy", Bucket=name)}),
        "BucketLoggingConfiguration": json.dumps(_logging(s3, name)),
        "BucketVersioningConfiguration": json.dumps(_versioning(s3, name)),
        "IsRequesterPaysEnabled": "false",
    }
    block = _or_none(s3.get_public_access_block, "PublicAccessBlockConfiguration", Bucket=name)
    if block is not None:
        supplementary["PublicAccessBlockConfiguration"] = json.dumps(
            {k[0].lower() + k[1:]: v for k, v in block.items()}
        )
    encryption = _or_none(s3.get_bucket_encryption, "ServerSideEncryptionConfiguration", Bucket=name)
    if encryption is not None:
        rules = [
            {
                "applyServerSideEncryptionByDefault": {
                    "sseAlgorithm": r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"],
                    "kmsMasterKeyID": r["ApplyServerSideEncryptionByDefault"].get("KMSMasterKeyID"),
                },
                "bucketKeyEnabled": r.get("BucketKeyEnabled", False),
            }
            for r in encryption.get("Rules", [])
        ]
        supplementary["ServerSideEncryptionConfiguration"] = json.dumps({"rules": rules})
    tags = _or_none(s3.get_bucket_tagging, "TagSet", Bucket=name) or []
    if tags:
        supplementary["BucketTaggingConfiguration"] = json.dumps(
            {"tagSets": [{"tags": {t["Key"]: t["Value"] for t in tags}}]}
        )
    return {
        "version": "1.3",
        "accountId": account,
        "configurationItemCaptureTime": CAPTURED_AT,
        "configurationItemStatus": "OK",
        "configurationStateId": "1764389553000",
        "arn": f"arn:aws:s3:::{name}",
        "resourceType": "AWS::S3::Bucket",
        "resourceId": name,
        "resourceName": name,
        "awsRegion": region,
        "availabilityZone": "Regional",
        "configuration": json.dumps({"name": name, "owner": owner}),
        "supplementaryConfiguration": supplementary,
    }


def _or_none(call: Any, key: str, **kwargs: Any) -> Any:
    try:
        return call(**kwargs)[key]
    except Exception as exc:  # "not configured" answers, which Config records as absent
        if "NoSuch" in str(exc) or "NotFound" in str(exc):
            return None
        raise


def _logging(s3: Any, name: str) -> dict[str, Any]:
    enabled = s3.get_bucket_logging(Bucket=name).get("LoggingEnabled") or {}
    return {
        "destinationBucketName": enabled.get("TargetBucket"),
        "logFilePrefix": enabled.get("TargetPrefix"),
    }


def _versioning(s3: Any, name: str) -> dict[str, Any]:
    answer = s3.get_bucket_versioning(Bucket=name)
    mfa = answer.get("MFADelete")
    return {
        "status": answer.get("Status", "Off"),
        "isMfaDeleteEnabled": None if mfa is None else mfa == "Enabled",
    }


def _json(status: int, body: dict[str, Any]) -> Any:
    return status, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(body).encode()
