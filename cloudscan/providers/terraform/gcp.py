"""GCP resources of a Terraform module: GCS buckets with their IAM and ACL resources, and
compute firewalls. What the configuration leaves out takes GCP's defaults: public access
prevention inherited, fine-grained ACLs, Google-managed encryption."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from cloudscan.model import Document, bucket_access, new_resource, store_access
from cloudscan.providers.gcp.iam import (
    DICOM_ROLE_PERMISSIONS,
    PREDEFINED_BUCKET_ACL,
    PREDEFINED_OBJECT_ACL,
    acl_grants,
    binding_grants,
    role_entities,
)
from cloudscan.providers.terraform.attributes import (
    NOT_COMPUTED,
    as_blocks,
    computed,
    identity_named,
    named_identity,
    placeholder,
)
from cloudscan.providers.terraform.config import Instance, Module
from cloudscan.providers.terraform.documents import (
    isolated,
    resource_id,
    set_blocks,
    source_of,
    unresolved,
)
from cloudscan.providers.terraform.expressions import Unknown, as_bool, first_unknown
from cloudscan.providers.terraform.gcp_firewall import ingress_rules, project_of

identity_named("google_healthcare_dicom_store")


@computed("managed", "google_storage_bucket")
def _bucket_attribute(instance: Instance, name: str) -> Any:
    if name in ("id", "name"):
        return named_identity(instance)
    return f"gs://{named_identity(instance)}" if name == "url" else NOT_COMPUTED


@computed("data", "google_iam_policy")
def _policy_data(instance: Instance, name: str) -> Any:
    return google_policy_data(instance) if name == "policy_data" else NOT_COMPUTED


def google_policy_data(instance: Instance) -> Any:
    """The IAM policy JSON that data "google_iam_policy" renders from its binding blocks."""
    bindings = []
    for block in instance.blocks("binding"):
        unknown = first_unknown(block)
        if unknown:
            return unknown
        binding = {"role": block.get("role"), "members": block.get("members") or []}
        conditions = as_blocks(block.get("condition"))
        if conditions:
            binding["condition"] = conditions[0]
        bindings.append(binding)
    return json.dumps({"bindings": bindings})


IAM_TYPES = (
    "google_storage_bucket_iam_binding",
    "google_storage_bucket_iam_member",
    "google_storage_bucket_iam_policy",
)
ACL_TYPES = (
    "google_storage_bucket_acl",
    "google_storage_bucket_access_control",
    "google_storage_default_object_acl",
    "google_storage_default_object_access_control",
    # One object made public leaks that study as surely as a public bucket.
    "google_storage_object_acl",
    "google_storage_object_access_control",
)


# A project's IAM reaches every bucket and store of the project.
PROJECT_IAM = ("google_project_iam_binding", "google_project_iam_member", "google_project_iam_policy")


def _project_parts(module: Module, project: Any) -> tuple[list[Instance], list[str]]:
    """The project IAM resources of `project`, and why others may be its IAM too."""
    parts, unclear = [], []
    for type_ in PROJECT_IAM:
        for part in module.related(type_):
            own = part.value("project")
            own = project_of(part.module) if own is None else own
            if isinstance(own, Unknown) or part.uncertain:
                unclear.append(f"{part.address} may be this project's IAM")
            elif own == project:
                parts.append(part)
    return parts, unclear


def _unknown_target(instance: Instance, target: Any) -> str | None:
    """Why `instance` might configure any resource of this module, or None if it is clear."""
    if instance.uncertain:
        return f"{instance.address}: {instance.uncertain}"
    if isinstance(target, Unknown):
        return f"{instance.address}: {target.reason}"
    return None


def buckets(module: Module) -> Iterator[Document]:
    related: dict[Any, list[Instance]] = {}
    unlinked: dict[str, str] = {}  # pointer -> why a grant may be any bucket's
    for type_ in IAM_TYPES + ACL_TYPES:
        # A grant can sit in the module that calls the bucket's module, or the other way round.
        for instance in module.related(type_):
            target = instance.value("bucket")
            target = target.removeprefix("b/") if isinstance(target, str) else target
            why = _unknown_target(instance, target)
            if why:
                unlinked.setdefault("/access/policy" if type_ in IAM_TYPES else "/access/acl", why)
            else:
                related.setdefault(target, []).append(instance)
    yield from isolated(
        module,
        module.managed("google_storage_bucket"),
        "storage.bucket",
        "gcp",
        lambda bucket: [_bucket(module, bucket, related, unlinked)],
    )


def _bucket(
    module: Module, bucket: Instance, related: dict[Any, list[Instance]], unlinked: dict[str, str]
) -> Document:
    identity = named_identity(bucket)
    project = bucket.value("project")
    doc = new_resource(
        "storage.bucket",
        "gcp",
        resource_id(module, bucket),
        name=identity,
        account=project if isinstance(project, str) else project_of(module),
        region=_str(bucket.value("location")),
        source=source_of(bucket),
    )
    labels = bucket.value("labels")
    if unknown := first_unknown(labels):
        unresolved(doc, ["/labels"], bucket, unknown.reason)
    else:
        doc["labels"] = {str(k): str(v) for k, v in (labels or {}).items()}
    project_parts, unclear = _project_parts(module, doc["account"])
    _access(doc, bucket, related.get(identity, []) + project_parts)
    for why in unclear:
        unresolved(doc, ["/access/policy"], bucket, why)
    _settings(doc, bucket)
    for pointer, why in unlinked.items():
        unresolved(doc, [pointer], bucket, f"a grant this scan cannot place may be this bucket's: {why}")
    if module.unreadable:
        unresolved(
            doc,
            ["/access/policy", "/access/acl"],
            bucket,
            f"{', '.join(module.unreadable)} could not be read and may grant access to it",
        )
    return doc


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _access(doc: Document, bucket: Instance, parts: list[Instance]) -> None:
    prevention = bucket.value("public_access_prevention")
    uniform = bucket.value("uniform_bucket_level_access")
    doc["access"] = bucket_access(
        {
            "public_access_prevention": prevention if prevention is not None else "inherited",
            "uniform_access": bool(uniform) if uniform is not None else False,
        }
    )
    for pointer, value in (
        ("/access/guards/public_access_prevention", prevention),
        ("/access/guards/uniform_access", uniform),
    ):
        if isinstance(value, Unknown):
            unresolved(doc, [pointer], bucket, value.reason)
    _acls(doc, bucket, [p for p in parts if p.type in ACL_TYPES])
    _iam(doc, [p for p in parts if p.type in IAM_TYPES + PROJECT_IAM], bucket)


def _acls(doc: Document, bucket: Instance, parts: list[Instance]) -> None:
    grants: list[dict[str, Any]] = []
    for part in parts:
        objects = "object" in part.type
        if part.type.endswith("_access_control"):
            entries = [(part.value("entity"), part.value("role"))]
        else:
            predefined = part.value("predefined_acl")
            table = PREDEFINED_OBJECT_ACL if objects else PREDEFINED_BUCKET_ACL
            entries = list(table.get(predefined, [])) if isinstance(predefined, str) else []
            role_entity = part.value("role_entity")
            entries += (
                [(role_entity, role_entity)]
                if isinstance(role_entity, Unknown)
                else role_entities(role_entity or [])
            )
        unknown = first_unknown(entries)
        if unknown or any(not isinstance(e, str) or not isinstance(r, str) for e, r in entries):
            unresolved(doc, ["/access/acl"], part, unknown.reason if unknown else "an ACL entry is not known")
            return
        origin = part.address
        if part.type.startswith("google_storage_object_"):
            name = part.value("object")
            origin += f" (object {name if isinstance(name, str) else '(not known)'})"
        grants += acl_grants(entries, objects=objects, origin=origin)
    doc["access"]["acl"] = {"owner": None, "grant_count": len(grants)}
    doc["access"]["grants"].extend(grants)


def _iam(
    doc: Document, parts: list[Instance], bucket: Instance, roles: dict[str, list[str]] | None = None
) -> None:
    grants: list[dict[str, Any]] = []
    bindings = 0
    for part in parts:
        if part.type.endswith("_iam_policy"):
            data = part.value("policy_data")
            if isinstance(data, Unknown):
                unresolved(doc, ["/access/policy"], part, data.reason)
                return
            try:
                found = json.loads(data).get("bindings", []) if isinstance(data, str) else []
            except (json.JSONDecodeError, AttributeError):
                unresolved(doc, ["/access/policy"], part, "policy_data is not valid JSON")
                return
        else:
            members = part.value("members") if part.type.endswith("_binding") else [part.value("member")]
            found = [
                {
                    "role": part.value("role"),
                    "members": members,
                    "condition": next(iter(part.blocks("condition")), None),
                }
            ]
        for i, binding in enumerate(found):
            unknown = first_unknown(binding)
            if unknown:
                unresolved(doc, ["/access/policy"], part, unknown.reason)
                return
            bindings += 1
            origin = part.address + (f" bindings[{i}]" if part.type.endswith("_iam_policy") else "")
            inherited = part.type in PROJECT_IAM
            grants += binding_grants(
                str(binding.get("role")),
                [str(m) for m in binding.get("members") or []],
                binding.get("condition"),
                origin,
                roles,
                service=(("healthcare" if roles else "storage") if inherited else None),
            )
            if inherited:
                bindings -= 1  # a project's bindings are not the resource's own policy
    doc["access"]["policy"] = {"present": bool(bindings), "statement_count": bindings}
    doc["access"]["grants"].extend(grants)


def _settings(doc: Document, bucket: Instance) -> None:
    encryption = (bucket.blocks("encryption") or [{}])[0]
    key = encryption.get("default_kms_key_name")
    versioning = (bucket.blocks("versioning") or [{}])[0]
    retention = next(iter(bucket.blocks("retention_policy")), None)
    logging = (bucket.blocks("logging") or [{}])[0]
    values: dict[str, dict[str, Any]] = {
        # GCS encrypts every object; a customer-managed key is the stronger form.
        "encryption": {
            "enabled": True,
            "algorithm": "cmek" if key else "google-managed",
            "kms_key": key,
            "bucket_key": None,
        },
        "versioning": {"enabled": as_bool(versioning.get("enabled"), False), "mfa_delete": None},
        "object_lock": {
            "enabled": retention is not None,
            "mode": None
            if retention is None
            else ("COMPLIANCE" if retention.get("is_locked") is True else "GOVERNANCE"),
            "retention_days": (
                int(retention["retention_period"]) // 86400
                if retention and isinstance(retention.get("retention_period"), int)
                else None
            ),
        },
        "logging": {"enabled": bool(logging.get("log_bucket")), "target": logging.get("log_bucket")},
    }
    set_blocks(doc, values, bucket)


STORE_IAM = (
    "google_healthcare_dicom_store_iam_binding",
    "google_healthcare_dicom_store_iam_member",
    "google_healthcare_dicom_store_iam_policy",
)
DATASET_IAM = (
    "google_healthcare_dataset_iam_binding",
    "google_healthcare_dataset_iam_member",
    "google_healthcare_dataset_iam_policy",
)


def dicom_stores(module: Module) -> Iterator[Document]:
    """Healthcare DICOM stores with the IAM of the store and of its dataset (which it inherits)."""
    targets = [(t, "dicom_store_id") for t in STORE_IAM] + [(t, "dataset_id") for t in DATASET_IAM]
    unlinked = [
        why for t, key in targets for i in module.related(t) if (why := _unknown_target(i, i.value(key)))
    ]
    yield from isolated(
        module,
        module.managed("google_healthcare_dicom_store"),
        "dicom.store",
        "gcp",
        lambda store: [_dicom_store(module, store, unlinked)],
    )


def _copy(kind: str, target: Any) -> dict[str, Any]:
    return {"type": kind, "target": "(not set)" if target is None else target}


def _dicom_store(module: Module, store: Instance, unlinked: list[str]) -> Document:
    store_id, dataset_id = placeholder(store, "id"), store.value("dataset")
    parts = [i for t in STORE_IAM for i in module.related(t) if i.value("dicom_store_id") == store_id]
    parts += [i for t in DATASET_IAM for i in module.related(t) if i.value("dataset_id") == dataset_id]
    doc = new_resource(
        "dicom.store",
        "gcp",
        resource_id(module, store),
        name=named_identity(store),
        account=project_of(module),
        source=source_of(store),
    )
    doc["access"] = store_access()
    project_parts, unclear = _project_parts(module, doc["account"])
    _iam(doc, parts + project_parts, store, DICOM_ROLE_PERMISSIONS)
    for why in unclear:
        unresolved(doc, ["/access/policy"], store, why)
    # The Healthcare API answers on the internet to anyone IAM lets in; CORS is not set here.
    doc["network"] = {"public_network_access": True, "private_endpoints": None}
    doc["cors"] = {"allow_any_origin": False, "allow_credentials": False}
    datasets = [d for d in module.related("google_healthcare_dataset") if placeholder(d, "id") == dataset_id]
    spec = (datasets[0].blocks("encryption_spec") or [{}])[0] if datasets else {}
    key = spec.get("kms_key_name")
    values = {
        "encryption": {"customer_managed_key": bool(key), "kms_key": key},
        "copies": [
            _copy("bigquery", (c.get("bigquery_destination") or [{}])[0].get("table_uri"))
            for c in store.blocks("stream_configs")
        ]
        + [
            _copy("pubsub", n.get("pubsub_topic"))
            for n in store.blocks("notification_config")
            if n.get("pubsub_topic") is not None
        ],
    }
    set_blocks(doc, values, store)
    if unlinked:
        unresolved(
            doc,
            ["/access/policy"],
            store,
            f"a grant this scan cannot place may be this store's: {unlinked[0]}",
        )
    elif module.unreadable:
        unresolved(
            doc,
            ["/access/policy"],
            store,
            f"{', '.join(module.unreadable)} could not be read and may grant access to it",
        )
    return doc


__all__ = ["buckets", "dicom_stores", "ingress_rules", "project_of"]
