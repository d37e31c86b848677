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

from cloudscan.model import CredentialsRefused, Document, ErrorSink, scan_error
from cloudscan.providers import ReadsFields
from cloudscan.providers.azure import healthcare, network, storage
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
    pool = ThreadPoolExecutor(max_workers=scope.concurrency, thread_name_prefix="cloudscan-azure")
    reading = _Reading(clients, pool, scope, errors)
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


@dataclass
class _Reading:
    clients: AzureClients
    pool: ThreadPoolExecutor
    scope: AzureScope
    errors: ErrorSink


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
    found = _listing(
        reading, subscription, "storage.storageAccounts.list", lambda: list(client.storage_accounts.list())
    )
    out: list[Any] = []
    fields = reading.scope.fields_of("storage.bucket", storage.BUCKET_FIELDS)
    for account in found or []:
        read = partial(
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
        out.append(reading.pool.submit(read_safely, reading.errors, account.id, read, error_of))
    return out


def ingress_rules(reading: _Reading, subscription: str) -> list[Any]:
    if not reading.scope.wants("network.ingress"):
        return []
    client = reading.clients.network(subscription)
    groups = _listing(
        reading,
        subscription,
        "network.networkSecurityGroups.list",
        lambda: list(client.network_security_groups.list_all()),
    )
    if not groups:
        return []
    try:
        topology: topology_.Topology | None = topology_.read_topology(client)
    except CredentialsRefused:
        raise
    except Exception as exc:
        code, message = error_of(exc)
        what = f"subscriptions/{subscription}"
        # Each group is then judged alone: what the other group on a NIC's path keeps out is not known.
        reading.errors.append(scan_error("network.topology", code, message, what))
        topology = None
    rules = {group.id.lower(): network.group_rules(group) for group in groups}
    return [doc for group in groups for doc in network.ingress_rules(group, subscription, topology, rules)]


def dicom_stores(reading: _Reading, subscription: str) -> list[Any]:
    if not reading.scope.wants("dicom.store"):
        return []
    client = reading.clients.healthcare(subscription)
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
