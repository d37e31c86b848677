"""The Google Cloud calls of a scan and the IAM permissions each one needs (see
providers/permissions.py).

Calls are named as the adapter names them in errors, the API's own method names
(`storage.buckets.getIamPolicy`, `healthcare.dicomStores.list`). Most need the permission of
the same name; Resource Manager's are `resourcemanager.*`, and reading an ACL of Cloud Storage
needs the IAM-policy permissions of its bucket or object
(https://cloud.google.com/storage/docs/access-control/iam-json)."""

from __future__ import annotations

from typing import Any

from cloudscan.providers.permissions import Call, Needed, Table

FINE_GRAINED = "where a bucket's uniform bucket-level access is off"
HOLDS_OBJECTS = "where a bucket holds objects"
ACL_OF_BUCKET = ("storage.buckets.get", "storage.buckets.getIamPolicy")
PROJECT_POLICY = "cloudresourcemanager.projects.getIamPolicy"

TABLE = Table(
    "gcp",
    calls={
        "cloudresourcemanager.projects.list": Call(("resourcemanager.projects.list",), option="organization"),
        "cloudresourcemanager.folders.list": Call(("resourcemanager.folders.list",), option="organization"),
        PROJECT_POLICY: Call(("resourcemanager.projects.getIamPolicy",)),
        "storage.buckets.list": Call(("storage.buckets.list",)),
        "storage.buckets.getIamPolicy": Call(("storage.buckets.getIamPolicy",)),
        "cloudasset.assets.list": Call(("cloudasset.assets.listIamPolicy",), option="inventory"),
        "storage.bucketAccessControls.list": Call(ACL_OF_BUCKET, when=FINE_GRAINED),
        "storage.defaultObjectAccessControls.list": Call(ACL_OF_BUCKET, when=FINE_GRAINED),
        "storage.objects.list": Call(("storage.objects.list",), option="sample"),
        "storage.objects.get": Call(("storage.objects.get",), option="sample", when=HOLDS_OBJECTS),
        "storage.objectAccessControls.list": Call(
            ("storage.objects.getIamPolicy",), option="sample", when=f"{FINE_GRAINED} and it holds objects"
        ),
        "compute.firewalls.list": Call(("compute.firewalls.list",)),
        "healthcare.locations.list": Call(("healthcare.locations.list",), when="without --location"),
        "healthcare.datasets.list": Call(("healthcare.datasets.list",)),
        "healthcare.dicomStores.list": Call(("healthcare.dicomStores.list",)),
        "healthcare.datasets.getIamPolicy": Call(
            ("healthcare.datasets.getIamPolicy",), when="where a dataset holds DICOM stores"
        ),
        "healthcare.dicomStores.getIamPolicy": Call(
            ("healthcare.dicomStores.getIamPolicy",), when="where a dataset holds DICOM stores"
        ),
    },
    reads={
        # Listing the projects of --organization, through its folders.
        ("*", "*"): ("cloudresourcemanager.projects.list", "cloudresourcemanager.folders.list"),
        # The bucket listing carries every setting but IAM and ACLs.
        ("storage.bucket", "*"): ("storage.buckets.list",),
        ("storage.bucket", "access"): (
            PROJECT_POLICY,  # every bucket inherits the project's IAM
            "storage.buckets.getIamPolicy",
            "cloudasset.assets.list",
            "storage.bucketAccessControls.list",
            "storage.defaultObjectAccessControls.list",
        ),
        ("storage.bucket", "encryption"): (),
        ("storage.bucket", "versioning"): (),
        ("storage.bucket", "object_lock"): (),
        ("storage.bucket", "logging"): (),
        ("storage.bucket", "labels"): (),
        ("storage.bucket", "objects"): ("storage.objects.list", "storage.objects.get"),
        # One public object makes its bucket public: the ACLs of the sampled objects.
        ("storage.bucket", "objects+access"): ("storage.objectAccessControls.list",),
        ("network.ingress", "*"): ("compute.firewalls.list",),
        ("dicom.store", "*"): (
            PROJECT_POLICY,  # every store inherits the project's IAM, and its dataset's
            "healthcare.locations.list",
            "healthcare.datasets.list",
            "healthcare.dicomStores.list",
            "healthcare.datasets.getIamPolicy",
            "healthcare.dicomStores.getIamPolicy",
        ),
    },
)


def document(needed: list[Needed]) -> dict[str, Any]:
    """A custom role, as `gcloud iam roles create ROLE --organization ORG|--project P --file`
    takes it (JSON is YAML)."""
    return {
        "title": "cloudscan scanner",
        "description": "Read-only: what the enabled cloudscan policies need (cloudscan permissions gcp)",
        "stage": "GA",
        "includedPermissions": sorted({n.permission for n in needed}),
    }
