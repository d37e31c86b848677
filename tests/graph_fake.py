"""Azure Resource Graph's query route for the ArmFake (POST /providers/Microsoft.ResourceGraph/resources),
answering from the same stored resources as its Resource Manager routes, so a scan reads one state
either way.

It understands the queries cloudscan sends and no others (anything else is a 400, as a query
Resource Graph cannot parse is):

    resources | where type in~ ('a', 'b') | project c1, c2 | order by id asc
    resourcecontainers | where type =~ 'microsoft.resources/subscriptions' | project subscriptionId

The `resources` table holds the stored resources of the types Resource Graph carries (its
reference lists them; blob services, containers, diagnostic settings and scale sets' NICs are not
among them), each as a row: `id`, `name`, `type` in lower case, `location`, `kind`, `sku`, `tags`,
`properties`, `subscriptionId`, `resourceGroup`. `resourcecontainers` holds the subscriptions.
Rows are scoped to the request's `subscriptions`, less those the caller may not read (a 401/403
`fail` rule on the subscription itself): Resource Graph leaves those out without an error. Pages
follow `options.$top` (at most 1000, default 100) and the fake's own page limit; `$skipToken` is
opaque, and valid only with the same query and subscriptions.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

CARRIED = {
    "microsoft.storage/storageaccounts",
    "microsoft.network/networksecuritygroups",
    "microsoft.network/networkinterfaces",
    "microsoft.network/publicipaddresses",
    "microsoft.network/virtualnetworks",
    "microsoft.network/loadbalancers",
    "microsoft.network/applicationsecuritygroups",
    "microsoft.healthcareapis/workspaces",
    "microsoft.healthcareapis/workspaces/dicomservices",
    "microsoft.compute/virtualmachinescalesets",
}
SUBSCRIPTION = "microsoft.resources/subscriptions"
_IN = re.compile(r"where\s+type\s+in~\s*\((.*)\)", re.IGNORECASE)
_EQ = re.compile(r"where\s+type\s+=~\s*'([^']*)'", re.IGNORECASE)
_PROJECT = re.compile(r"project\s+(.+)", re.IGNORECASE)
_ORDER = re.compile(r"order\s+by\s+(\w+)\s+(asc|desc)", re.IGNORECASE)


class BadQuery(Exception):
    pass


def table_rows(snapshot: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The two tables, from the ArmFake's stored resources."""
    resources, containers = [], []
    for resource in snapshot.values():
        rid = str(resource.get("id", ""))
        segs = rid.strip("/").split("/")
        if len(segs) == 2 and segs[0].lower() == "subscriptions":
            containers.append({"id": rid, "name": segs[1], "type": SUBSCRIPTION, "subscriptionId": segs[1]})
            continue
        kind = str(resource.get("type", "")).lower()
        if kind not in CARRIED or len(segs) < 4:
            continue
        resources.append(
            {
                "id": rid,
                "name": resource.get("name"),
                "type": kind,
                "location": resource.get("location"),
                "kind": resource.get("kind"),
                "sku": resource.get("sku"),
                "tags": resource.get("tags") or {},
                "properties": resource.get("properties") or {},
                "subscriptionId": segs[1],
                "resourceGroup": segs[3].lower(),
            }
        )
    return {"resources": resources, "resourcecontainers": containers}


def run_query(query: str, rows: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    stages = [s.strip() for s in query.split("|")]
    table = stages[0].lower()
    if table not in rows:
        raise BadQuery(f"unknown table {stages[0]!r}")
    out = list(rows[table])
    for stage in stages[1:]:
        if match := _IN.fullmatch(stage):
            wanted = {t.strip().strip("'").lower() for t in match[1].split(",")}
            out = [r for r in out if r["type"] in wanted]
        elif match := _EQ.fullmatch(stage):
            out = [r for r in out if r["type"] == match[1].lower()]
        elif match := _PROJECT.fullmatch(stage):
            columns = [c.strip() for c in match[1].split(",")]
            out = [{c: r.get(c) for c in columns} for r in out]
        elif match := _ORDER.fullmatch(stage):
            out.sort(key=lambda r: str(r.get(match[1]) or "").lower(), reverse=match[2].lower() == "desc")
        else:
            raise BadQuery(f"ArmFake's Resource Graph does not understand {stage!r}")
    return out


def answer(
    body: bytes,
    snapshot: dict[str, dict[str, Any]],
    hidden: set[str],
    page_limit: int | None,
    cut_short: bool = False,
) -> tuple[int, dict[str, Any]]:
    """(status, JSON body) of one query; `cut_short`: a page that leaves rows out says so
    with no $skipToken, as Resource Graph does when it cannot page a query."""
    try:
        request = json.loads(body or b"{}")
        query, subscriptions = request["query"], request["subscriptions"]
        options = request.get("options") or {}
        scope = {str(s).lower() for s in subscriptions} - hidden
        tables = {
            name: [r for r in rows if r["subscriptionId"].lower() in scope]
            for name, rows in table_rows(snapshot).items()
        }
        rows = run_query(query, tables)
    except (ValueError, KeyError, TypeError, AttributeError, BadQuery) as exc:
        return 400, {"error": {"code": "BadRequest", "message": f"ArmFake: {exc}"}}
    context = json.dumps([query, sorted(subscriptions)])
    start = 0
    if token := options.get("$skipToken"):
        try:
            issued, start = json.loads(base64.b64decode(token))
        except ValueError:
            issued = None
        if issued != context:
            return 400, {"error": {"code": "InvalidSkipToken", "message": "ArmFake: not this query's token"}}
    else:
        start = int(options.get("$skip") or 0)
    size = min(int(options.get("$top") or 100), 1000, page_limit or 1000)
    page = rows[start : start + size]
    out: dict[str, Any] = {
        "totalRecords": len(rows),
        "count": len(page),
        "resultTruncated": "false",
        "data": page,
        "facets": [],
    }
    if start + size < len(rows) and cut_short:
        out["resultTruncated"] = "true"
    elif start + size < len(rows):
        out["$skipToken"] = base64.b64encode(json.dumps([context, start + size]).encode()).decode()
    return 200, out
