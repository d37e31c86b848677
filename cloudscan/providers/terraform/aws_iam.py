"""What AWS decides for Terraform configuration: the account a provider block pins, an S3
bucket's id and arn, the JSON that data "aws_iam_policy_document" renders from its blocks, and
the data sources that depend on the credentials used to apply."""

from __future__ import annotations

import json
from typing import Any

from cloudscan.providers.terraform.attributes import NOT_COMPUTED, as_blocks, computed, named_identity
from cloudscan.providers.terraform.config import Instance, Module
from cloudscan.providers.terraform.expressions import Unknown, first_unknown


def account_of(module: Module) -> str | None:
    """The AWS account the provider block pins with a single allowed_account_ids entry."""
    allowed = module.providers.get("aws", {}).get("allowed_account_ids")
    if isinstance(allowed, list) and len(allowed) == 1 and isinstance(allowed[0], str):
        return allowed[0]
    return None


def bucket_identity(instance: Instance) -> str:
    return named_identity(instance, "bucket")


@computed("managed", "aws_s3_bucket")
def _bucket(instance: Instance, name: str) -> Any:
    if name in ("id", "bucket"):
        return bucket_identity(instance)
    if name == "arn":
        return f"arn:aws:s3:::{bucket_identity(instance)}"
    if name in ("bucket_domain_name", "bucket_regional_domain_name"):
        # What a CloudFront origin names: the bucket is what matters, the region may be unknown.
        region = instance.module.providers.get("aws", {}).get("region")
        where = f"s3.{region}" if isinstance(region, str) and name.startswith("bucket_regional") else "s3"
        return f"{bucket_identity(instance)}.{where}.amazonaws.com"
    return NOT_COMPUTED


@computed("data", "aws_iam_policy_document")
def _policy_document(instance: Instance, name: str) -> Any:
    return policy_document_json(instance) if name in ("json", "minified_json") else NOT_COMPUTED


@computed("data", "aws_caller_identity", "aws_region", "aws_partition")
def _credentials_dependent(instance: Instance, name: str) -> Any:
    return Unknown(f"{instance.address}.{name} depends on the credentials used to apply")


def policy_document_json(instance: Instance) -> Any:
    """The IAM JSON that data "aws_iam_policy_document" renders, built from its blocks."""
    statements: list[dict[str, Any]] = []
    for source in instance.value("source_policy_documents") or []:
        if not isinstance(source, str):
            return Unknown(f"{instance.address}: a source policy document is not known")
        try:
            statements.extend(json.loads(source).get("Statement", []))
        except (json.JSONDecodeError, AttributeError):
            return Unknown(f"{instance.address}: a source policy document is not valid JSON")
    for block in instance.blocks("statement"):
        unknown = first_unknown(block)
        if unknown:
            return unknown
        statements.append(_statement(block))
    for override in instance.value("override_policy_documents") or []:
        # Statements of an override replace those with the same Sid and are added otherwise.
        if not isinstance(override, str):
            return Unknown(f"{instance.address}: an override policy document is not known")
        try:
            extra = json.loads(override).get("Statement", [])
        except (json.JSONDecodeError, AttributeError):
            return Unknown(f"{instance.address}: an override policy document is not valid JSON")
        for statement in extra if isinstance(extra, list) else [extra]:
            sid = statement.get("Sid") if isinstance(statement, dict) else None
            statements = [s for s in statements if not sid or s.get("Sid") != sid] + [statement]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _statement(block: dict[str, Any]) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": block.get("effect", "Allow")}
    if block.get("sid"):
        statement["Sid"] = block["sid"]
    for ours, theirs in (
        ("actions", "Action"),
        ("not_actions", "NotAction"),
        ("resources", "Resource"),
        ("not_resources", "NotResource"),
    ):
        if block.get(ours) is not None:
            statement[theirs] = block[ours]
    for ours, theirs in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
        principals = _principals(block.get(ours))
        if principals is not None:
            statement[theirs] = principals
    conditions: dict[str, dict[str, Any]] = {}
    for condition in as_blocks(block.get("condition")):
        conditions.setdefault(condition["test"], {})[condition["variable"]] = condition["values"]
    if conditions:
        statement["Condition"] = conditions
    return statement


def _principals(blocks: Any) -> Any:
    found = as_blocks(blocks)
    if not found:
        return None
    if any(b.get("type") == "*" for b in found):
        return "*"
    merged: dict[str, list[str]] = {}
    for block in found:
        merged.setdefault(block["type"], []).extend(block.get("identifiers") or [])
    return merged
