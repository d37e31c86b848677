"""The blob containers of one storage account: listed through the data plane where the
identity may read it, through the management plane where it may not; and what only the data
plane tells of them, their stored access policies.

Why the data plane first: Resource Manager throttles reads per subscription and principal (a
bucket of 250 requests refilled at 25 a second, shared with every other tool that reads the
subscription as that identity), while a storage account's blob endpoint has limits of its own,
per account and far higher. An identity with Storage Blob Data Reader is then scanned with one
Resource Manager call fewer per account, and a large estate stays under ARM's limits.

Which plane lists an account's containers is decided once for the account: one refused listing
(401, 403, a firewall, no endpoint, out of reach) and the management plane lists them, never a
failing request per container. Either way each container comes out as the same `Container`, so
its document does not depend on the plane. The same holds for stored access policies: after one
refused Get Container ACL the account's other containers are not asked."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cloudscan.providers.azure.clients import AzureClients, error_of, value
from cloudscan.providers.azure.vocabulary import sas_permissions

LIST_BY_DATA_PLANE = "storage.blob.listContainers"
LIST_BY_MANAGEMENT = "storage.blobContainers.list"
GET_ACL = "storage.blob.getContainerAcl"
# Containers a page of the data plane's listing (it allows 5,000). Every page is kept, as the
# management plane's listing keeps every container: the documents are made from the list.
PAGE = 1000
# What Get Container ACL authorises on; no read-only built-in role has it.
GET_ACL_ACTION = "Microsoft.Storage/storageAccounts/blobServices/containers/getAcl/action"


@dataclass(frozen=True)
class Container:
    """A container as either plane lists it, in the words its document uses."""

    name: str
    access: str  # private, blob, container; anything else as the plane spelt it, lowered
    immutability_policy: bool
    legal_hold: bool
    version_immutability: bool  # version-level immutability (WORM) on the container


@dataclass(frozen=True)
class Listing:
    containers: list[Container]
    call: str  # the call that listed them
    blob: Any  # the account's data-plane client; None when there is none
    refused: tuple[str, str] | None  # (code, message) when the data plane did not list them


class ListingFailed(Exception):
    """Neither plane listed the account's containers."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def list_containers(
    clients: AzureClients, account: Any, by_management: Callable[[], Iterable[Any]]
) -> Listing:
    """The account's containers, from the data plane if it answers, else from `by_management`."""
    from azure.core.exceptions import AzureError

    endpoint = account.primary_endpoints.blob if account.primary_endpoints else None
    blob: Any = None
    try:
        blob = clients.blob_service(account.name, endpoint)
        refused = None if blob else ("NoDataPlane", "the account has no blob endpoint this scan can reach")
    except ValueError as exc:  # a token is never sent over plain http
        refused = ("NoDataPlane", f"its blob endpoint cannot be used: {exc}")
    if blob is not None:
        try:
            found = [_from_data_plane(c) for c in blob.list_containers(results_per_page=PAGE)]
            return Listing(found, LIST_BY_DATA_PLANE, blob, None)
        except (AzureError, ValueError) as exc:
            refused = _refusal(exc, "list the account's containers")
    assert refused is not None
    try:
        found = [_from_management(item) for item in by_management()]
    except AzureError as exc:
        code, message = error_of(exc)
        raise ListingFailed(code, f"{message} (and the data plane: {refused[1]})") from None
    return Listing(found, LIST_BY_MANAGEMENT, blob, refused)


def _from_data_plane(item: Any) -> Container:
    return Container(
        name=item.name,
        access=_level(item.public_access),
        immutability_policy=bool(item.has_immutability_policy),
        legal_hold=bool(item.has_legal_hold),
        version_immutability=bool(item.immutable_storage_with_versioning_enabled),
    )


def _from_management(item: Any) -> Container:
    worm = item.immutable_storage_with_versioning
    return Container(
        name=item.name,
        access=_level(item.public_access),
        immutability_policy=bool(item.has_immutability_policy),
        legal_hold=bool(item.has_legal_hold),
        version_immutability=bool(worm and worm.enabled),
    )


def _level(public_access: Any) -> str:
    """'blob' / 'container' / None (data plane) and Blob / Container / None (Resource Manager)."""
    level = str(value(public_access) or "None").lower()
    return "private" if level == "none" else level


def _refusal(exc: Exception, what: str) -> tuple[str, str]:
    """(code, message) of a data-plane call that failed; never a URL (it names the account,
    and an exception's text may name more)."""
    from azure.core.exceptions import HttpResponseError

    code, _ = error_of(exc, data_plane=True)
    if isinstance(exc, HttpResponseError) and exc.status_code in (401, 403):
        return code, f"the data plane refused to {what} (HTTP {exc.status_code} {code})"
    return code, f"the data plane could not {what} ({code})"


def needs_a_data_role(refused: tuple[str, str]) -> str:
    """Why a container listed through the management plane has no stored access policies read."""
    return (
        f"stored access policies are read through the data plane only, and {refused[1]}: the identity "
        f"needs a data role on the account (Storage Blob Data Reader to list, {GET_ACL_ACTION} to "
        "read them) and a way to its blob endpoint"
    )


class StoredPolicies:
    """Reads the stored access policies of one account's containers; after a refusal (401,
    403, the endpoint out of reach) it asks no more and gives that refusal for every container."""

    def __init__(self, blob: Any, now: datetime) -> None:
        self.blob, self.now = blob, now
        self.refused: tuple[str, str] | None = None

    def read(self, container: str) -> list[dict[str, Any]] | tuple[str, str]:
        """The container's stored access policies, or (code, message) of why they are unknown."""
        from azure.core.exceptions import AzureError, HttpResponseError, ServiceRequestError

        if self.refused:
            return self.refused
        try:
            acl = self.blob.get_container_client(container).get_container_access_policy()
        except (AzureError, ValueError) as exc:
            code, message = _refusal(exc, "read stored access policies")
            if isinstance(exc, HttpResponseError) and exc.status_code in (401, 403):
                self.refused = (
                    code,
                    f"{message}; Get Container ACL needs {GET_ACL_ACTION}, which Reader and Storage "
                    "Blob Data Reader lack; the account's other containers were not asked",
                )
                return self.refused
            if isinstance(exc, ServiceRequestError):
                self.refused = (code, f"{message}; the account's other containers were not asked")
                return self.refused
            return code, message
        return [self._policy(identifier) for identifier in acl["signed_identifiers"]]

    def _policy(self, identifier: Any) -> dict[str, Any]:
        policy = identifier.access_policy
        start = _instant(policy.start) if policy else None
        expiry = _instant(policy.expiry) if policy else None
        return {
            "id": str(identifier.id),
            "permissions": sas_permissions(policy.permission if policy else None),
            "start": _text(start),
            "expiry": _text(expiry),
            # Whole days, rounded down: an expiry an hour ago is -1.
            "expires_in_days": (expiry - self.now).days if expiry else None,
        }


def _instant(when: Any) -> datetime | None:
    if isinstance(when, str):
        when = datetime.fromisoformat(when.replace("Z", "+00:00"))
    if not isinstance(when, datetime):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _text(when: datetime | None) -> str | None:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None
