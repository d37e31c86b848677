"""Azure resources of a Terraform module: blob containers judged with their storage account's
settings as guards, and network security group rules. What the configuration leaves out takes
the azurerm provider's defaults: nested items may be public, containers are private."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudscan.model import Document, bucket_access, new_resource, store_access
from cloudscan.providers.azure.vocabulary import (
    CONTAINER_ACCESS,
    container_grants,
)
from cloudscan.providers.terraform.attributes import identity_named, named_identity, placeholder
from cloudscan.providers.terraform.azure_nsg import ingress_rules
from cloudscan.providers.terraform.config import Instance, Module
from cloudscan.providers.terraform.documents import (
    as_list,
    isolated,
    resource_id,
    set_blocks,
    source_of,
    unresolved,
)
from cloudscan.providers.terraform.expressions import Unknown, as_bool, first_unknown

identity_named(
    "azurerm_storage_account",
    "azurerm_storage_container",
    "azurerm_network_security_group",
    "azurerm_healthcare_dicom_service",
)


def accounts(module: Module) -> Iterator[Document]:
    """Each storage account on its own: one that lets containers be made public is a finding
    even when this configuration declares no container in it."""
    yield from isolated(
        module,
        module.managed("azurerm_storage_account"),
        "storage.account",
        "azure",
        lambda account: [_account(module, account)],
    )


def _account(module: Module, account: Instance) -> Document:
    doc = new_resource(
        "storage.account",
        "azure",
        resource_id(module, account),
        name=named_identity(account),
        region=_str(account.value("location")),
        source=source_of(account),
    )
    https = account.value("https_traffic_only_enabled")
    https = account.value("enable_https_traffic_only") if https is None else https  # azurerm 3
    values = {
        "allow_public_containers": _allows_public(account),
        "network": _network(account),
        "network_exceptions": _network_exceptions(account),
        # The azurerm provider's defaults: HTTPS only, TLS 1.2, shared keys accepted.
        "https_only": as_bool(https, True),
        "minimum_tls_version": account.value("min_tls_version") or "TLS1_2",
        "shared_key_access": as_bool(account.value("shared_access_key_enabled"), True),
        # azurerm 4 turns it off unless asked; azurerm 3 left Azure's old default, on.
        "cross_tenant_replication": as_bool(account.value("cross_tenant_replication_enabled"), False),
        "customer_managed_key": _managed_key(module, account),
        "blob_recovery": _blob_recovery(account),
    }
    set_blocks(doc, values, account)
    return doc


def _allows_public(account: Instance) -> Any:
    allowed = as_bool(account.value("allow_nested_items_to_be_public"))
    return allowed if allowed is not None else as_bool(account.value("allow_blob_public_access"), True)


def buckets(module: Module) -> Iterator[Document]:
    accounts: dict[Any, Instance] = {}
    for account in module.related("azurerm_storage_account"):
        accounts[named_identity(account)] = account
        accounts[placeholder(account, "id")] = account
    yield from isolated(
        module,
        module.managed("azurerm_storage_container"),
        "storage.bucket",
        "azure",
        lambda container: [_container(module, container, accounts)],
    )


def _container(module: Module, container: Instance, accounts: dict[Any, Instance]) -> Document:
    account = accounts.get(container.value("storage_account_name")) or accounts.get(
        container.value("storage_account_id")
    )
    name = named_identity(container)
    account_name = named_identity(account) if account else "(account not in this configuration)"
    doc = new_resource(
        "storage.bucket",
        "azure",
        resource_id(module, container),
        name=f"{account_name}/{name}",
        source=source_of(container),
        region=_str(account.value("location")) if account else None,
    )
    _access(doc, container, account)
    _settings(doc, module, container, account)
    # azurerm_storage_container cannot declare stored access policies (only the data plane's Set
    # Container ACL makes them): what a SAS can do is not in the configuration, not judged here.
    doc["shared_access"] = None
    if module.unreadable:
        # Network rules and the account's own settings can sit in another file of the directory.
        unresolved(
            doc,
            ["/access/guards"],
            container,
            f"{', '.join(module.unreadable)} could not be read and may configure its account",
        )
    return doc


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _access(doc: Document, container: Instance, account: Instance | None) -> None:
    allowed = _allows_public(account) if account else None
    guard = allowed if isinstance(allowed, bool) else None
    network = _network(account) if account else None
    doc["access"] = bucket_access(
        {
            "account_allows_public_access": guard,
            "account_network": None if isinstance(network, Unknown) else network,
        },
        policy={"present": False, "statement_count": 0},  # containers have no resource policy
    )
    if account and isinstance(network, Unknown):
        unresolved(doc, ["/access/guards/account_network"], account, network.reason)
    if account is None:
        unresolved(
            doc,
            ["/access/guards/account_allows_public_access", "/access/guards/account_network"],
            container,
            "its storage account is not in this configuration",
        )
    elif isinstance(allowed, Unknown):
        unresolved(doc, ["/access/guards/account_allows_public_access"], account, allowed.reason)
    level = container.value("container_access_type") or "private"
    if isinstance(level, Unknown) or level not in CONTAINER_ACCESS:
        unresolved(
            doc,
            ["/access/acl"],
            container,
            level.reason if isinstance(level, Unknown) else f"unknown access type {level!r}",
        )
        return
    doc["access"]["grants"].extend(
        container_grants(
            level, f"{container.address} container_access_type", f"container_access_type = {level}"
        )
    )
    doc["access"]["acl"] = {"owner": None, "grant_count": len(doc["access"]["grants"])}


def _network(account: Instance) -> dict[str, Any] | Unknown:
    """The account's network access as configured: public network access, and the network
    rules given inline or by azurerm_storage_account_network_rules."""
    rules = account.blocks("network_rules") + [
        {"default_action": i.value("default_action"), "ip_rules": i.value("ip_rules")}
        for i in account.module.instances
        if i.type == "azurerm_storage_account_network_rules"
        and i.value("storage_account_id") == placeholder(account, "id")
    ]
    rule = rules[0] if rules else {"default_action": "Allow", "ip_rules": []}
    action = rule.get("default_action")
    network = {
        "public_network_access": as_bool(account.value("public_network_access_enabled"), True),
        "default_action": action.capitalize() if isinstance(action, str) else action,
        "ip_rules": rule.get("ip_rules") or [],
    }
    unknown = first_unknown(network)
    return unknown if unknown else network


def _network_exceptions(account: Instance) -> dict[str, Any] | Unknown:
    """Who else the account's network rules let in: subnets, resource instances, trusted services
    (azurerm's bypass defaults to AzureServices)."""
    rules = (account.blocks("network_rules") or [{}])[0]
    unknown = first_unknown(rules)
    if unknown:
        return unknown
    bypass = rules.get("bypass")
    return {
        "virtual_network_rules": len(as_list(rules.get("virtual_network_subnet_ids"))),
        "resource_access_rules": len(as_list(rules.get("private_link_access"))),
        "trusted_services": "AzureServices" in as_list(bypass) if bypass is not None else True,
    }


def _blob_recovery(account: Instance) -> dict[str, Any] | None:
    """blob_properties as the account's blob service reports them: no delete retention policy
    block means soft delete is off. A file-shares-only account has no blob service."""
    if account.value("account_kind") == "FileStorage":
        return None
    blob = (account.blocks("blob_properties") or [{}])[0]
    policies = blob.get("delete_retention_policy")
    retention = policies[0] if isinstance(policies, list) and policies else policies
    days = retention.get("days", 7) if isinstance(retention, dict) else None
    return {
        "soft_delete_days": days,
        "versioning": as_bool(blob.get("versioning_enabled"), False),
        "change_feed": as_bool(blob.get("change_feed_enabled"), False),
    }


def _managed_key(module: Module, account: Instance) -> bool:
    return bool(account.blocks("customer_managed_key")) or any(
        i.value("storage_account_id") == placeholder(account, "id")
        for i in module.managed("azurerm_storage_account_customer_managed_key")
    )


def _settings(doc: Document, module: Module, container: Instance, account: Instance | None) -> None:
    if account is None:
        for block in ("encryption", "versioning", "object_lock", "logging"):
            unresolved(doc, [f"/{block}"], container, "its storage account is not in this configuration")
        return
    blob = (account.blocks("blob_properties") or [{}])[0]
    managed_key = _managed_key(module, account)
    locked = bool(account.blocks("immutability_policy")) or any(
        i.value("storage_container_resource_manager_id")
        in (placeholder(container, "resource_manager_id"), placeholder(container, "id"))
        for i in module.managed("azurerm_storage_container_immutability_policy")
    )
    account_id = placeholder(account, "id")
    logged = any(
        isinstance(target := i.value("target_resource_id"), str)
        and target.startswith(account_id)
        and "blobServices" in target
        for i in module.managed("azurerm_monitor_diagnostic_setting")
    )
    values: dict[str, dict[str, Any]] = {
        # Azure Storage always encrypts; a customer-managed key is the stronger form.
        "encryption": {
            "enabled": True,
            "algorithm": "cmk" if managed_key else "microsoft-managed",
            "kms_key": None,
            "bucket_key": None,
        },
        "versioning": {"enabled": as_bool(blob.get("versioning_enabled"), False), "mfa_delete": None},
        "object_lock": {"enabled": locked, "mode": None, "retention_days": None},
        "logging": {"enabled": logged, "target": None},
    }
    set_blocks(doc, values, account)


def dicom_stores(module: Module) -> Iterator[Document]:
    """Azure Health Data Services DICOM services: reached with Entra ID tokens only, so what
    matters is whether public networks reach them and which origins their CORS lets in."""
    yield from isolated(
        module,
        module.managed("azurerm_healthcare_dicom_service"),
        "dicom.store",
        "azure",
        lambda service: [_dicom_service(module, service)],
    )


def _storage_copy(module: Module, storage: dict[str, Any]) -> dict[str, Any]:
    """Where a service on the customer's own storage keeps its studies, under the ids this
    scan gives the account and the container when the configuration declares them: their
    exposure is the service's (checks/copies.py)."""
    written, file_system = storage.get("storage_account_id"), storage.get("file_system_name")
    if not isinstance(written, str) or not isinstance(file_system, str):
        # Not a reference this scan can follow: the store's exposure is unknown, not passed.
        unknown = first_unknown([written, file_system])
        said = unknown.reason if unknown else "not a string"
        return {"type": "storage", "target": f"(storage account unknown: {said})", "account": None}
    account = next(
        (a for a in module.related("azurerm_storage_account") if placeholder(a, "id") == written), None
    )
    if account is None:  # an account declared elsewhere, by its Azure id
        return {
            "type": "storage",
            "target": f"{written}/blobServices/default/containers/{file_system}",
            "account": written,
        }
    names = {placeholder(account, "id"), named_identity(account)}
    container = next(
        (
            c
            for c in module.related("azurerm_storage_container")
            if c.value("name") == file_system
            and any(str(c.value(key)) in names for key in ("storage_account_id", "storage_account_name"))
        ),
        None,
    )
    account_id = resource_id(account.module, account)
    target = (
        resource_id(container.module, container)
        if container
        else f"{account_id}/blobServices/default/containers/{file_system}"
    )
    return {"type": "storage", "target": target, "account": account_id}


def _dicom_service(module: Module, service: Instance) -> Document:
    doc = new_resource(
        "dicom.store",
        "azure",
        resource_id(module, service),
        name=named_identity(service),
        region=_str(service.value("location")),
        source=source_of(service),
    )
    doc["access"] = store_access({"present": False, "statement_count": 0})
    public = as_bool(service.value("public_network_access_enabled"), True)
    cors = (service.blocks("cors") or [{}])[0]
    key = service.value("encryption_key_url")
    origins = cors.get("allowed_origins") or []
    values = {
        "network": {
            "public_network_access": public,
            "private_endpoints": sum(
                1
                for endpoint in module.related("azurerm_private_endpoint")
                for connection in endpoint.blocks("private_service_connection")
                if connection.get("private_connection_resource_id") == placeholder(service, "id")
            ),
        },
        "cors": {
            "allow_any_origin": "*" in origins if isinstance(origins, list) else origins,
            "allow_credentials": as_bool(cors.get("allow_credentials"), False),
            "methods": _methods(cors.get("allowed_methods")),
        },
        "encryption": {"customer_managed_key": bool(key), "kms_key": key},
        # On the customer's own storage, the studies sit in that account's file system.
        "copies": [_storage_copy(module, s) for s in service.blocks("storage")],
    }
    set_blocks(doc, values, service)
    return doc


def _methods(written: Any) -> Any:
    if written is None:
        return []
    if not isinstance(written, list) or not all(isinstance(m, str) for m in written):
        return written if isinstance(written, Unknown) else None
    return sorted({m.upper() for m in written})


__all__ = ["accounts", "buckets", "dicom_stores", "ingress_rules"]
