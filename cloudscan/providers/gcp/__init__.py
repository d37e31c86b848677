"""Google Cloud: Cloud Storage buckets, Healthcare API DICOM stores and VPC firewall rules of
one or more projects, read with injected credentials; and the GCP vocabulary (iam.py) the
Terraform mapper shares.

Projects are read concurrently. What fails for a whole project (an API disabled, a listing
denied) goes to the error sink naming the project, and the scan goes on with the others."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from cloudscan.model import CredentialsRefused, Document, ErrorSink, scan_error, scan_warning
from cloudscan.providers import ReadsFields
from cloudscan.providers.fanout import fan_out, read_safely
from cloudscan.providers.gcp import firewall, healthcare, inventory, projects, storage
from cloudscan.providers.gcp.clients import GcpClients, error_of, pages, status_of, stop_if_refused
from cloudscan.providers.gcp.permissions import PROJECT_POLICY, TABLE
from cloudscan.providers.gcp.projects import projects_below
from cloudscan.providers.sampling import Sampling
from cloudscan.shard import Shard

API_NAMES = {
    "storage": "Cloud Storage",
    "compute": "Compute Engine",
    "healthcare": "Cloud Healthcare",
    "cloudresourcemanager": "Resource Manager",
}
UNREACHABLE = frozenset(
    (
        "ConnectionError",
        "ConnectionRefusedError",
        "ServerNotFoundError",
        "ConnectTimeout",
        "TimeoutError",
        "SSLError",
        "ProxyError",
    )
)


@dataclass(frozen=True)
class GcpScope(ReadsFields):
    """What to read (see ReadsFields for `fields`)."""

    projects: tuple[str, ...] = ()
    organization: str | None = None
    folder: str | None = None  # every project below it, as for an organization
    locations: tuple[str, ...] = ()  # Healthcare API locations; all it offers when empty
    fields: dict[str, frozenset[str]] | None = None
    concurrency: int = 16
    sampling: Sampling = field(default_factory=Sampling)
    # Where buckets' IAM policies come from: the API, or Cloud Asset Inventory ("inventory":
    # read through the API with a warning where it cannot answer; "auto": without it).
    source: str = "api"
    shard: Shard | None = None  # only the projects of this shard (shard.py)


def enumerate_gcp(clients: GcpClients, scope: GcpScope, errors: ErrorSink) -> Iterator[Document]:
    """Yield documents as they are read; project-wide failures go to `errors`."""
    project_ids = list(scope.projects)
    if scope.organization is not None:
        project_ids += projects_below(clients, f"organizations/{scope.organization}", errors)
    if scope.folder is not None:
        project_ids += projects_below(clients, f"folders/{scope.folder}", errors)
    project_ids = list(dict.fromkeys(project_ids))
    if scope.shard is not None:
        project_ids = scope.shard.take(project_ids)
    pool = ThreadPoolExecutor(max_workers=scope.concurrency, thread_name_prefix="cloudscan-gcp")
    reading = _Reading(clients, pool, scope, errors)
    yield from fan_out(pool, project_ids, partial(_list_project, reading))


@dataclass
class _Reading:
    """What every reader of one scan shares."""

    clients: GcpClients
    pool: ThreadPoolExecutor
    scope: GcpScope
    errors: ErrorSink


def _list_project(reading: _Reading, project: str) -> list[Any]:
    """The project's documents and, for reads still to do, futures of document lists."""
    # Only buckets' and stores' access inherits the project's IAM: a scan of firewalls alone
    # does not read it.
    needed = reading.scope.makes(TABLE, PROJECT_POLICY)
    policy = projects.read_policy(reading.clients, project) if needed else {"policy": {}}
    if "error" in policy:
        code, message = policy["error"]
        # Every bucket and store inherits the project's IAM: each of them says so, and so
        # does the scan, in case the project holds none.
        message = _explained(reading.clients, PROJECT_POLICY, code, message)
        reading.errors.append(scan_error(PROJECT_POLICY, code, message, f"projects/{project}"))
    out: list[Any] = []
    for reader in (buckets, ingress_rules, dicom_stores):
        try:
            out.extend(reader(reading, project, policy))
        except CredentialsRefused:
            raise
        except Exception as exc:  # a bug or an unexpected answer: this reader's, not the scan's
            code, message = error_of(exc)
            what = f"{reader.__name__} of projects/{project}"
            reading.errors.append(
                scan_error("cloudscan:read", code, f"could not read {what}: {message}", what)
            )
    return out


