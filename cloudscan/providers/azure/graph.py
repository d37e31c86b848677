"""Azure Resource Graph as the source of what Resource Manager lists (--source inventory|auto):
storage accounts, network security groups, the NICs, public IPs, virtual networks and load
balancers that say which groups guard what, and DICOM services, for every scanned
subscription in a few paginated queries, where the API takes a listing per type and
subscription and one per Health Data Services workspace.

A row of the `resources` table carries the resource as Resource Manager gives it (`id`, `name`,
`location`, `kind`, `sku`, `tags`, `properties`), with `type` in lower case and its
`subscriptionId`: it is turned into the SDK model the listing would give, so the same code
describes it whichever source answered. Resource Graph does not carry blob services,
containers, diagnostic settings, nor scale sets' NICs and public IPs (those are in the
`computeresources` table, not read here): those are read live as with the API.

Resource Graph answers only for the subscriptions it can see and gives no error for the
others, so a second query (`resourcecontainers`) says which those are; a subscription it does
not show is read through Resource Manager, as is everything when it cannot answer at all."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudscan.providers.azure.permissions import GRAPH
from cloudscan.providers.azure.topology import Listed

API = "2021-03-01"
PATH = "/providers/Microsoft.ResourceGraph/resources"
SUBSCRIPTIONS_PER_QUERY = 1000  # as many as Azure CLI's graph extension puts in one query
PAGE = 1000  # the largest $top Resource Graph takes
MAX_PAGES = 10_000  # a bound against a $skipToken that loops, not a real limit
CALL = GRAPH  # as errors and the permission table name it

STORAGE_ACCOUNTS = "microsoft.storage/storageaccounts"
GROUPS = "microsoft.network/networksecuritygroups"
PUBLIC_IPS = "microsoft.network/publicipaddresses"
NETWORKS = "microsoft.network/virtualnetworks"
NICS = "microsoft.network/networkinterfaces"
BALANCERS = "microsoft.network/loadbalancers"
DICOM_SERVICES = "microsoft.healthcareapis/workspaces/dicomservices"
SUBSCRIPTION = "microsoft.resources/subscriptions"
# The types each kind reads from Resource Graph.
TYPES = {
    "storage.account": (STORAGE_ACCOUNTS,),
    "storage.bucket": (STORAGE_ACCOUNTS,),
    "network.ingress": (GROUPS, PUBLIC_IPS, NETWORKS, NICS, BALANCERS),
    "dicom.store": (DICOM_SERVICES,),
}
SUBSCRIPTIONS_QUERY = (
    f"resourcecontainers | where type =~ '{SUBSCRIPTION}' "
    "| project subscriptionId | order by subscriptionId asc"
)
COLUMNS = "id, name, type, location, kind, sku, tags, properties, subscriptionId"
# The fields of each kind that the recording answers (the rest is read live).
RECORDED = {
    "storage.account": (
        "/allow_public_containers",
        "/network",
        "/network_exceptions",
        "/https_only",
        "/minimum_tls_version",
        "/shared_key_access",
        "/cross_tenant_replication",
        "/customer_managed_key",
        "/labels",
    ),
    "storage.bucket": ("/access/guards", "/encryption", "/labels"),
    # Scale sets' NICs and public IPs, where a subnet holds some, are still read live.
    "network.ingress": ("/group", "/rule", "/attached", "/addresses", "/labels"),
    "dicom.store": ("/network", "/cors", "/authentication", "/encryption", "/copies", "/labels"),
}


class Unusable(Exception):
    """Resource Graph gave an answer that cannot be used (cut short, not rows)."""


@dataclass
class Recording:
    """Rows by (lower-case subscription, type), and when Resource Graph answered: it keeps no
    capture time per resource, and follows Resource Manager's changes on its own schedule."""

    answered_at: str
    visible: set[str] = field(default_factory=set)  # the subscriptions it answered for
    rows: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)

    def covers(self, subscription: str) -> bool:
        return subscription.lower() in self.visible

    def of(self, subscription: str, kind: str) -> list[dict[str, Any]]:
        return self.rows.get((subscription.lower(), kind), [])

    def source(self, kind: str, fields: frozenset[str] | None) -> dict[str, Any]:
        """The `source` of a document of `kind` described from this recording."""
        recorded = [p for p in RECORDED[kind] if fields is None or p.split("/")[1] in fields]
        return {
            "type": "inventory",
            "service": "azure-resource-graph",
            "recorded_at": self.answered_at,
            "recorded": recorded,
        }


