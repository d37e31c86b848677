"""The Google fake, driven by the real client libraries over real HTTP.

If these pass, a live GCP adapter test that fails is about the adapter, not about the fake: the
discovery clients and google-cloud-storage build the URLs, follow the page tokens and parse the errors.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

# Without this google-cloud-storage starts background GET /b/{name} threads (bucket metadata cache).
os.environ["DISABLE_GCS_PYTHON_CLIENT_OTEL_BUCKET_METADATA"] = "true"

from google.api_core import exceptions as core_exceptions
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from google_fake import GoogleFake
from googleapiclient import discovery
from googleapiclient.errors import HttpError

LOC = "projects/p/locations/eu"
STORE = f"{LOC}/datasets/d0/dicomStores/s1"
VIEWERS = [{"role": "roles/healthcare.dicomViewer", "members": ["allAuthenticatedUsers"]}]


@pytest.fixture
def fake() -> Iterator[GoogleFake]:
    with GoogleFake() as server:
        yield server


class Clients:
    """Real clients aimed at the fake, closed after the test so no socket outlives the server."""

    def __init__(self, fake: GoogleFake) -> None:
        self.fake = fake
        self.opened: list[Any] = []

    def discovery(self, api: str, version: str, service_path: str = "/") -> Any:
        """A client from the bundled discovery document; `api_endpoint` replaces root URL and service path."""
        options = {"api_endpoint": self.fake.url + service_path}
        creds = AnonymousCredentials()
        service = discovery.build(
            api, version, static_discovery=True, credentials=creds, client_options=options
        )
        self.opened.append(service)
        return service

    def gcs(self) -> storage.Client:
        options = ClientOptions(api_endpoint=self.fake.url)
        client = storage.Client(project="p", credentials=AnonymousCredentials(), client_options=options)
        self.opened.append(client)
        return client


@pytest.fixture
def clients(fake: GoogleFake) -> Iterator[Clients]:
    made = Clients(fake)
    yield made
    for client in made.opened:
        client.close()


def pages(collection: Any, request: Any, key: str) -> list[list[str]]:
    """Follow list_next the way the adapter must, one list of names per page."""
    out = []
    while request is not None:
        response = request.execute()
        out.append([item["name"] for item in response.get(key, [])])
        request = collection.list_next(request, response)
    return out


def test_healthcare_pages_datasets_and_reads_a_store_and_its_policy(
    fake: GoogleFake, clients: Clients
) -> None:
    fake.put(f"/v1/{LOC}", {"name": LOC})
    for i in range(5):
        fake.put(f"/v1/{LOC}/datasets/d{i}", {"name": f"{LOC}/datasets/d{i}"})
    fake.put(f"/v1/{STORE}", {"name": STORE, "labels": {"phi": "yes"}})
    fake.set_iam(f"/v1/{STORE}", {"version": 1, "etag": "BwX=", "bindings": VIEWERS})
    datasets = clients.discovery("healthcare", "v1").projects().locations().datasets()

    got = pages(datasets, datasets.list(parent=LOC, pageSize=2), "datasets")

    assert got == [[f"{LOC}/datasets/d{i}" for i in ids] for ids in ((0, 1), (2, 3), (4,))]
    assert [q.get("pageToken") for m, p, q in fake.requests] == [None, "t2", "t4"]
    stores = datasets.dicomStores()
    assert stores.get(name=STORE).execute()["labels"] == {"phi": "yes"}
    policy = stores.getIamPolicy(resource=STORE, options_requestedPolicyVersion=3).execute()
    assert policy["bindings"] == VIEWERS
    assert fake.requests[-1] == (
        "GET",
        f"/v1/{STORE}:getIamPolicy",
        {"options.requestedPolicyVersion": "3", "alt": "json"},
    )
    fake.put(f"/v1/{LOC}/datasets/d0/dicomStores/bare", {"name": f"{LOC}/datasets/d0/dicomStores/bare"})
    assert stores.getIamPolicy(resource=f"{LOC}/datasets/d0/dicomStores/bare").execute() == {"etag": "ACAB"}
    with pytest.raises(HttpError) as missing:
        stores.getIamPolicy(resource=f"{LOC}/datasets/d0/dicomStores/gone").execute()
    assert missing.value.status_code == 404
    assert fake.violations == []


def test_empty_collection_answers_no_key_but_a_missing_parent_is_404(
    fake: GoogleFake, clients: Clients
) -> None:
    fake.put(f"/v1/{LOC}/datasets/d1", {"name": f"{LOC}/datasets/d1"})
    stores = clients.discovery("healthcare", "v1").projects().locations().datasets().dicomStores()

    assert stores.list(parent=f"{LOC}/datasets/d1").execute() == {}
    with pytest.raises(HttpError) as missing:
        stores.list(parent=f"{LOC}/datasets/gone").execute()
    assert missing.value.status_code == 404
    assert f"/v1/{LOC}/datasets/gone/dicomStores" in missing.value.reason


def test_compute_firewalls_follow_page_tokens(fake: GoogleFake, clients: Clients) -> None:
    for i in range(3):
        fake.put(
            f"/compute/v1/projects/p/global/firewalls/fw{i}",
            {"name": f"fw{i}", "sourceRanges": ["0.0.0.0/0"]},
        )
    firewalls = clients.discovery("compute", "v1", "/compute/v1/").firewalls()

    got = pages(firewalls, firewalls.list(project="p", maxResults=2), "items")

    assert got == [["fw0", "fw1"], ["fw2"]]
    assert {p for m, p, q in fake.requests} == {"/compute/v1/projects/p/global/firewalls"}


def test_resource_manager_iam_is_a_post_and_projects_filter_on_parent(
    fake: GoogleFake, clients: Clients
) -> None:
    fake.put("/v3/projects/p", {"name": "projects/p", "projectId": "p", "parent": "folders/1"})
    fake.put("/v3/projects/q", {"name": "projects/q", "projectId": "q", "parent": "folders/2"})
    fake.put("/v3/folders/1", {"name": "folders/1", "parent": "organizations/9"})
    owners = [{"role": "roles/owner", "members": ["user:admin@example.org"]}]
    fake.set_iam("/v3/projects/p", {"version": 1, "etag": "BwY=", "bindings": owners})
    crm = clients.discovery("cloudresourcemanager", "v3")

    assert crm.projects().getIamPolicy(resource="projects/p", body={}).execute()["bindings"] == owners
    assert crm.projects().list(parent="folders/1").execute()["projects"][0]["projectId"] == "p"
    assert crm.folders().list(parent="organizations/9").execute()["folders"] == [
        {"name": "folders/1", "parent": "organizations/9"}
    ]
    assert crm.projects().list(parent="folders/3").execute() == {}
    assert fake.requests[0][:2] == ("POST", "/v3/projects/p:getIamPolicy")
    assert fake.violations == []


def test_storage_buckets_iam_ranged_media_and_object_acl(fake: GoogleFake, clients: Clients) -> None:
    for i in range(5):
        fake.put(f"/storage/v1/b/scan{i}", {"kind": "storage#bucket", "name": f"scan{i}", "id": f"scan{i}"})
    public = [{"role": "roles/storage.objectViewer", "members": ["allUsers"]}]
    fake.set_iam("/storage/v1/b/scan1", {"version": 3, "etag": "CAI=", "bindings": public})
    fake.put_media("scan0", "study/1.dcm", bytes(128) + b"DICM" + b"\x02\x00\x00\x00")
    fake.put(
        fake.object_path("scan0", "study/1.dcm") + "/acl/allUsers", {"entity": "allUsers", "role": "READER"}
    )
    client = clients.gcs()

    got = [[b.name for b in page] for page in client.list_buckets(page_size=2).pages]
    assert got == [["scan0", "scan1"], ["scan2", "scan3"], ["scan4"]]
    policy = client.bucket("scan1").get_iam_policy(requested_policy_version=3)
    assert policy.bindings == [{"role": "roles/storage.objectViewer", "members": {"allUsers"}}]
    assert client.bucket("scan2").get_iam_policy().bindings == []
    assert client.bucket("scan0").blob("study/1.dcm").download_as_bytes(start=128, end=131) == b"DICM"
    acl = client.bucket("scan0").blob("study/1.dcm").acl
    acl.reload()
    assert acl.all().get_roles() == {"READER"}
    listed = list(client.list_blobs("scan0", prefix="study/"))
    assert [(b.name, b.size) for b in listed] == [("study/1.dcm", 136)]
    assert listed[0].download_as_bytes()[128:132] == b"DICM"
    paths = [p for m, p, q in fake.requests]
    assert "/download/storage/v1/b/scan0/o/study%2F1.dcm" in paths
    assert "/storage/v1/b/scan0/o/study%2F1.dcm/acl" in paths
    assert fake.violations == []


def test_media_ranges_follow_http(fake: GoogleFake) -> None:
    fake.put_media("b", "x", b"0123456789")
    url = f"{fake.url}/storage/v1/b/b/o/x?alt=media"

    def get(byte_range: str) -> tuple[int, str | None, bytes]:
        request = urllib.request.Request(url, headers={"Range": byte_range})
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, response.headers["Content-Range"], response.read()
        except urllib.error.HTTPError as e:
            return e.code, None, b""

    assert get("bytes=2-4") == (206, "bytes 2-4/10", b"234")
    assert get("bytes=7-") == (206, "bytes 7-9/10", b"789")
    assert get("bytes=-3") == (206, "bytes 7-9/10", b"789")
    assert get("bytes=20-30")[0] == 416


def test_disabled_api_surfaces_as_403_with_service_disabled(fake: GoogleFake, clients: Clients) -> None:
    fake.disable_api("/v1/projects/p/")
    fake.disable_api("/storage/v1/b", service="storage.googleapis.com")

    with pytest.raises(HttpError) as caught:
        clients.discovery("healthcare", "v1").projects().locations().datasets().list(parent=LOC).execute()
    assert caught.value.status_code == 403
    assert "healthcare.googleapis.com has not been used" in caught.value.reason
    assert caught.value.error_details[0]["reason"] == "SERVICE_DISABLED"
    with pytest.raises(core_exceptions.Forbidden) as forbidden:
        list(clients.gcs().list_buckets())
    assert forbidden.value.reason == "SERVICE_DISABLED"


def test_fail_can_target_one_method_and_unknown_routes_are_404(fake: GoogleFake, clients: Clients) -> None:
    fake.put(f"/v1/{STORE}", {"name": STORE})
    fake.fail(
        f"/v1/{STORE}", 403, "forbidden", "caller lacks healthcare.dicomStores.getIamPolicy", method="GET"
    )
    stores = clients.discovery("healthcare", "v1").projects().locations().datasets().dicomStores()

    with pytest.raises(HttpError) as denied:
        stores.getIamPolicy(resource=STORE).execute()
    assert (denied.value.status_code, denied.value.error_details[0]["reason"]) == (403, "forbidden")
    with pytest.raises(core_exceptions.NotFound):
        clients.gcs().get_bucket("nowhere")


def test_writes_are_refused_and_recorded(fake: GoogleFake, clients: Clients) -> None:
    fake.put(f"/v1/{STORE}", {"name": STORE})
    fake.put("/storage/v1/b/scan0", {"kind": "storage#bucket", "name": "scan0", "metageneration": "1"})
    stores = clients.discovery("healthcare", "v1").projects().locations().datasets().dicomStores()

    with pytest.raises(HttpError) as refused:
        stores.setIamPolicy(resource=STORE, body={"policy": {"bindings": VIEWERS}}).execute()
    assert refused.value.status_code == 405
    bucket = clients.gcs().get_bucket("scan0")
    bucket.versioning_enabled = True
    with pytest.raises(core_exceptions.MethodNotAllowed):
        bucket.patch()

    assert [(m, p) for m, p, q in fake.violations] == [
        ("POST", f"/v1/{STORE}:setIamPolicy"),
        ("PATCH", "/storage/v1/b/scan0"),
    ]
