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


def projects_below(clients: GcpClients, parent: str, errors: list[dict[str, Any]]) -> list[str]:
    """The active projects below `parent` (`organizations/ID` or `folders/ID`), through every
    folder beneath it; a listing that fails is an error naming the folder, and the walk goes on."""
    api = clients.api("cloudresourcemanager")
    projects: list[str] = []
    parents, seen = [parent], set[str]()
    while parents:
        if len(seen) >= MAX_CONTAINERS:
            message = f"more than {MAX_CONTAINERS} folders below {parent}: the rest is not read"
            errors.append(scan_error("cloudresourcemanager.folders.list", "LimitExceeded", message))
            break
        below = parents.pop(0)
        seen.add(below)
        try:
            found = list(pages(clients, api.projects(), "projects", parent=below))
            folders = list(pages(clients, api.folders(), "folders", parent=below))
        except Exception as exc:
            stop_if_refused(exc)
            code, message = error_of(exc)
            errors.append(scan_error("cloudresourcemanager.projects.list", code, message, below))
            continue
        projects += [p["projectId"] for p in found if _active(p) and p.get("projectId")]
        parents += [f["name"] for f in folders if _active(f) and f.get("name") not in seen]
    if not projects and not errors:
        errors.append(
            scan_error(
                "cloudresourcemanager.projects.list",
                "NothingToScan",
                f"no active project below {parent} that these credentials can list",
            )
        )
    return projects


def _active(resource: dict[str, Any]) -> bool:
    return resource.get("state", "ACTIVE") == "ACTIVE"