# The readers have the names of the Terraform mappers' and the other clouds' readers. Each
# returns documents, or futures of document lists submitted to the pool.


def buckets(reading: _Reading, project: str, project_policy: dict[str, Any]) -> list[Any]:
    if not reading.scope.wants("storage.bucket"):
        return []
    found = _listing(
        reading, project, "storage.buckets.list", lambda: storage.list_buckets(reading.clients, project)
    )
    fields = reading.scope.fields_of("storage.bucket", storage.BUCKET_FIELDS)
    recorded = _recorded_policies(reading, project) if found and "access" in fields else {}
    return [
        reading.pool.submit(
            read_safely,
            reading.errors,
            f"gs://{bucket.name}",
            partial(
                _one,
                storage.describe_bucket,
                reading.clients,
                bucket,
                project=project,
                project_policy=project_policy,
                fields=fields,
                sampling=reading.scope.sampling,
                recorded=recorded.get(bucket.name),
            ),
            error_of,
        )
        for bucket in found or []
    ]


def _recorded_policies(reading: _Reading, project: str) -> dict[str, dict[str, Any]]:
    if reading.scope.source == "api":
        return {}
    try:
        return inventory.recorded_bucket_policies(reading.clients, project)
    except CredentialsRefused:
        raise
    except Exception as exc:
        if reading.scope.source == "inventory":
            code, message = error_of(exc)
            said = f"Cloud Asset Inventory cannot answer for projects/{project} ({code}: {message[:200]}); "
            reading.errors.append(
                scan_warning("cloudasset.assets.list", said + "bucket IAM is read through the API")
            )
        return {}


def ingress_rules(reading: _Reading, project: str, project_policy: dict[str, Any]) -> list[Any]:
    if not reading.scope.wants("network.ingress"):
        return []
    api = reading.clients.api("compute").firewalls()
    found = _listing(
        reading,
        project,
        "compute.firewalls.list",
        lambda: list(pages(reading.clients, api, "items", project=project, maxResults=500)),
    )
    return list(firewall.ingress_rules(found, project)) if found is not None else []


def dicom_stores(reading: _Reading, project: str, project_policy: dict[str, Any]) -> list[Any]:
    if not reading.scope.wants("dicom.store"):
        return []
    found = _listing(
        reading,
        project,
        "healthcare.datasets.list",
        lambda: healthcare.datasets(reading.clients, project, reading.scope.locations),
    )
    return [
        reading.pool.submit(
            read_safely,
            reading.errors,
            dataset.get("name", "?"),
            partial(healthcare.describe_dataset_stores, reading.clients, dataset, project, project_policy),
            error_of,
        )
        for dataset in found or []
    ]


def _one(read: Callable[..., Document], *args: Any, **kwargs: Any) -> list[Document]:
    return [read(*args, **kwargs)]


def _listing(reading: _Reading, project: str, call: str, list_: Callable[[], Any]) -> Any:
    """What a listing call answers, or None with the failure in the error sink: everything it
    would have listed is unknown."""
    try:
        return list_()
    except Exception as exc:
        stop_if_refused(exc)
        code, message = error_of(exc)
        message = _explained(reading.clients, call, code, message)
        if status_of(exc) == 403 and code in ("SERVICE_DISABLED", "accessNotConfigured"):
            message = f"the API is not enabled in project {project}: {message}"
        reading.errors.append(scan_error(call, code, message, f"projects/{project}"))
        return None


def _explained(clients: GcpClients, call: str, code: str, message: str) -> str:
    """An API out of reach is named with the address tried: one API down (or an emulator that
    serves only Cloud Storage) leaves the others' results standing."""
    if code not in UNREACHABLE:
        return message
    api = call.split(".", 1)[0]
    return f"cannot reach the {API_NAMES.get(api, api)} API at {clients.where(api)}: {message}"
