"""Health Data Services DICOM services (through their workspaces) as `dicom.store` documents.
A DICOM service only answers Entra ID tokens, so no grant is anonymous: what matters is
whether public networks reach it, which origins its CORS lets in, and its key."""

from __future__ import annotations

from typing import Any

from cloudscan.model import Document, new_resource, store_access
from cloudscan.providers.azure.clients import value
from cloudscan.providers.azure.storage import resource_group


def describe_workspace_services(client: Any, workspace: Any, subscription: str) -> list[Document]:
    group = resource_group(workspace.id)
    return [
        describe_service(s, subscription)
        for s in client.dicom_services.list_by_workspace(group, workspace.name)
    ]


def describe_service(service: Any, subscription: str) -> Document:
    doc = new_resource(
        "dicom.store",
        "azure",
        service.id,
        name=str(service.name).rsplit("/", 1)[-1],
        account=subscription,
        region=service.location,
        labels=dict(service.tags or {}),
    )
    doc["access"] = store_access({"present": False, "statement_count": 0})
    # Private endpoints add a private path; only publicNetworkAccess Disabled closes the public one.
    approved = [
        c
        for c in service.private_endpoint_connections or []
        if c.private_link_service_connection_state
        and value(c.private_link_service_connection_state.status) == "Approved"
    ]
    doc["network"] = {
        "public_network_access": value(service.public_network_access) != "Disabled",
        "private_endpoints": len(approved),
    }
    cors = service.cors_configuration
    doc["cors"] = {
        "allow_any_origin": "*" in (cors.origins or []) if cors else False,
        "allow_credentials": bool(cors.allow_credentials) if cors else False,
        "methods": sorted({str(m).upper() for m in cors.methods or []}) if cors else [],
    }
    authentication = service.authentication_configuration
    doc["authentication"] = {
        "authority": authentication.authority if authentication else None,
        "audiences": list(authentication.audiences or []) if authentication else [],
    }
    managed = service.encryption and service.encryption.customer_managed_key_encryption
    key = managed.key_encryption_key_url if managed else None
    doc["encryption"] = {"customer_managed_key": bool(key), "kms_key": key}
    # A service on the customer's own storage keeps its studies in that account's file system,
    # a container this scan reads too: its exposure is the service's (checks/copies.py).
    storage = service.storage_configuration
    account = storage.storage_resource_id if storage else None
    doc["copies"] = []
    if account:
        container = f"{account}/blobServices/default/containers/{storage.file_system_name or ''}"
        doc["copies"].append({"type": "storage", "target": container, "account": account})
    return doc
