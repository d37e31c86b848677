"""Cloud Storage buckets as `storage.bucket` documents, as the Terraform mapper makes them.

The listing carries every setting but IAM: a bucket costs one IAM read, two ACL reads when
uniform access is off, and the content sample."""

from __future__ import annotations

from typing import Any

from cloudscan.model import Document, bucket_access, leave_out, mark_unknown, new_resource
from cloudscan.providers.gcp.clients import GcpClients, error_of
from cloudscan.providers.gcp.iam import acl_grants, policy_grants
from cloudscan.providers.gcp.permissions import TABLE
from cloudscan.providers.sampling import LIST_LIMIT, ReadFailed, Sampling, sample_objects, shown_name

BUCKET_FIELDS = TABLE.fields("storage.bucket")  # permissions.py says which calls fill each


def retry() -> Any:
    """The library's retry of 429, 5xx and dropped connections, for 20 s instead of 120: a
    Cloud Storage that does not answer is an error named soon, not a scan that hangs."""
    from google.cloud.storage.retry import DEFAULT_RETRY

    return DEFAULT_RETRY.with_timeout(20.0)


def list_buckets(clients: GcpClients, project: str) -> list[Any]:
    """Every bucket of `project`, page by page (raises: the caller records the failure)."""
    return list(clients.storage(project).list_buckets(project=project, retry=retry()))


def describe_bucket(
    clients: GcpClients,
    bucket: Any,
    *,
    project: str,
    project_policy: dict[str, Any],
    fields: frozenset[str],
    sampling: Sampling,
    recorded: dict[str, Any] | None = None,
) -> Document:
    """The bucket; `recorded`: its IAM policy as Cloud Asset Inventory recorded it, used
    instead of asking Cloud Storage (providers/gcp/inventory.py)."""
    doc = new_resource(
        "storage.bucket",
        "gcp",
        f"//storage.googleapis.com/projects/_/buckets/{bucket.name}",
        name=bucket.name,
        account=project,
        region=bucket.location,
    )
    uniform = bool(bucket.iam_configuration.uniform_bucket_level_access_enabled)
    if "access" in fields:
        _access(doc, bucket, uniform, project_policy, recorded)
        if recorded is not None:
            doc["source"] = {
                "type": "inventory",
                "service": "cloud-asset-inventory",
                "recorded_at": recorded.get("recorded_at"),
                "recorded": ["/access/policy"],
            }
    key = bucket.default_kms_key_name
    # Cloud Storage encrypts every object; a customer-managed key is the stronger form.
    doc["encryption"] = {
        "enabled": True,
        "algorithm": "cmek" if key else "google-managed",
        "kms_key": key,
        "bucket_key": None,
    }
    doc["versioning"] = {"enabled": bool(bucket.versioning_enabled), "mfa_delete": None}
    period = bucket.retention_period
    doc["object_lock"] = {
        "enabled": period is not None,
        "mode": None
        if period is None
        else ("COMPLIANCE" if bucket.retention_policy_locked else "GOVERNANCE"),
        "retention_days": int(period) // 86400 if period is not None else None,
    }
    target = (bucket.get_logging() or {}).get("logBucket")
    doc["logging"] = {"enabled": bool(target), "target": target}
    doc["labels"] = {str(k): str(v) for k, v in (bucket.labels or {}).items()}
    if "objects" in fields and sampling.size > 0:
        object_acls = "storage.objectAccessControls.list" in TABLE.calls_for({"storage.bucket": fields})
        _sample(doc, clients, bucket, sampling, read_acls=not uniform and object_acls)
    else:
        fields = fields - {"objects"}
    leave_out(doc, BUCKET_FIELDS, fields)
    return doc


