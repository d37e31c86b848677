"""A local stand-in for Google's REST JSON APIs (Healthcare, Compute, Resource Manager, Cloud Storage).

The real client libraries talk to it over real HTTP on a loopback port, so the live GCP adapter is
tested through Google's own URL building, pagination and error parsing rather than mocks of them.
Stdlib only. Resources are JSON documents keyed by their URL path:

    with GoogleFake() as fake:
        fake.put("/v1/projects/p/locations/eu", {"name": "projects/p/locations/eu"})
        fake.put("/v1/projects/p/locations/eu/datasets/d", {"name": "projects/p/locations/eu/datasets/d"})
        fake.set_iam("/v1/projects/p/locations/eu/datasets/d", {"bindings": [...]})
        build("healthcare", "v1", ..., client_options={"api_endpoint": fake.url + "/"})

A collection (`.../datasets`) lists the stored children of its path; it answers 404 unless its owning
resource (`.../locations/eu`) is stored or has something stored under it, so put the owner to get an
empty list. Discovery clients drop the service path when given `api_endpoint`: for Compute pass
`fake.url + "/compute/v1/"` so the paths are the real `/compute/v1/projects/...`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from typing import Any
from urllib.parse import quote, unquote

from loopback_server import Answer, LoopbackServer

# Collection name (last path segment) -> the key Google lists its members under.
LIST_KEYS = {
    "datasets": "datasets",
    "dicomStores": "dicomStores",
    "locations": "locations",
    "firewalls": "items",
    "b": "items",
    "o": "items",
    "acl": "items",
    "defaultObjectAcl": "items",
    "projects": "projects",
    "folders": "folders",
    "assets": "assets",  # Cloud Asset Inventory: what gcp_world.World.record_assets stored
}
STATUS_NAMES = {
    400: "FAILED_PRECONDITION",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "ALREADY_EXISTS",
    416: "OUT_OF_RANGE",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
READ_VERBS = (":getIamPolicy", ":testIamPermissions", ":search")
_MEDIA = re.compile(r"(?:/download)?/storage/v1/b/([^/]+)/o/([^/]+)")
_GCS_IAM = re.compile(r"(/storage/v1/b/[^/]+)/iam(/testPermissions)?")
_ACL = re.compile(r"(/storage/v1/b/[^/]+)/(?:acl|defaultObjectAcl|o/[^/]+/acl)(?:/.*)?")
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")

Query = dict[str, Any]
Request = tuple[str, str, Query]


def canonical(path: str) -> str:
    """One spelling per path, so `a%2fb` and `a%2Fb` find the same key; `%2F` stays inside its segment."""
    return "/".join(quote(unquote(seg), safe="!$&'()*+,;=:@-._~") for seg in path.split("/"))


def error_body(status: int, reason: str, message: str, **extra: Any) -> dict[str, Any]:
    """Google's JSON error shape, which both googleapiclient and google-api-core parse."""
    errors = [{"reason": reason, "domain": "global", "message": message}]
    error = {"code": status, "message": message, "status": STATUS_NAMES.get(status, "UNKNOWN")}
    return {"error": {**error, "errors": errors, **extra}}


def _json(status: int, obj: dict[str, Any]) -> Answer:
    return status, {"Content-Type": "application/json; charset=UTF-8"}, json.dumps(obj).encode()