def types_for(kinds: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t for kind in kinds for t in TYPES.get(kind, ())))


def record(clients: Any, subscriptions: list[str], types: tuple[str, ...]) -> Recording:
    """Every resource of `types` in `subscriptions`; raises (an HttpResponseError, Unusable)
    when Resource Graph cannot answer: the caller reads through Resource Manager instead."""
    client = clients.arm()
    recording = Recording(answered_at=datetime.now(UTC).isoformat(timespec="seconds"))
    listed = ", ".join(f"'{t}'" for t in types)
    for start in range(0, len(subscriptions), SUBSCRIPTIONS_PER_QUERY):
        batch = subscriptions[start : start + SUBSCRIPTIONS_PER_QUERY]
        seen = _query(client, batch, SUBSCRIPTIONS_QUERY)
        recording.visible.update(str(row.get("subscriptionId") or "").lower() for row in seen)
        rows = _query(
            client, batch, f"resources | where type in~ ({listed}) | project {COLUMNS} | order by id asc"
        )
        for row in rows:
            key = (str(row.get("subscriptionId") or "").lower(), str(row.get("type") or "").lower())
            recording.rows.setdefault(key, []).append(row)
    return recording


def _query(client: Any, subscriptions: list[str], query: str) -> list[dict[str, Any]]:
    """All rows of one query, a page at a time ($skipToken); the body stays the same but for
    the token, as Resource Graph requires."""
    from azure.core.exceptions import HttpResponseError
    from azure.core.rest import HttpRequest
    from azure.mgmt.core.exceptions import ARMErrorFormat

    options: dict[str, Any] = {"$top": PAGE, "resultFormat": "objectArray"}
    out: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        body = {"subscriptions": subscriptions, "query": query, "options": options}
        response = client.send_request(HttpRequest("POST", PATH, params={"api-version": API}, json=body))
        if response.status_code != 200:
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        page = response.json()
        data = page.get("data") if isinstance(page, dict) else None
        if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
            raise Unusable("Resource Graph answered something other than rows of objects")
        out += data
        token = page.get("$skipToken")
        if not token:
            # Cut short with no way to go on: what is missing cannot be told from what is absent.
            if str(page.get("resultTruncated")).lower() == "true":
                raise Unusable("Resource Graph cut its answer short and gave no $skipToken")
            return out
        options = {**options, "$skipToken": token}
    raise Unusable(f"Resource Graph gave more than {MAX_PAGES} pages")


def models(rows: list[dict[str, Any]], model: Any) -> list[Any]:
    """Rows as the SDK model a Resource Manager listing gives."""
    if hasattr(model, "deserialize"):  # msrest-generated models (azure-mgmt-healthcareapis)
        return [model.deserialize(row) for row in rows]
    return [model(row) for row in rows]  # newer models are built from the wire JSON itself


# What each listing of the API would give, from the recording.


def storage_accounts(recording: Recording, subscription: str) -> list[Any]:
    from azure.mgmt.storage.models import StorageAccount

    return models(recording.of(subscription, STORAGE_ACCOUNTS), StorageAccount)


def security_groups(recording: Recording, subscription: str) -> list[Any]:
    from azure.mgmt.network.models import NetworkSecurityGroup

    return models(recording.of(subscription, GROUPS), NetworkSecurityGroup)


def network_listings(recording: Recording, subscription: str) -> Listed:
    from azure.mgmt.network import models as network

    return Listed(
        models(recording.of(subscription, PUBLIC_IPS), network.PublicIPAddress),
        models(recording.of(subscription, NETWORKS), network.VirtualNetwork),
        models(recording.of(subscription, NICS), network.NetworkInterface),
        models(recording.of(subscription, BALANCERS), network.LoadBalancer),
    )


def dicom_services(recording: Recording, subscription: str) -> list[Any]:
    from azure.mgmt.healthcareapis.models import DicomService

    return models(recording.of(subscription, DICOM_SERVICES), DicomService)
