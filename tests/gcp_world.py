"""A Google Cloud project built for a test, read by the live GCP adapter through the real client
libraries: Cloud Storage in gcp-storage-emulator (or, for what it does not keep, such as object
ACLs, in the local GoogleFake), and the Healthcare, Compute and Resource Manager APIs in the
GoogleFake.

A spec (tests/scenarios/gcp/*.json) describes the project:
  buckets: {name: {iam, acl, default_object_acl, uniform, prevention, versioning, retention,
            logging, kms, labels, objects: {name: {"dicom": bool, "acl": [[entity, role]]}}}}
  project_iam: [bindings]
  datasets: {"LOCATION/DATASET": {iam, kms, stores: {name: {iam, streams, pubsub}}}}
  firewalls: [Compute API firewall resources]
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

os.environ["DISABLE_GCS_PYTHON_CLIENT_OTEL_BUCKET_METADATA"] = "true"

import requests
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from google_fake import GoogleFake
from pydicom.dataset import FileMetaDataset

from cloudscan.providers.gcp.clients import Endpoints, GcpClients

READS = (":getIamPolicy",)


def dicom_bytes() -> bytes:
    """A small DICOM file with a patient name in its header."""
    import io

    from pydicom.dataset import FileDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("study.dcm", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "123"
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


@contextmanager
def storage_emulator() -> Iterator[str]:
    """gcp-storage-emulator in this process on a free loopback port, in memory."""
    from gcp_storage_emulator.server import create_server

    server = create_server("127.0.0.1", 0, in_memory=True)
    server.start()
    try:
        yield f"http://127.0.0.1:{server._api._httpd.server_address[1]}"
    finally:
        server.stop()


@dataclass
class Guard:
    """Every HTTP request the scan's google-cloud-storage client sends; a write fails the test
    before it leaves (the GoogleFake refuses writes on its own side too)."""

    requests: list[tuple[str, str]] = field(default_factory=list)
    writes: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, method: str, url: str) -> None:
        path = url.split("?", 1)[0]
        with self.lock:
            self.requests.append((method, path))
            if method != "GET" and not (method == "POST" and path.endswith(READS)):
                self.writes.append((method, path))
                raise AssertionError(f"the scan sent a write: {method} {path}")


@contextmanager
def read_only(monkeypatch: Any) -> Iterator[Guard]:
    guard = Guard()
    send = requests.Session.send

    def guarded(session: requests.Session, request: Any, **kwargs: Any) -> Any:
        guard.check(request.method, request.url)
        return send(session, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", guarded)
    yield guard
    monkeypatch.undo()


RECORDED_AT = "2026-11-29T04:12:33.120Z"


class World:
    """One project: storage in the emulator (or the fake), everything else in the fake."""

    def __init__(self, fake: GoogleFake, storage_url: str, project: str) -> None:
        self.fake, self.storage_url, self.project = fake, storage_url, project
        self.emulated = storage_url != fake.url

    def clients(self) -> GcpClients:
        endpoints = Endpoints(
            storage=self.storage_url,
            healthcare=self.fake.url,
            compute=self.fake.url,
            resource_manager=self.fake.url,
            asset=self.fake.url,
        )
        return GcpClients(AnonymousCredentials(), endpoints, max_pool=8)

    def record_assets(self, project: str | None = None) -> None:
        """Cloud Asset Inventory's IAM_POLICY assets of the project's buckets, as Cloud Storage
        answers now (in the emulator or the fake), stored in the fake."""
        project = project or self.project
        client = storage.Client(
            project=project,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=self.storage_url),
        )
        for bucket in client.list_buckets(project=project):
            policy = bucket.get_iam_policy(requested_policy_version=3)
            bindings = [{"role": b["role"], "members": sorted(b["members"])} for b in policy.bindings]
            asset = {
                "name": f"//storage.googleapis.com/{bucket.name}",
                "assetType": "storage.googleapis.com/Bucket",
                "iamPolicy": {"bindings": bindings, "etag": "BwXyz"},
                "updateTime": RECORDED_AT,
            }
            self.fake.put(f"/v1/projects/{project}/assets/{bucket.name}", asset)

    def build(self, spec: dict[str, Any]) -> None:
        project = spec.get("project", self.project)
        self.fake.put(f"/v3/projects/{project}", {"name": f"projects/{project}", "projectId": project})
        self.fake.set_iam(f"/v3/projects/{project}", {"bindings": spec.get("project_iam", [])})
        self.fake.put(f"/compute/v1/projects/{project}", {"name": project})
        self.fake.put(f"/v1/projects/{project}", {"name": project})
        for firewall in spec.get("firewalls", []):
            defaults = {"direction": "INGRESS", "priority": 1000, "network": "global/networks/default"}
            firewall = {**defaults, **firewall}
            self.fake.put(f"/compute/v1/projects/{project}/global/firewalls/{firewall['name']}", firewall)
        self._datasets(project, spec.get("datasets", {}))
        for name, bucket in spec.get("buckets", {}).items():
            (self._emulated_bucket if self.emulated else self._fake_bucket)(project, name, bucket)

    def _datasets(self, project: str, datasets: dict[str, Any]) -> None:
        for where, dataset in datasets.items():
            location, name = where.split("/")
            base = f"/v1/projects/{project}/locations/{location}"
            self.fake.put(base, {"name": base[4:], "locationId": location})
            path = f"{base}/datasets/{name}"
            resource: dict[str, Any] = {"name": path[4:]}
            if dataset.get("kms"):
                resource["encryptionSpec"] = {"kmsKeyName": dataset["kms"]}
            self.fake.put(path, resource)
            self.fake.set_iam(path, {"bindings": dataset.get("iam", [])})
            for store_name, store in dataset.get("stores", {}).items():
                store_path = f"{path}/dicomStores/{store_name}"
                body: dict[str, Any] = {"name": store_path[4:], "labels": store.get("labels", {})}
                if store.get("streams"):
                    body["streamConfigs"] = [
                        {"bigqueryDestination": {"tableUri": t}} for t in store["streams"]
                    ]
                if store.get("pubsub"):
                    body["notificationConfig"] = {"pubsubTopic": store["pubsub"]}
                self.fake.put(store_path, body)
                self.fake.set_iam(store_path, {"bindings": store.get("iam", [])})

    def _emulated_bucket(self, project: str, name: str, spec: dict[str, Any]) -> None:
        client = storage.Client(
            project=project,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=self.storage_url),
        )
        bucket = client.create_bucket(name)  # the emulator keeps only the name: patch the rest
        bucket.iam_configuration.uniform_bucket_level_access_enabled = spec.get("uniform", False)
        bucket.iam_configuration.public_access_prevention = spec.get("prevention", "inherited")
        bucket.versioning_enabled = spec.get("versioning", False)
        if "retention" in spec:
            bucket.retention_period = spec["retention"]["period"]
        if spec.get("logging"):
            bucket.enable_logging(spec["logging"])
        if spec.get("kms"):
            bucket.default_kms_key_name = spec["kms"]
        bucket.labels = spec.get("labels", {})
        bucket.patch()
        policy = bucket.get_iam_policy()
        policy.bindings = [{"role": b["role"], "members": set(b["members"])} for b in spec.get("iam", [])]
        bucket.set_iam_policy(policy)
        acls = (
            (bucket.acl, spec.get("acl", [])),
            (bucket.default_object_acl, spec.get("default_object_acl", [])),
        )
        for acl, entries in acls:
            acl.reload()
            for entity, role in entries:
                acl.entity_from_dict({"entity": entity, "role": role})
            acl.save()
        for object_name, content in spec.get("objects", {}).items():
            data = dicom_bytes() if content.get("dicom") else b"not an image " * 20
            bucket.blob(object_name).upload_from_string(data, content_type="application/dicom")

    def _fake_bucket(self, project: str, name: str, spec: dict[str, Any]) -> None:
        resource: dict[str, Any] = {
            "kind": "storage#bucket",
            "name": name,
            "id": name,
            "projectNumber": "1234",
            "location": "EU",
            "iamConfiguration": {
                "uniformBucketLevelAccess": {"enabled": spec.get("uniform", False)},
                "publicAccessPrevention": spec.get("prevention", "inherited"),
            },
            "versioning": {"enabled": spec.get("versioning", False)},
            "labels": spec.get("labels", {}),
        }
        if "retention" in spec:
            resource["retentionPolicy"] = {
                "retentionPeriod": str(spec["retention"]["period"]),
                "isLocked": spec["retention"].get("locked", False),
            }
        if spec.get("logging"):
            resource["logging"] = {"logBucket": spec["logging"]}
        if spec.get("kms"):
            resource["encryption"] = {"defaultKmsKeyName": spec["kms"]}
        path = f"/storage/v1/b/{name}"
        self.fake.put(path, resource)
        self.fake.set_iam(path, {"bindings": spec.get("iam", [])})
        acls = (("acl", spec.get("acl", [])), ("defaultObjectAcl", spec.get("default_object_acl", [])))
        for collection, entries in acls:
            for entity, role in entries:
                self.fake.put(f"{path}/{collection}/{entity}", {"entity": entity, "role": role})
        for object_name, content in spec.get("objects", {}).items():
            self.fake.put_media(name, object_name, dicom_bytes() if content.get("dicom") else b"x" * 200)
            object_path = self.fake.object_path(name, object_name)
            for entity, role in content.get("acl", []):
                self.fake.put(f"{object_path}/acl/{entity}", {"entity": entity, "role": role})