class GoogleFake(LoopbackServer):
    """A threaded HTTP server on a free loopback port; use it as a context manager."""

    def __init__(self, *, read_only: bool = True) -> None:
        super().__init__()
        self.read_only = read_only
        self.resources: dict[str, dict[str, Any]] = {}
        self.policies: dict[str, dict[str, Any]] = {}
        self.media: dict[tuple[str, str], bytes] = {}
        self.failures: list[tuple[str, str | None, int, dict[str, Any]]] = []
        self.requests: list[Request] = []
        self.violations: list[Request] = []
        # Google may answer fewer items than asked for: a small limit makes every list page.
        self.page_limit: int | None = None
        self.throttled = 0  # requests still to answer 429 rateLimitExceeded (see throttle)
        self._throttle_lock = threading.Lock()

    def throttle(self, times: int) -> None:
        """The next `times` requests, whatever they ask, get 429 rateLimitExceeded."""
        with self._throttle_lock:
            self.throttled = times

    def handle(self, method: str, path: str, query: Query, body: bytes, headers: Any) -> Answer:
        return self.answer(method, canonical(path), query, body, headers["Range"])

    @staticmethod
    def object_path(bucket: str, name: str) -> str:
        """The metadata path of a GCS object: its name is one URL-encoded segment, as the JSON API wants."""
        return f"/storage/v1/b/{bucket}/o/{quote(name, safe='')}"

    def put(self, path: str, resource: dict[str, Any]) -> None:
        """Store a resource; GET answers it and its parent collection lists it, in insertion order."""
        self.resources[canonical(path)] = resource

    def set_iam(self, path: str, policy: dict[str, Any]) -> None:
        """The policy `<path>:getIamPolicy` (or GCS `<bucket>/iam`) answers; unset means no bindings."""
        self.policies[canonical(path)] = policy

    def put_media(self, bucket: str, name: str, data: bytes) -> None:
        """Object bytes, plus minimal object metadata when none was put, so listing `o` finds it."""
        self.media[(bucket, name)] = data
        link = f"{self.url}/download{self.object_path(bucket, name)}?alt=media"
        meta = {"kind": "storage#object", "bucket": bucket, "name": name, "size": str(len(data))}
        self.resources.setdefault(canonical(self.object_path(bucket, name)), {**meta, "mediaLink": link})

    def fail(
        self, path_prefix: str, status: int, reason: str, message: str, *, method: str | None = None
    ) -> None:
        """Requests under the prefix (and of that method, if given) get this error; the latest rule wins."""
        self.failures.append((canonical(path_prefix), method, status, error_body(status, reason, message)))

    def disable_api(self, path_prefix: str, service: str = "healthcare.googleapis.com") -> None:
        """What Google answers when the project has not enabled the API: 403 with SERVICE_DISABLED."""
        message = (
            f"{service} has not been used in this project before or it is disabled. Enable it, then retry."
        )
        info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED"}
        details = [{**info, "domain": "googleapis.com", "metadata": {"service": service}}]
        body = error_body(403, "accessNotConfigured", message, details=details)
        body["error"]["errors"][0]["domain"] = "usageLimits"
        self.failures.append((canonical(path_prefix), None, 403, body))

    def answer(self, method: str, path: str, query: Query, body: bytes, range_header: str | None) -> Answer:
        """Route one request; the order matters: guard, injected failures, media, IAM, resources."""
        self.requests.append((method, path, query))
        with self._throttle_lock:
            throttled, self.throttled = self.throttled > 0, max(self.throttled - 1, 0)
        if throttled:
            return _json(429, error_body(429, "rateLimitExceeded", "GoogleFake: too many requests"))
        last = path.rsplit("/", 1)[-1]
        if self.read_only and method != "GET" and not (method == "POST" and last.endswith(READ_VERBS)):
            self.violations.append((method, path, query))
            return _json(
                405, error_body(405, "readOnly", f"GoogleFake is read-only: refused {method} {path}")
            )
        for prefix, only, status, error in reversed(self.failures):
            if path.startswith(prefix) and only in (None, method):
                return _json(status, error)
        not_found = _json(404, error_body(404, "notFound", f"GoogleFake has nothing at {method} {path}"))
        if (m := _ACL.fullmatch(path)) and self._uniform(m[1]):
            message = "Cannot use ACL API to get object policy when uniform bucket-level access is enabled."
            return _json(400, error_body(400, "invalid", message))
        if method == "GET" and query.get("alt") == "media" and (m := _MEDIA.fullmatch(path)):
            data = self.media.get((unquote(m[1]), unquote(m[2])))
            return not_found if data is None else self._media(data, range_header)
        if method == "GET" and (m := _GCS_IAM.fullmatch(path)):
            if m[2]:
                asked = query.get("permissions", [])
                asked = [asked] if isinstance(asked, str) else asked
                return _json(200, {"kind": "storage#testIamPermissionsResponse", "permissions": asked})
            default = {"bindings": [], "etag": "CAE="}
            policy = self.policies.get(m[1], default if self._exists(m[1]) else None)
            return not_found if policy is None else _json(200, {"kind": "storage#policy", **policy})
        if method == "GET" and path in self.resources:
            return _json(200, self.resources[path])
        target, _, verb = path.rpartition(":") if ":" in last else ("", "", "")
        if verb == "getIamPolicy" and self._exists(target):
            return _json(200, self.policies.get(target, {"etag": "ACAB"}))
        if verb == "testIamPermissions" and self._exists(target):
            return _json(200, {"permissions": json.loads(body or b"{}").get("permissions", [])})
        if method == "GET" and last in LIST_KEYS and self._owner_exists(path):
            return self._list(path, LIST_KEYS[last], query)
        return not_found

    def _uniform(self, bucket_path: str) -> bool:
        """Cloud Storage refuses ACL reads on a bucket with uniform bucket-level access."""
        config = self.resources.get(bucket_path, {}).get("iamConfiguration", {})
        return bool(config.get("uniformBucketLevelAccess", {}).get("enabled"))

    def _exists(self, path: str) -> bool:
        """Stored, or implied by something stored beneath it (a project that has datasets exists)."""
        return (
            path in self.resources
            or path in self.policies
            or any(k.startswith(path + "/") for k in tuple(self.resources))
        )

    def _owner_exists(self, collection: str) -> bool:
        """The nearest ancestor named like `<collection>/<id>` must exist; top-level collections always do."""
        segs = collection.split("/")[:-1]
        owner = next((i for i in range(len(segs), 1, -1) if segs[i - 2] in LIST_KEYS), None)
        return owner is None or self._exists("/".join(segs[:owner]))

    def _list(self, collection: str, key: str, query: Query) -> Answer:
        """Direct children in insertion order, filtered like Google does, one page at a time."""
        items = [v for k, v in tuple(self.resources.items()) if k.rpartition("/")[0] == collection]
        if "parent" in query:  # Resource Manager v3: GET /v3/projects?parent=folders/1
            items = [i for i in items if i.get("parent") == query["parent"]]
        if "prefix" in query:  # GCS objects
            items = [i for i in items if str(i.get("name", "")).startswith(query["prefix"])]
        try:
            size = int(query.get("pageSize") or query.get("maxResults") or 1000)
            size = min(size, self.page_limit or size)
            start = int(str(query.get("pageToken") or "t0").removeprefix("t"))
        except ValueError:
            return _json(400, error_body(400, "invalid", f"bad page size or token in {query}"))
        out: dict[str, Any] = {key: items[start : start + size]} if items[start : start + size] else {}
        if start + size < len(items):
            out["nextPageToken"] = f"t{start + size}"
        return _json(200, out)

    @staticmethod
    def _media(data: bytes, range_header: str | None) -> Answer:
        """Object bytes; a `Range` gets 206 and Content-Range, as ranged reads of DICOM headers need."""
        md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
        headers = {"Content-Type": "application/octet-stream", "x-goog-hash": f"md5={md5}"}
        m = _RANGE.fullmatch((range_header or "").strip())
        if not m or not (m[1] or m[2]):
            return 200, headers, data
        first, last = (
            (int(m[1]), int(m[2] or len(data) - 1)) if m[1] else (len(data) - int(m[2]), len(data) - 1)
        )
        first, last = max(first, 0), min(last, len(data) - 1)
        if first > last:
            return _json(416, error_body(416, "requestedRangeNotSatisfiable", f"range {range_header}"))
        return 206, {**headers, "Content-Range": f"bytes {first}-{last}/{len(data)}"}, data[first : last + 1]
