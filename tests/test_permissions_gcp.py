"""`cloudscan permissions gcp` gives exactly what a scan calls: the custom role a subset of the
policies generates holds the permission of every API method a scan with that subset calls
(every request the real client libraries send to the local Google server is recorded), and
nothing such a scan left unused.

Each request is mapped here to its method by path, and each method to its permission from
Google's reference, independently of cloudscan's table: a method needs the permission of its
own name, except Resource Manager's (resourcemanager.*) and the ACL reads of Cloud Storage,
which need the IAM-policy permissions of their bucket or object. The project is built so that
every conditional call happens: a bucket with fine-grained access and objects, one with uniform
access, a dataset holding a store, no --location given."""

from __future__ import annotations

import re

import gcp_world
import pytest
from google_fake import GoogleFake
from permission_cases import EVERY_POLICY, compare, generated, policies_of, subsets

from cloudscan.providers.gcp.permissions import TABLE
from cloudscan.providers.sampling import Sampling
from cloudscan.scan import needed_fields, scan_gcp

PROJECT = "pacs-prod"
ORGANIZATION = "42"
BUCKET, OBJECT, STORE = r"/storage/v1/b/[^/]+", r"/o/[^/]+", r"/v1/projects/[^/]+/locations/[^/]+/datasets"
METHODS = [
    ("GET", r"/storage/v1/b", "storage.buckets.list"),
    ("GET", rf"{BUCKET}/iam", "storage.buckets.getIamPolicy"),
    ("GET", rf"{BUCKET}/acl", "storage.bucketAccessControls.list"),
    ("GET", rf"{BUCKET}/defaultObjectAcl", "storage.defaultObjectAccessControls.list"),
    ("GET", rf"{BUCKET}/o", "storage.objects.list"),
    ("GET", rf"(/download)?{BUCKET}{OBJECT}", "storage.objects.get"),
    ("GET", rf"{BUCKET}{OBJECT}/acl", "storage.objectAccessControls.list"),
    ("GET", r"/compute/v1/projects/[^/]+/global/firewalls", "compute.firewalls.list"),
    ("GET", r"/v1/projects/[^/]+/locations", "healthcare.locations.list"),
    ("GET", STORE, "healthcare.datasets.list"),
    ("GET", rf"{STORE}/[^/]+:getIamPolicy", "healthcare.datasets.getIamPolicy"),
    ("GET", rf"{STORE}/[^/]+/dicomStores", "healthcare.dicomStores.list"),
    ("GET", rf"{STORE}/[^/]+/dicomStores/[^/]+:getIamPolicy", "healthcare.dicomStores.getIamPolicy"),
    ("POST", r"/v3/projects/[^/]+:getIamPolicy", "cloudresourcemanager.projects.getIamPolicy"),
    ("GET", r"/v3/projects", "cloudresourcemanager.projects.list"),
    ("GET", r"/v3/folders", "cloudresourcemanager.folders.list"),
]
# Methods whose permission is not their own name
PERMISSIONS = {
    "storage.bucketAccessControls.list": {"storage.buckets.get", "storage.buckets.getIamPolicy"},
    "storage.defaultObjectAccessControls.list": {"storage.buckets.get", "storage.buckets.getIamPolicy"},
    "storage.objectAccessControls.list": {"storage.objects.getIamPolicy"},
    "cloudresourcemanager.projects.getIamPolicy": {"resourcemanager.projects.getIamPolicy"},
    "cloudresourcemanager.projects.list": {"resourcemanager.projects.list"},
    "cloudresourcemanager.folders.list": {"resourcemanager.folders.list"},
}
VIEWER = [{"role": "roles/storage.objectViewer", "members": ["group:radiology@example.org"]}]
PROJECT_SPEC = {
    "project": PROJECT,
    "project_iam": [{"role": "roles/viewer", "members": ["user:admin@example.org"]}],
    "buckets": {
        "pacs-prod-exports": {
            "acl": [["allUsers", "READER"]],
            "default_object_acl": [["allAuthenticatedUsers", "READER"]],
            "labels": {"data-classification": "phi"},
            "objects": {"study-1/IM0001.dcm": {"dicom": True, "acl": [["allUsers", "READER"]]}},
        },
        "pacs-prod-archive": {
            "uniform": True,
            "iam": VIEWER,
            "objects": {"study-2/IM0001.dcm": {"dicom": True}},
        },
    },
    "datasets": {"europe-west4/imaging": {"iam": VIEWER, "stores": {"archive": {"iam": VIEWER}}}},
    "firewalls": [{"name": "allow-dicom", "allowed": [{"IPProtocol": "tcp", "ports": ["104"]}]}],
}


def method_of(verb: str, path: str) -> str:
    for method, pattern, name in reversed(METHODS):  # the longest patterns last
        if verb == method and re.fullmatch(pattern, path):
            return name
    raise AssertionError(f"a request the test cannot name: {verb} {path}")


@pytest.fixture(scope="module")
def fake():
    with GoogleFake() as server:
        world = gcp_world.World(server, server.url, PROJECT)
        world.build(PROJECT_SPEC)
        # The project sits in an organization, for the scan of --organization.
        server.put(
            f"/v3/projects/{PROJECT}",
            {"name": f"projects/{PROJECT}", "projectId": PROJECT, "parent": f"organizations/{ORGANIZATION}"},
        )
        server.world = world
        yield server
    assert server.violations == [], "the scan sent a write to the Google APIs"


def scan(fake, policies, **kwargs):
    """The methods a scan called, by name."""
    fake.requests.clear()
    result = scan_gcp(fake.world.clients(), policies, sampling=Sampling(size=2), **kwargs)
    assert result.errors == []
    return {method_of(verb, path) for verb, path, _ in fake.requests}


def permissions_of(methods: set[str]) -> set[str]:
    return {p for m in methods for p in PERMISSIONS.get(m, {m})}


@pytest.mark.parametrize("subset", subsets())
def test_generated_role_is_what_the_scan_calls(fake, subset):
    policies = policies_of(subset)
    methods = scan(fake, policies, projects=(PROJECT,))

    role = generated("gcp", subset)
    assert (role["stage"], bool(role["title"])) == ("GA", True)
    assert compare(permissions_of(methods), set(role["includedPermissions"])) == []
    # The adapter makes only the calls the table lists for the fields the policies read.
    assert methods <= set(TABLE.calls_for(needed_fields(policies)))


def test_an_organization_adds_the_listing_of_its_folders_and_projects(fake):
    policies = policies_of(EVERY_POLICY)
    methods = scan(fake, policies, organization=ORGANIZATION)
    assert {"cloudresourcemanager.projects.list", "cloudresourcemanager.folders.list"} <= methods

    role = generated("gcp", EVERY_POLICY, "--organization")
    assert compare(permissions_of(methods), set(role["includedPermissions"])) == []
    without = set(generated("gcp", EVERY_POLICY)["includedPermissions"])
    assert set(role["includedPermissions"]) - without == {
        "resourcemanager.projects.list",
        "resourcemanager.folders.list",
    }


def test_sample_zero_needs_no_object_read(fake):
    policies = policies_of(EVERY_POLICY)
    fake.requests.clear()
    result = scan_gcp(fake.world.clients(), policies, projects=(PROJECT,), sampling=Sampling(size=0))
    assert result.errors == []
    methods = {method_of(verb, path) for verb, path, _ in fake.requests}

    role = generated("gcp", EVERY_POLICY, "--sample", "0")
    assert compare(permissions_of(methods), set(role["includedPermissions"])) == []
    assert not {p for p in role["includedPermissions"] if p.startswith("storage.objects.")}
