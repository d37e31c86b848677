"""The Azure calls of a scan and the role-based access control operations each one needs (see
providers/permissions.py).

A Resource Manager read needs the `read` operation of the resource type its path names
(`.../providers/Microsoft.Storage/storageAccounts` is Microsoft.Storage/storageAccounts/read).
The blob endpoint's operations are authorised as
https://learn.microsoft.com/rest/api/storageservices/authorize-with-azure-active-directory#permissions-for-calling-data-operations
says: List Containers on the containers' `read` action, Get Container ACL on `getAcl/action`
(which neither Reader nor Storage Blob Data Reader grants), List Blobs and Get Blob on the
data action `blobs/read`."""

from __future__ import annotations

from typing import Any

from cloudscan.providers.permissions import ALWAYS, Call, Needed, Table

CONTAINERS = "Microsoft.Storage/storageAccounts/blobServices/containers"
NETWORK = "Microsoft.Network"
SERVICE_PROPERTIES = "storage.blobServices.getServiceProperties"
SUBSCRIPTIONS = ("Microsoft.Resources/subscriptions/read",)
WITH_GROUPS = "where a subscription has network security groups"
GRAPH = "resourcegraph.resources"
SCALE_SETS = "where a subnet holds scale set instances"

TABLE = Table(
    "azure",
    calls={
        # One or the other: with --subscription and without.
        "subscriptions.get": Call(SUBSCRIPTIONS),
        "subscriptions.list": Call(SUBSCRIPTIONS),
        "storage.storageAccounts.list": Call(("Microsoft.Storage/storageAccounts/read",)),
        SERVICE_PROPERTIES: Call(("Microsoft.Storage/storageAccounts/blobServices/read",)),
        # Through the blob endpoint where it answers, else through Resource Manager
        # (containers.py): one or the other, authorised on the same action.
        "storage.blob.listContainers": Call((f"{CONTAINERS}/read",)),
        "storage.blobContainers.list": Call((f"{CONTAINERS}/read",)),
        "insights.diagnosticSettings.list": Call(("Microsoft.Insights/diagnosticSettings/read",)),
        "storage.blob.getContainerAcl": Call(
            (f"{CONTAINERS}/getAcl/action",),
            when="where an account accepts Shared Key and its blob endpoint can be reached",
        ),
        "storage.blob.list": Call((f"{CONTAINERS}/blobs/read",), option="sample", data=True),
        "storage.blob.get": Call(
            (f"{CONTAINERS}/blobs/read",), option="sample", when="where a container holds blobs", data=True
        ),
        "network.networkSecurityGroups.list": Call((f"{NETWORK}/networkSecurityGroups/read",)),
        "network.publicIPAddresses.list": Call((f"{NETWORK}/publicIPAddresses/read",), when=WITH_GROUPS),
        "network.virtualNetworks.list": Call((f"{NETWORK}/virtualNetworks/read",), when=WITH_GROUPS),
        "network.networkInterfaces.list": Call((f"{NETWORK}/networkInterfaces/read",), when=WITH_GROUPS),
        "network.loadBalancers.list": Call((f"{NETWORK}/loadBalancers/read",), when=WITH_GROUPS),
        "network.networkInterfaces.listVirtualMachineScaleSetNetworkInterfaces": Call(
            ("Microsoft.Compute/virtualMachineScaleSets/networkInterfaces/read",), when=SCALE_SETS
        ),
        "network.publicIPAddresses.listVirtualMachineScaleSetPublicIPAddresses": Call(
            ("Microsoft.Compute/virtualMachineScaleSets/publicIPAddresses/read",), when=SCALE_SETS
        ),
        # --source inventory|auto: one query a thousand subscriptions and a thousand rows, for
        # what the listings above give. Resource Graph shows only what the identity may read,
        # so their permissions stay (and serve what it cannot answer).
        GRAPH: Call(("Microsoft.ResourceGraph/resources/read",), option="inventory"),
        "healthcareapis.workspaces.list": Call(("Microsoft.HealthcareApis/workspaces/read",)),
        "healthcareapis.dicomServices.listByWorkspace": Call(
            ("Microsoft.HealthcareApis/workspaces/dicomservices/read",),
            when="where a subscription has workspaces",
        ),
    },
    reads={
        # Before anything, one read says whether Resource Manager answers these credentials.
        ALWAYS: ("subscriptions.get", "subscriptions.list"),
        ("storage.account", "*"): ("storage.storageAccounts.list", GRAPH),
        ("storage.account", "blob_recovery"): (SERVICE_PROPERTIES,),
        # A container comes with its account's settings: those are read with the account listing.
        ("storage.bucket", "*"): (
            "storage.storageAccounts.list",
            GRAPH,
            "storage.blob.listContainers",
            "storage.blobContainers.list",
        ),
        ("storage.bucket", "access"): (),
        ("storage.bucket", "encryption"): (),
        ("storage.bucket", "versioning"): (SERVICE_PROPERTIES,),
        ("storage.bucket", "object_lock"): (SERVICE_PROPERTIES,),
        ("storage.bucket", "logging"): ("insights.diagnosticSettings.list",),
        ("storage.bucket", "labels"): (),
        ("storage.bucket", "objects"): ("storage.blob.list", "storage.blob.get"),
        ("storage.bucket", "shared_access"): ("storage.blob.getContainerAcl",),
        # Each group's rules, and which NICs, subnets and public addresses it guards.
        ("network.ingress", "*"): (
            "network.networkSecurityGroups.list",
            GRAPH,
            "network.publicIPAddresses.list",
            "network.virtualNetworks.list",
            "network.networkInterfaces.list",
            "network.networkInterfaces.listVirtualMachineScaleSetNetworkInterfaces",
            "network.publicIPAddresses.listVirtualMachineScaleSetPublicIPAddresses",
            "network.loadBalancers.list",
        ),
        ("dicom.store", "*"): (
            "healthcareapis.workspaces.list",
            GRAPH,
            "healthcareapis.dicomServices.listByWorkspace",
        ),
    },
)


def document(needed: list[Needed]) -> dict[str, Any]:
    """A custom role, as `az role definition create --role-definition` takes it; replace the
    placeholder of AssignableScopes with the subscriptions (or management groups) to scan."""
    return {
        "Name": "cloudscan scanner",
        "IsCustom": True,
        "Description": "Read-only: what the enabled cloudscan policies need (cloudscan permissions azure)",
        "Actions": sorted({n.permission for n in needed if not n.data}),
        "NotActions": [],
        "DataActions": sorted({n.permission for n in needed if n.data}),
        "NotDataActions": [],
        "AssignableScopes": ["/subscriptions/<subscription-id>"],
    }
