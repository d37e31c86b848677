"""Azure: storage accounts and their blob containers, network security group rules and Health
Data Services DICOM services of one or more subscriptions, read with an injected credential;
and Azure's vocabulary (vocabulary.py) the Terraform mapper shares.

Subscriptions are read concurrently. What fails for a whole subscription (a listing denied, a
resource provider not registered) goes to the error sink naming it, and the scan goes on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from cloudscan.model import CredentialsRefused, Document, ErrorSink, scan_error, scan_warning
from cloudscan.providers import ReadsFields
from cloudscan.providers.azure import graph, healthcare, network, storage
from cloudscan.providers.azure import topology as topology_
from cloudscan.providers.azure.clients import AzureClients, ProviderNotRegistered, error_of
from cloudscan.providers.azure.permissions import SERVICE_PROPERTIES, TABLE
from cloudscan.providers.fanout import fan_out, read_safely
from cloudscan.providers.sampling import Sampling
from cloudscan.shard import Shard


@dataclass(frozen=True)
class AzureScope(ReadsFields):
    """What to read (see ReadsFields for `fields`): the subscriptions given, and those below
    `management_group`; with neither, every enabled one."""

    subscriptions: tuple[str, ...] = ()
    fields: dict[str, frozenset[str]] | None = None
    concurrency: int = 16
    sampling: Sampling = field(default_factory=Sampling)
    management_group: str | None = None
    shard: Shard | None = None  # only the subscriptions of this shard (shard.py)
    # Where what Resource Manager lists comes from: the API; Azure Resource Graph, read
    # through the API where it cannot answer, with a warning ("inventory"); or the same
    # without the warning ("auto").
    source: str = "api"


def enumerate_azure(clients: AzureClients, scope: AzureScope, errors: ErrorSink) -> Iterator[Document]:
    """Yield documents as they are read; subscription-wide failures go to `errors`."""
    subscriptions = list(scope.subscriptions)
    clients.check(subscriptions[0] if subscriptions else None)
    group = scope.management_group
    if group is not None:
        subscriptions += _listed(
            lambda: clients.management_group_subscriptions(group),
            "managementGroups.descendants",
            f"managementGroups/{group}",
            f"no subscription below management group {group} is visible",
            errors,
        )
    elif not subscriptions:
        subscriptions = _listed(
            clients.subscriptions, "subscriptions.list", None, "no enabled subscription is visible", errors
        )
    subscriptions = list(dict.fromkeys(subscriptions))
    if scope.shard is not None:
        subscriptions = scope.shard.take(subscriptions)
    recording = _recorded(clients, scope, subscriptions, errors)
    pool = ThreadPoolExecutor(max_workers=scope.concurrency, thread_name_prefix="cloudscan-azure")
    reading = _Reading(clients, pool, scope, errors, recording)
    yield from fan_out(pool, subscriptions, partial(_list_subscription, reading))


def _listed(
    list_: Callable[[], list[str]], call: str, where: str | None, nothing: str, errors: ErrorSink
) -> list[str]:
    """The subscriptions a listing gives, or none with its failure (or its emptiness) an error."""
    try:
        found = list_()
    except CredentialsRefused:
        raise
    except Exception as exc:
        code, message = error_of(exc)
        errors.append(scan_error(call, code, message, where))
        return []
    if not found:
        errors.append(scan_error(call, "NothingToScan", nothing, where))
    return found


def _recorded(
    clients: AzureClients, scope: AzureScope, subscriptions: list[str], errors: ErrorSink
) -> graph.Recording | None:
    """What Resource Graph recorded of the subscriptions, or None: the API is the source, or
    Resource Graph cannot answer (said as a warning for "inventory")."""
    kinds = [kind for kind in graph.TYPES if scope.wants(kind)]
    if scope.source == "api" or not subscriptions or not kinds:
        return None
    try:
        recording = graph.record(clients, subscriptions, graph.types_for(kinds))
    except CredentialsRefused:
        raise
    except Exception as exc:
        if scope.source == "inventory":
            code, message = error_of(exc)
            said = f"Azure Resource Graph cannot answer ({code}: {message[:200]}); "
            errors.append(
                scan_warning(graph.CALL, said + "every subscription is read through Resource Manager")
            )
        return None
    unseen = [s for s in subscriptions if not recording.covers(s)]
    if unseen and scope.source == "inventory":
        named = ", ".join(unseen[:5]) + (f" and {len(unseen) - 5} more" if len(unseen) > 5 else "")
        said = f"Azure Resource Graph does not answer for subscriptions {named}; "
        said += "they are read through Resource Manager"
        errors.append(scan_warning(graph.CALL, said))
    return recording


@dataclass
class _Reading:
    clients: AzureClients
    pool: ThreadPoolExecutor
    scope: AzureScope
    errors: ErrorSink
    recording: graph.Recording | None = None

    def recorded(self, subscription: str) -> graph.Recording | None:
        """The recording, when it answers for the subscription."""
        recording = self.recording
        return recording if recording is not None and recording.covers(subscription) else None

    def mark(self, kind: str, docs: list[Document]) -> list[Document]:
        """Say on each document that the recording described it, and what of it."""
        assert self.recording is not None
        fields = None if self.scope.fields is None else self.scope.fields.get(kind)
        for doc in docs:
            if doc["kind"] == kind:
                doc["source"] = self.recording.source(kind, fields)
        return docs


def _list_subscription(reading: _Reading, subscription: str) -> list[Any]:
    out: list[Any] = []
    for reader in (accounts, ingress_rules, dicom_stores):
        try:
            out.extend(reader(reading, subscription))
        except CredentialsRefused:
            raise
        except Exception as exc:
            code, message = error_of(exc)
            what = f"{reader.__name__} of subscriptions/{subscription}"
            reading.errors.append(
                scan_error("cloudscan:read", code, f"could not read {what}: {message}", what)
            )
    return out


# The readers have the names of the Terraform mappers' and the other clouds' readers; here
# `accounts` also gives each account's containers (the buckets), listed per account with the
# account's blob service settings read once.


def accounts(reading: _Reading, subscription: str) -> list[Any]:
    wanted = reading.scope.wants("storage.account"), reading.scope.wants("storage.bucket")
    if not any(wanted):
        return []
    client = reading.clients.storage(subscription)
    recorded = reading.recorded(subscription)
    if recorded is not None:
        found = graph.storage_accounts(recorded, subscription)
    else:
        found = _listing(
            reading,
            subscription,
            "storage.storageAccounts.list",
            lambda: list(client.storage_accounts.list()),
        )
    out: list[Any] = []
    fields = reading.scope.fields_of("storage.bucket", storage.BUCKET_FIELDS)
    for account in found or []:
        read: Callable[[], list[Document]] = partial(
            storage.describe_account_and_containers,
            reading.clients,
            account,
            subscription,
            wanted,
            fields,
            reading.scope.sampling,
            reading.errors,
            reading.scope.makes(TABLE, SERVICE_PROPERTIES),
        )
        if recorded is not None:
            read = partial(_marked, reading, read)
        out.append(reading.pool.submit(read_safely, reading.errors, account.id, read, error_of))
    return out


def ingress_rules(reading: _Reading, subscription: str) -> list[Any]:
    if not reading.scope.wants("network.ingress"):
        return []
    client = reading.clients.network(subscription)
    recorded = reading.recorded(subscription)
    listed = None
    if recorded is not None:
        groups = graph.security_groups(recorded, subscription)
        listed = graph.network_listings(recorded, subscription)
    else:
        groups = _listing(
            reading,
            subscription,
            "network.networkSecurityGroups.list",
            lambda: list(client.network_security_groups.list_all()),
        )
    if not groups:
        return []
    try:
        topology: topology_.Topology | None = topology_.read_topology(client, listed)
    except CredentialsRefused:
        raise
    except Exception as exc:
        code, message = error_of(exc)
        what = f"subscriptions/{subscription}"
        # Each group is then judged alone: what the other group on a NIC's path keeps out is not known.
        reading.errors.append(scan_error("network.topology", code, message, what))
        topology = None
    rules = {group.id.lower(): network.group_rules(group) for group in groups}
    docs = [doc for group in groups for doc in network.ingress_rules(group, subscription, topology, rules)]
    return reading.mark("network.ingress", docs) if recorded is not None else docs


def dicom_stores(reading: _Reading, subscription: str) -> list[Any]:
    if not reading.scope.wants("dicom.store"):
        return []
    client = reading.clients.healthcare(subscription)
    recorded = reading.recorded(subscription)
    if recorded is not None:
        services = graph.dicom_services(recorded, subscription)
        return reading.mark("dicom.store", [healthcare.describe_service(s, subscription) for s in services])
    workspaces = _listing(
        reading,
        subscription,
        "healthcareapis.workspaces.list",
        lambda: list(client.workspaces.list_by_subscription()),
    )
    return [
        reading.pool.submit(
            read_safely,
            reading.errors,
            workspace.id,
            partial(healthcare.describe_workspace_services, client, workspace, subscription),
            error_of,
        )
        for workspace in workspaces or []
    ]


def _marked(reading: _Reading, read: Callable[[], list[Document]]) -> list[Document]:
    return reading.mark("storage.bucket", reading.mark("storage.account", read()))


def _listing(reading: _Reading, subscription: str, call: str, list_: Callable[[], Any]) -> Any:
    try:
        return list_()
    except CredentialsRefused:
        raise
    except ProviderNotRegistered:
        return []  # a provider the subscription never registered holds no resource
    except Exception as exc:
        code, message = error_of(exc)
        if code == "MissingSubscriptionRegistration":
            return []
        reading.errors.append(scan_error(call, code, message, f"subscriptions/{subscription}"))
        return None
