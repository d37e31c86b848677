"""Cloud Asset Inventory as the source of buckets' IAM policies (--source inventory|auto): one
paginated `assets.list` (content type IAM_POLICY) gives every bucket policy of a project, where
the API takes a getIamPolicy a bucket. The bucket listing already carries every other setting;
ACLs (uniform access off) and the content sample are still read live.

An asset is {"name": "//storage.googleapis.com/BUCKET", "assetType":
"storage.googleapis.com/Bucket", "iamPolicy": {"bindings": [...], "etag"}, "updateTime"}."""

from __future__ import annotations

from typing import Any

from cloudscan.providers.gcp.clients import GcpClients, pages

BUCKET = "storage.googleapis.com/Bucket"
PREFIX = "//storage.googleapis.com/"


def recorded_bucket_policies(clients: GcpClients, project: str) -> dict[str, dict[str, Any]]:
    """Bucket name -> {"policy": {"bindings": [...]}, "recorded_at": time}; raises when the
    service cannot answer (not enabled, denied): the caller reads through the API instead."""
    api = clients.api("cloudasset")
    out: dict[str, dict[str, Any]] = {}
    assets = pages(
        clients,
        api.assets(),
        "assets",
        parent=f"projects/{project}",
        assetTypes=BUCKET,
        contentType="IAM_POLICY",
        pageSize=1000,
    )
    for asset in assets:
        name = str(asset.get("name") or "")
        policy = asset.get("iamPolicy")
        if asset.get("assetType") == BUCKET and name.startswith(PREFIX) and isinstance(policy, dict):
            out[name.removeprefix(PREFIX)] = {"policy": policy, "recorded_at": asset.get("updateTime")}
    return out
