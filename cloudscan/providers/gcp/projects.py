"""Projects: which ones an organization holds, and each one's IAM policy, which every bucket
and DICOM store of the project inherits (Resource Manager v3)."""

from __future__ import annotations

from typing import Any

from cloudscan.model import scan_error
from cloudscan.providers.gcp.clients import GcpClients, error_of, pages, stop_if_refused

MAX_CONTAINERS = 10_000  # folders and the organization: a bound against a loop, not a real limit


def read_policy(clients: GcpClients, project: str) -> dict[str, Any]:
    """{'policy': the project's IAM policy} or {'error': (code, message)}; read once per scan."""
    api = clients.api("cloudresourcemanager").projects()
    body = {"options": {"requestedPolicyVersion": 3}}
    try:
        return {"policy": clients.execute(api.getIamPolicy(resource=f"projects/{project}", body=body))}
    except Exception as exc:
        stop_if_refused(exc)
        return {"error": error_of(exc)}


def organization_projects(clients: GcpClients, organization: str, errors: list[dict[str, Any]]) -> list[str]:
    """The active projects below an organization, through every folder; a listing that fails is
    an error naming the folder, and the walk goes on."""
    api = clients.api("cloudresourcemanager")
    projects: list[str] = []
    parents, seen = [f"organizations/{organization}"], set[str]()
    while parents:
        if len(seen) >= MAX_CONTAINERS:
            message = (
                f"more than {MAX_CONTAINERS} folders below organizations/{organization}: the rest is not read"
            )
            errors.append(scan_error("cloudresourcemanager.folders.list", "LimitExceeded", message))
            break
        parent = parents.pop(0)
        seen.add(parent)
        try:
            found = list(pages(clients, api.projects(), "projects", parent=parent))
            folders = list(pages(clients, api.folders(), "folders", parent=parent))
        except Exception as exc:
            stop_if_refused(exc)
            code, message = error_of(exc)
            errors.append(scan_error("cloudresourcemanager.projects.list", code, message, parent))
            continue
        projects += [p["projectId"] for p in found if _active(p) and p.get("projectId")]
        parents += [f["name"] for f in folders if _active(f) and f.get("name") not in seen]
    if not projects and not errors:
        errors.append(
            scan_error(
                "cloudresourcemanager.projects.list",
                "NothingToScan",
                f"no active project below organizations/{organization} that these credentials can list",
            )
        )
    return projects


def _active(resource: dict[str, Any]) -> bool:
    return resource.get("state", "ACTIVE") == "ACTIVE"
