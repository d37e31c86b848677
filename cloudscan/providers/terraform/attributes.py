"""Attributes Terraform computes that configuration refers to: a bucket's id and arn, a policy
document's json. A computed value that only exists after apply is a placeholder naming the
reference ("${aws_security_group.pacs.id}"): it identifies the resource without guessing."""

from __future__ import annotations

import json
from typing import Any

from cloudscan.providers.terraform.config import Instance
from cloudscan.providers.terraform.expressions import Unknown, first_unknown

# Resources whose `name` argument is their identity: a reference to .name finds them even
# when the name itself is not known.
NAMED = (
    "azurerm_storage_account",
    "azurerm_storage_container",
    "azurerm_network_security_group",
    "google_healthcare_dicom_store",
    "azurerm_healthcare_dicom_service",
)


def attribute(instance: Instance, name: str) -> Any:
    if instance.mode == "managed" and instance.type == "aws_s3_bucket":
        if name in ("id", "bucket"):
            return bucket_identity(instance)
        if name == "arn":
            return f"arn:aws:s3:::{bucket_identity(instance)}"
    if instance.mode == "managed" and instance.type in NAMED and name == "name":
        return named_identity(instance)
    if instance.mode == "managed" and instance.type == "google_storage_bucket":
        if name in ("id", "name"):
            return named_identity(instance)
        if name == "url":
            return f"gs://{named_identity(instance)}"
    is_data = instance.mode == "data"
    if is_data and instance.type == "google_iam_policy" and name == "policy_data":
        return google_policy_data(instance)
    if is_data and instance.type == "aws_iam_policy_document" and name in ("json", "minified_json"):
        return policy_document_json(instance)
    if instance.mode == "data" and instance.type in ("aws_caller_identity", "aws_region", "aws_partition"):
        return Unknown(f"{instance.address}.{name} depends on the credentials used to apply")
    if name in instance.body:
        return instance.value(name)
    return placeholder(instance, name)


def placeholder(instance: Instance, name: str) -> str:
    module = instance.module.address
    return f"${{{module + '.' if module else ''}{instance.address}.{name}}}"


def bucket_identity(instance: Instance) -> str:
    """The bucket's name when the configuration fixes it, else a placeholder that still tells
    this bucket apart from every other one."""
    name = instance.value("bucket")
    return name if isinstance(name, str) else placeholder(instance, "bucket")


def named_identity(instance: Instance) -> str:
    """Like bucket_identity, for resources whose name is their `name` argument."""
    name = instance.value("name")
    return name if isinstance(name, str) else placeholder(instance, "name")


def google_policy_data(instance: Instance) -> Any:
    """The IAM policy JSON that data "google_iam_policy" renders from its binding blocks."""
    bindings = []
    for block in instance.blocks("binding"):
        unknown = first_unknown(block)
        if unknown:
            return unknown
        binding = {"role": block.get("role"), "members": block.get("members") or []}
        conditions = _as_blocks(block.get("condition"))
        if conditions:
            binding["condition"] = conditions[0]
        bindings.append(binding)
    return json.dumps({"bindings": bindings})


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
    for condition in _as_blocks(block.get("condition")):
        conditions.setdefault(condition["test"], {})[condition["variable"]] = condition["values"]
    if conditions:
        statement["Condition"] = conditions
    return statement


def _principals(blocks: Any) -> Any:
    found = _as_blocks(blocks)
    if not found:
        return None
    if any(b.get("type") == "*" for b in found):
        return "*"
    merged: dict[str, list[str]] = {}
    for block in found:
        merged.setdefault(block["type"], []).extend(block.get("identifiers") or [])
    return merged


def _as_blocks(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    return [v for v in value or [] if isinstance(v, dict)]
