"""Storage accounts as `storage.account` documents, and their blob containers as
`storage.bucket` documents with the account's settings as guards, as the Terraform mapper
makes them. Never a call that returns a secret (listKeys, listAccountSas, listServiceSas)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cloudscan.model import (
    CredentialsRefused,
    Document,
    bucket_access,
    leave_out,
    mark_unknown,
    new_resource,
    scan_error,
)
from cloudscan.providers.azure import containers
from cloudscan.providers.azure.clients import AzureClients, error_of, value
from cloudscan.providers.azure.containers import Container, Listing, ListingFailed, StoredPolicies
from cloudscan.providers.azure.permissions import TABLE
from cloudscan.providers.azure.vocabulary import CONTAINER_ACCESS, container_grants
from cloudscan.providers.sampling import LIST_LIMIT, ReadFailed, Sampling, sample_objects, shown_name

BUCKET_FIELDS = TABLE.fields("storage.bucket")  # permissions.py says which calls fill each
DIAGNOSTICS_API = "2021-05-01-preview"
PERIMETER = "a network security perimeter decides who reaches the account; its rules are not read"


def resource_group(resource_id: str) -> str:
    return resource_id.split("/resourceGroups/", 1)[1].split("/", 1)[0]


def allows_public_containers(account: Any) -> bool:
    # Accounts made before the 2023 default answer null, which Azure reads as allowed.
    allowed = account.allow_blob_public_access
    return True if allowed is None else bool(allowed)


def network_of(account: Any) -> dict[str, Any] | None:
    """The account's network access, in the shape the Terraform mapper gives it; None when a
    network security perimeter decides, whose rules this scan does not read."""
    if value(account.public_network_access) == "SecuredByPerimeter":
        return None
    rules = account.network_rule_set
    return {
        "public_network_access": value(account.public_network_access) != "Disabled",
        "default_action": value(rules.default_action) if rules else "Allow",
        "ip_rules": [r.ip_address_or_range for r in (rules.ip_rules or [])] if rules else [],
    }


def describe_account_and_containers(
    clients: AzureClients,
    account: Any,
    subscription: str,
    wanted: tuple[bool, bool],
    fields: frozenset[str],
    sampling: Sampling,
    errors: list[dict[str, Any]],
    read_service: bool,
) -> list[Document]:
    """The account (if `wanted[0]`) and its containers (if `wanted[1]`), with the account's blob
    service settings read once for all of them (if `read_service`: an enabled policy needs
    them). Containers that cannot be listed are an error of the scan; the account is judged
    all the same."""
    client = clients.storage(subscription)
    has_blobs = str(value(account.kind)) != "FileStorage"  # file shares only: no blob service
    service: Any = None
    service_error: tuple[str, str] | None = None
    if has_blobs and read_service:
        try:
            service = client.blob_services.get_service_properties(resource_group(account.id), account.name)
        except Exception as exc:
            service_error = error_of(exc)
    out = [describe_account(account, subscription, service, service_error)] if wanted[0] else []
    if wanted[1] and has_blobs:
        try:
            out += describe_containers(
                clients, account, subscription, fields, sampling, service, service_error
            )
        except ListingFailed as exc:
            errors.append(scan_error(containers.LIST_BY_MANAGEMENT, exc.code, exc.message, account.id))
        except CredentialsRefused:
            raise
        except Exception as exc:
            code, message = error_of(exc)
            errors.append(scan_error(containers.LIST_BY_MANAGEMENT, code, message, account.id))
    return out


def describe_account(
    account: Any, subscription: str, service: Any = None, service_error: tuple[str, str] | None = None
) -> Document:
    doc = new_resource(
        "storage.account",
        "azure",
        account.id,
        name=account.name,
        account=subscription,
        region=account.location,
        labels=dict(account.tags or {}),
    )
    doc["allow_public_containers"] = allows_public_containers(account)
    doc["network"] = network_of(account)
    rules = account.network_rule_set
    doc["network_exceptions"] = {
        "virtual_network_rules": len(rules.virtual_network_rules or []) if rules else 0,
        "resource_access_rules": len(rules.resource_access_rules or []) if rules else 0,
        "trusted_services": "AzureServices" in str(value(rules.bypass)) if rules else True,
    }
    if doc["network"] is None:
        mark_unknown(
            doc,
            ["/network"],
            call="storage.storageAccounts.list",
            code="SecuredByPerimeter",
            message=PERIMETER,
        )
    # Unset on accounts made before these became settings: Azure then accepts HTTP and TLS 1.0.
    doc["https_only"] = bool(account.enable_https_traffic_only)
    doc["minimum_tls_version"] = value(account.minimum_tls_version) or "TLS1_0"
    doc["shared_key_access"] = account.allow_shared_key_access is not False
    # Unset on accounts made before December 2023, which allowed it.
    doc["cross_tenant_replication"] = account.allow_cross_tenant_replication is not False
    source = value(account.encryption and account.encryption.key_source)
    doc["customer_managed_key"] = str(source).lower() == "microsoft.keyvault"
    if service_error:
        code, message = service_error
        call = "storage.blobServices.getServiceProperties"
        mark_unknown(doc, ["/blob_recovery"], call=call, code=code, message=message)
    elif service is not None:
        retention = service.delete_retention_policy
        doc["blob_recovery"] = {
            "soft_delete_days": retention.days if retention and retention.enabled else None,
            "versioning": bool(service.is_versioning_enabled),
            "change_feed": bool(service.change_feed and service.change_feed.enabled),
        }
    else:
        doc["_meta"]["not_collected"].append("/blob_recovery")
    return doc


@dataclass(frozen=True)
class _Account:
    """What every container of one account is described with, read once for the account."""

    account: Any
    subscription: str
    fields: frozenset[str]
    service: Any
    service_error: tuple[str, str] | None
    logging: dict[str, Any] | tuple[str, str] | None
    listing: Listing
    stored_policies: StoredPolicies | None
    sampling: Sampling


def describe_containers(
    clients: AzureClients,
    account: Any,
    subscription: str,
    fields: frozenset[str],
    sampling: Sampling,
    service: Any,
    service_error: tuple[str, str] | None,
) -> list[Document]:
    """Every container of the account, listed through the data plane where the identity may
    and through the management plane where it may not (containers.py says why and how), with
    the account's blob service settings as read for the account."""
    client = clients.storage(subscription)
    listing = containers.list_containers(
        clients, account, lambda: client.blob_containers.list(resource_group(account.id), account.name)
    )
    if not listing.containers:
        return []
    reading_policies = "shared_access" in fields and listing.blob is not None and not listing.refused
    context = _Account(
        account=account,
        subscription=subscription,
        fields=fields,
        service=service,
        service_error=service_error,
        logging=_logging(client, account) if "logging" in fields else None,
        listing=listing,
        stored_policies=StoredPolicies(listing.blob, datetime.now(UTC)) if reading_policies else None,
        sampling=sampling,
    )
    return [_container(context, item) for item in listing.containers]


