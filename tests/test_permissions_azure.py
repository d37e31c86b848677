"""`cloudscan permissions azure` gives exactly what a scan calls: the role definition a subset
of the policies generates holds the operation of every request a scan with that subset sends
(Resource Manager's in the local ArmFake, the blob endpoint's to Azurite), and nothing such a
scan left unused.

Each request is mapped here to its operation independently of cloudscan's table: a Resource
Manager GET needs the `read` operation of the resource type its path names (the last provider
namespace and the types after it); the blob endpoint's requests need what Azure Storage's
"permissions for calling data operations" lists. The subscription is built so that every
conditional call happens: an account whose blob endpoint answers (Azurite, Shared Key on, a
blob to sample), one whose endpoint is unknown (its containers are listed through Resource
Manager), network security groups on NICs, subnets, scale sets and a load balancer, and a
workspace with a DICOM service."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import azure_world
import pytest
from arm_fake import ArmFake
from permission_cases import EVERY_POLICY, compare, generated, policies_of, subsets

from cloudscan.providers.sampling import Sampling
from cloudscan.scan import scan_azure

CONTAINERS = "microsoft.storage/storageaccounts/blobservices/containers"
SUBSCRIPTION_SPEC = {
    "accounts": {
        "pacsshares": {
            "data_plane": "azurite",
            "logging": True,
            "versioning": True,
            "containers": {"studies": {"stored_access_policies": [{"id": "viewer", "permissions": "rl"}]}},
        },
        "pacsfenced": {"allow_public": False, "containers": {"exports": {"access": "Blob"}}},
    },
    "nsgs": {
        "pacs-tier": {"rules": [{"name": "https", "priority": 100, "source": "*", "port": "443"}]},
        "pacs-vm": {"rules": [{"name": "dicom", "priority": 100, "source": "Internet", "port": "104"}]},
    },
    "network": {
        "vnets": {"pacs": {"dmz": {"nsg": "pacs-tier"}, "scale": {"nsg": "pacs-tier"}}},
        "nics": {"pacs-vm": {"subnet": "pacs/dmz", "nsg": "pacs-vm", "public_ip": "203.0.113.10"}},
        "scale_sets": {"viewers": {"subnet": "pacs/scale", "instances": ["203.0.113.20"]}},
        "load_balancers": {"front": {"public_ip": "203.0.113.30", "backends": ["pacs-vm"]}},
    },
    "dicom": {"imaging/workspace": {"archive": {"public": "Enabled", "origins": ["*"]}}},
}


def arm_operation(method: str, path: str) -> str:
    assert method == "GET", f"a Resource Manager request that is no read: {method} {path}"
    segments = path.strip("/").split("/")
    lower = [s.lower() for s in segments]
    if "providers" not in lower:  # /subscriptions, /subscriptions/S
        return "/".join(["microsoft.resources", *lower[0::2], "read"])
    at = len(lower) - 1 - lower[::-1].index("providers")
    namespace, rest = lower[at + 1], lower[at + 2 :]
    return "/".join([namespace, *rest[0::2], "read"])


def data_plane_operation(method: str, url: str) -> tuple[str, bool]:
    """(operation, whether it is a data action) of a request to Azurite's path-style endpoint."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    _, _, rest = parts.path.strip("/").partition("/")  # the account, then container and blob
    container, _, blob = rest.partition("/")
    assert method == "GET", f"a blob endpoint request that is no read: {method} {url}"
    if not container and query.get("comp") == "list":
        return f"{CONTAINERS}/read", False  # List Containers
    if container and not blob and query.get("restype") == "container":
        if query.get("comp") == "list":
            return f"{CONTAINERS}/blobs/read", True  # List Blobs
        if query.get("comp") == "acl":
            return f"{CONTAINERS}/getacl/action", False  # Get Container ACL
    if container and blob and "comp" not in query:
        return f"{CONTAINERS}/blobs/read", True  # Get Blob
    raise AssertionError(f"a blob endpoint request the test cannot name: {method} {url}")


class Recorder:
    """Every request the scan's blob clients got an answer to (raw_response_hook)."""

    def __init__(self, base: str) -> None:
        self.base, self.seen = base, []

    def __call__(self, response) -> None:
        request = response.http_request
        if request.url.startswith(self.base):
            self.seen.append((request.method, request.url))


@pytest.fixture(scope="module")
def world():
    with ArmFake() as fake, azure_world.built(fake, SUBSCRIPTION_SPEC) as built:
        from azure.storage.blob import BlobServiceClient

        assert built.azurite is not None
        blobs = BlobServiceClient.from_connection_string(
            built.azurite.connection_string_of("pacsshares"), retry_total=0, **built.azurite.client_options()
        )
        blobs.get_blob_client("studies", "study-1/IM0001.dcm").upload_blob(b"\0" * 128 + b"DICM" + b"\0" * 64)
        yield built
    assert fake.violations == [], "the scan sent something other than a read to Resource Manager"


def scan(world, policies, sample: int = 2) -> tuple[set[str], set[str]]:
    """The operations (actions, data actions) of the requests a scan sent."""
    assert world.azurite is not None
    world.fake.requests.clear()
    recorder = Recorder(world.azurite.url_of(""))
    result = scan_azure(
        world.clients(raw_response_hook=recorder),
        policies,
        subscriptions=(world.subscription,),
        sampling=Sampling(size=sample),
    )
    assert result.errors == []
    actions = {arm_operation(method, path) for method, path, _ in world.fake.requests}
    data_actions: set[str] = set()
    for method, url in recorder.seen:
        operation, data = data_plane_operation(method, url)
        (data_actions if data else actions).add(operation)
    return actions, data_actions


def lowered(items: list[str]) -> set[str]:
    return {item.lower() for item in items}  # Azure compares operations without case


@pytest.mark.parametrize("subset", subsets())
def test_generated_role_is_what_the_scan_calls(world, subset):
    actions, data_actions = scan(world, policies_of(subset))

    role = generated("azure", subset)
    assert role["IsCustom"] is True and role["AssignableScopes"] and role["NotActions"] == []
    assert compare(actions, lowered(role["Actions"])) == []
    assert compare(data_actions, lowered(role["DataActions"])) == []


def test_sample_zero_needs_no_data_action(world):
    actions, data_actions = scan(world, policies_of(EVERY_POLICY), sample=0)
    role = generated("azure", EVERY_POLICY, "--sample", "0")
    assert data_actions == set() and role["DataActions"] == []
    assert compare(actions, lowered(role["Actions"])) == []
    assert f"{CONTAINERS}/getacl/action" in actions  # the stored access policies need no data action