def _access(
    doc: Document, bucket: Any, uniform: bool, project_policy: dict[str, Any], recorded: dict[str, Any] | None
) -> None:
    prevention = bucket.iam_configuration.public_access_prevention or "inherited"
    # "unspecified" is what older buckets answer for "inherited".
    guards = {
        "public_access_prevention": "inherited" if prevention == "unspecified" else prevention,
        "uniform_access": uniform,
    }
    doc["access"] = bucket_access(guards)
    bindings: list[dict[str, Any]] | None = None
    if recorded is not None:
        written = recorded["policy"].get("bindings") or []
        bindings = [dict(b) for b in written if isinstance(b, dict)] if isinstance(written, list) else None
        if bindings is None or len(bindings) != len(written):
            bindings = None
            message = "the recorded IAM policy's bindings are not a list of bindings"
            mark_unknown(
                doc,
                ["/access/policy"],
                call="cloudasset.assets.list",
                code="InventoryRecordUnreadable",
                message=message,
            )
    else:
        try:
            policy = bucket.get_iam_policy(requested_policy_version=3, retry=retry())
        except Exception as exc:
            code, message = error_of(exc)
            call = "storage.buckets.getIamPolicy"
            mark_unknown(doc, ["/access/policy"], call=call, code=code, message=message)
        else:
            bindings = [dict(b) for b in policy.bindings]
    if bindings is not None:
        doc["access"]["grants"] += policy_grants({"bindings": bindings}, "bucket IAM")
        doc["access"]["policy"] = {"present": bool(bindings), "statement_count": len(bindings)}
    # The project's IAM applies to every bucket in it.
    if "error" in project_policy:
        code, message = project_policy["error"]
        call = "cloudresourcemanager.projects.getIamPolicy"
        mark_unknown(doc, ["/access/policy"], call=call, code=code, message=message)
    else:
        origin = f"project {doc['account']} IAM"
        doc["access"]["grants"] += policy_grants(project_policy["policy"], origin, service="storage")
    if uniform:
        # With uniform access ACLs do not apply, and Cloud Storage refuses to read them.
        doc["access"]["acl"] = {"owner": None, "grant_count": 0}
        return
    grants: list[dict[str, Any]] = []
    for acl, objects, call in (
        (bucket.acl, False, "storage.bucketAccessControls.list"),
        (bucket.default_object_acl, True, "storage.defaultObjectAccessControls.list"),
    ):
        try:
            acl.reload(retry=retry())
        except Exception as exc:
            code, message = error_of(exc)
            mark_unknown(doc, ["/access/acl"], call=call, code=code, message=message)
            doc["access"]["grants"] += grants  # what was read stands: a public bucket ACL stays public
            return
        entries = [(str(e.get("entity")), str(e.get("role"))) for e in acl]
        grants += acl_grants(
            entries, objects=objects, origin="default object ACL" if objects else "bucket ACL"
        )
    doc["access"]["acl"] = {"owner": None, "grant_count": len(grants)}
    doc["access"]["grants"] += grants


def _sample(doc: Document, clients: GcpClients, bucket: Any, sampling: Sampling, *, read_acls: bool) -> None:
    try:
        listing = clients.storage(None).list_blobs(bucket, max_results=LIST_LIMIT, retry=retry())
        blobs = {b.name: b for b in listing}
    except Exception as exc:
        code, message = error_of(exc)
        mark_unknown(doc, ["/objects"], call="storage.objects.list", code=code, message=message)
        return

    def read_prefix(name: str, size: int) -> bytes:
        try:
            data = blobs[name].download_as_bytes(start=0, end=size - 1, checksum=None, retry=retry())
            return bytes(data)
        except Exception as exc:
            code, _ = error_of(exc)  # Google's message holds the object's URL: its name may be PHI
            message = f"reading object {shown_name(name, sampling)} failed ({code})"
            mark_unknown(doc, ["/objects"], call="storage.objects.get", code=code, message=message)
            raise ReadFailed(name) from None

    try:
        doc["objects"], sampled = sample_objects({n: b.size for n, b in blobs.items()}, read_prefix, sampling)
    except ReadFailed:
        return
    if read_acls and doc["access"] is not None:
        _object_acls(doc, [blobs[n] for n in sampled], sampling)


def _object_acls(doc: Document, blobs: list[Any], sampling: Sampling) -> None:
    """With fine-grained access one object can be public in a private bucket: read the ACLs of
    the objects the sample read."""
    for blob in blobs:
        try:
            blob.acl.reload(retry=retry())
        except Exception as exc:
            code, _ = error_of(exc)  # Google's message holds the object's URL: its name may be PHI
            message = f"reading the ACL of object {shown_name(blob.name, sampling)} failed ({code})"
            mark_unknown(
                doc, ["/access/acl"], call="storage.objectAccessControls.list", code=code, message=message
            )
            return
        entries = [(str(e.get("entity")), str(e.get("role"))) for e in blob.acl]
        grants = acl_grants(
            entries, objects=True, origin=f"object {shown_name(blob.name, sampling)} ACL", label="object "
        )
        doc["access"]["grants"] += grants
        if doc["access"]["acl"] is not None:
            doc["access"]["acl"]["grant_count"] += len(grants)