def _container(context: _Account, item: Container) -> Document:
    account, fields = context.account, context.fields
    doc = new_resource(
        "storage.bucket",
        "azure",
        f"{account.id}/blobServices/default/containers/{item.name}",
        name=f"{account.name}/{item.name}",
        account=context.subscription,
        region=account.location,
        labels=dict(account.tags or {}),
    )
    doc["access"] = bucket_access(
        {
            "account_allows_public_access": allows_public_containers(account),
            "account_network": network_of(account),
        },
        policy={"present": False, "statement_count": 0},  # containers have no resource policy
    )
    if doc["access"]["guards"]["account_network"] is None:
        pointer, call = "/access/guards/account_network", "storage.storageAccounts.list"
        mark_unknown(doc, [pointer], call=call, code="SecuredByPerimeter", message=PERIMETER)
    if item.access in CONTAINER_ACCESS:
        # Resource Manager's spelling (Blob, Container), whichever plane listed the container.
        origin, action = f"container {item.name} public access", f"publicAccess = {item.access.title()}"
        doc["access"]["grants"] = container_grants(item.access, origin, action)
        doc["access"]["acl"] = {"owner": None, "grant_count": len(doc["access"]["grants"])}
    else:
        mark_unknown(
            doc,
            ["/access/acl"],
            call=context.listing.call,
            code="UnknownAccessLevel",
            message=f"unknown public access level {item.access!r}",
        )
    key = account.encryption and account.encryption.key_vault_properties
    # Azure Storage always encrypts; a customer-managed key is the stronger form.
    key_source = value(account.encryption and account.encryption.key_source)
    doc["encryption"] = {
        "enabled": True,
        "algorithm": "cmk" if str(key_source).lower() == "microsoft.keyvault" else "microsoft-managed",
        "kms_key": key.key_vault_uri if key else None,
        "bucket_key": None,
    }
    account_worm = account.immutable_storage_with_versioning
    locked = bool(
        item.immutability_policy
        or item.legal_hold
        or item.version_immutability
        or (account_worm and account_worm.enabled)
    )
    service, service_error = context.service, context.service_error
    if service_error:
        code, message = service_error
        call = "storage.blobServices.getServiceProperties"
        # A container's own immutability policy or legal hold is known from the listing.
        unread = ["/versioning"] if locked else ["/versioning", "/object_lock"]
        mark_unknown(doc, unread, call=call, code=code, message=message)
    if service is not None:
        doc["versioning"] = {"enabled": bool(service.is_versioning_enabled), "mfa_delete": None}
    if service is not None or locked:
        doc["object_lock"] = {"enabled": locked, "mode": None, "retention_days": None}
    logging = context.logging
    if isinstance(logging, tuple):
        mark_unknown(
            doc, ["/logging"], call="insights.diagnosticSettings.list", code=logging[0], message=logging[1]
        )
    elif logging is not None:
        doc["logging"] = logging
    if "objects" in fields and context.sampling.size > 0:
        _sample(doc, context.listing.blob, item.name, context.sampling)
    else:
        fields = fields - {"objects"}
    leave_out(doc, BUCKET_FIELDS, fields | {"access", "encryption", "labels"})
    if "shared_access" in fields:
        _shared_access(doc, context, item)  # after leave_out, which rewrites what was not collected
    return doc


