"""Cloud Healthcare API DICOM stores as `dicom.store` documents, with the IAM of the store, of
its dataset and of its project (each one grants access to the studies), the dataset's
encryption key and where the store streams or announces what it receives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cloudscan.model import Document, mark_unknown, new_resource, store_access
from cloudscan.providers.gcp.clients import GcpClients, error_of, pages
from cloudscan.providers.gcp.iam import DICOM_ROLE_PERMISSIONS, policy_grants

PAGE = 100


def iam_policy(clients: GcpClients, collection: Any, resource: str) -> dict[str, Any]:
    request = collection.getIamPolicy(resource=resource, options_requestedPolicyVersion=3)
    return clients.execute(request)


def datasets(clients: GcpClients, project: str, locations: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every dataset of the project, in the given locations or in all the API offers."""
    api = clients.api("healthcare").projects().locations()
    where = list(locations) or [
        loc["locationId"] for loc in pages(clients, api, "locations", name=f"projects/{project}")
    ]
    return [
        dataset
        for location in where
        for dataset in pages(
            clients,
            api.datasets(),
            "datasets",
            parent=f"projects/{project}/locations/{location}",
            pageSize=PAGE,
        )
    ]


def describe_dataset_stores(
    clients: GcpClients, dataset: dict[str, Any], project: str, project_policy: dict[str, Any]
) -> list[Document]:
    """The dataset's stores, each with the grants of its own, its dataset's and its project's
    IAM policy (`project_policy` as projects.read_policy gives it)."""
    api = clients.api("healthcare").projects().locations().datasets()
    stores = list(pages(clients, api.dicomStores(), "dicomStores", parent=dataset["name"], pageSize=PAGE))
    if not stores:
        return []
    dataset_policy = _policy_of(lambda: iam_policy(clients, api, dataset["name"]))
    return [
        _store(clients, store, dataset, project, [dataset_policy, project_policy], api.dicomStores())
        for store in stores
    ]


def _policy_of(read: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """{'policy': the IAM policy} or {'error': (code, message)}."""
    try:
        return {"policy": read()}
    except Exception as exc:
        return {"error": error_of(exc)}


def _store(
    clients: GcpClients,
    store: dict[str, Any],
    dataset: dict[str, Any],
    project: str,
    inherited: list[dict[str, Any]],
    api: Any,
) -> Document:
    name = store["name"]
    location = name.split("/locations/", 1)[1].split("/", 1)[0] if "/locations/" in name else None
    doc = new_resource(
        "dicom.store",
        "gcp",
        f"//healthcare.googleapis.com/{name}",
        name=name.rsplit("/", 1)[-1],
        account=project,
        region=location,
        labels={str(k): str(v) for k, v in (store.get("labels") or {}).items()},
    )
    doc["access"] = store_access({"present": False, "statement_count": 0})
    own = _policy_of(lambda: iam_policy(clients, api, name))
    parts = [
        (own, f"dicomStore {_short(name)} IAM", None, "healthcare.dicomStores.getIamPolicy"),
        (inherited[0], f"dataset {_short(dataset['name'])} IAM", None, "healthcare.datasets.getIamPolicy"),
        (inherited[1], f"project {project} IAM", "healthcare", "cloudresourcemanager.projects.getIamPolicy"),
    ]
    for part, origin, service, call in parts:
        if "error" in part:
            code, message = part["error"]
            mark_unknown(doc, ["/access/policy"], call=call, code=code, message=message)
            continue
        doc["access"]["grants"] += policy_grants(
            part["policy"], origin, DICOM_ROLE_PERMISSIONS, service=service
        )
        if doc["access"]["policy"] is not None:
            doc["access"]["policy"]["statement_count"] += len(part["policy"].get("bindings") or [])
            doc["access"]["policy"]["present"] = doc["access"]["policy"]["statement_count"] > 0
    # The Healthcare API answers on the internet to anyone IAM lets in; it has no CORS setting.
    doc["network"] = {"public_network_access": True, "private_endpoints": None}  # not an Azure service
    doc["cors"] = {"allow_any_origin": False, "allow_credentials": False}
    key = (dataset.get("encryptionSpec") or {}).get("kmsKeyName")
    doc["encryption"] = {"customer_managed_key": bool(key), "kms_key": key}
    doc["copies"] = [
        {
            "type": "bigquery",
            "target": str((c.get("bigqueryDestination") or {}).get("tableUri") or "(not set)"),
        }
        for c in store.get("streamConfigs") or []
    ] + [
        {"type": "pubsub", "target": str(n.get("pubsubTopic") or "(not set)")}
        for n in [store.get("notificationConfig") or {}, *(store.get("notificationConfigs") or [])]
        if n.get("pubsubTopic")
    ]
    return doc


def _short(name: str) -> str:
    return name.rsplit("/", 1)[-1]