def _shared_access(doc: Document, context: _Account, item: Container) -> None:
    """Whether the account honours SAS signed with its key, and the container's stored access
    policies, which such a SAS can reference. With Shared Key off no SAS can use them, so they
    are not read: one request a container saved, and nothing left unknown that cannot matter."""
    signing = context.account.allow_shared_key_access is not False  # unset: allowed
    doc["shared_access"] = {"account_key_signing": signing, "stored_access_policies": None}
    pointer = "/shared_access/stored_access_policies"
    if not signing:
        doc["_meta"]["not_collected"].append(pointer)
        return
    if context.listing.refused:
        code, _ = context.listing.refused
        message = containers.needs_a_data_role(context.listing.refused)
        mark_unknown(doc, [pointer], call=containers.GET_ACL, code=code, message=message)
        return
    assert context.stored_policies is not None
    read = context.stored_policies.read(item.name)
    if isinstance(read, tuple):
        mark_unknown(doc, [pointer], call=containers.GET_ACL, code=read[0], message=read[1])
    else:
        doc["shared_access"]["stored_access_policies"] = read


def _logging(client: Any, account: Any) -> dict[str, Any] | tuple[str, str]:
    """Whether the account's blob service sends its logs anywhere (diagnostic settings), read
    through the storage client's own pipeline: no other SDK needed for one GET."""
    from azure.core.rest import HttpRequest

    url = f"{account.id}/blobServices/default/providers/Microsoft.Insights/diagnosticSettings"
    try:
        response = client.send_request(HttpRequest("GET", url, params={"api-version": DIAGNOSTICS_API}))
        response.raise_for_status()
        settings = response.json().get("value", [])
    except Exception as exc:
        return error_of(exc)
    for setting in settings:
        properties = setting.get("properties") or {}
        if any(log.get("enabled") for log in properties.get("logs") or []):
            target = properties.get("workspaceId") or properties.get("storageAccountId")
            return {"enabled": True, "target": target}
    return {"enabled": False, "target": None}


def _sample(doc: Document, blob: Any, container: str, sampling: Sampling) -> None:
    if blob is None:
        mark_unknown(
            doc,
            ["/objects"],
            call="storage.blob.list",
            code="NoDataPlane",
            message="the account has no blob endpoint this scan can reach",
        )
        return
    client = blob.get_container_client(container)
    try:
        sizes = {b.name: b.size for _, b in zip(range(LIST_LIMIT), client.list_blobs(), strict=False)}
    except Exception as exc:
        code, message = error_of(exc, data_plane=True)
        # Listing blobs needs a data role (Storage Blob Data Reader), which management roles lack.
        mark_unknown(doc, ["/objects"], call="storage.blob.list", code=code, message=message)
        return

    def read_prefix(name: str, size: int) -> bytes:
        try:
            return bytes(client.download_blob(name, offset=0, length=size).readall())
        except Exception as exc:
            code, _ = error_of(exc, data_plane=True)  # the message holds the blob's URL: its name may be PHI
            message = f"reading blob {shown_name(name, sampling)} failed ({code})"
            mark_unknown(doc, ["/objects"], call="storage.blob.get", code=code, message=message)
            raise ReadFailed(name) from None

    try:
        doc["objects"], _ = sample_objects(sizes, read_prefix, sampling)
    except ReadFailed:
        return
