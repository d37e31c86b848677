"""A local stand-in for Azure Resource Manager, so the real `azure-mgmt-*` clients run over real HTTP.

The live Azure adapter is tested through Microsoft's own URL building, nextLink paging, model
deserialisation and error parsing rather than through mocks of them. The server is stdlib only.
Resources are ARM JSON documents keyed by their resource id, matched case-insensitively as ARM does:

    with ArmFake() as fake:
        acct = resource_id(SUB, "rg", "Microsoft.Storage", "storageAccounts", "pacs")
        fake.put(acct, {"location": "westeurope", "properties": {"allowBlobPublicAccess": True}})
        client = StorageManagementClient(FakeCredential(), SUB, **fake.client_kwargs())

A GET of an id answers the resource. A GET of a collection (an odd number of segments once each
`providers/<Namespace>` pair is left out) lists the stored resources directly beneath it, one page
at a time; `/subscriptions/S/providers/NS/type` also lists that type from every resource group of S.
A collection answers 404 unless its owner (the subscription, resource group or parent resource) is
stored or has something stored beneath it. Every request needs `api-version` and a bearer token.
Every method but GET (and that query's POST, a read) is refused with 405 and recorded in
`violations`: a scanner must never write, nor call POST actions such as `listKeys` or
`listAccountSas`, which hand out secrets. `POST /providers/Microsoft.ResourceGraph/resources`
answers a Resource Graph query from the same resources (graph_fake.py).

Over plain http azure-core's bearer policy refuses to send the token ("Bearer token authentication is
not permitted for non-TLS protected (non-https) URLs") unless the request context has
`enforce_https=False`. `client_kwargs()` adds a per-call policy that sets it for loopback hosts only,
so the real ARMChallengeAuthenticationPolicy still runs; it and `FakeCredential` import azure-core
lazily, when called, so importing this module needs nothing beyond the standard library.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

import graph_fake
from loopback_server import Answer, LoopbackServer

Query = dict[str, Any]
Request = tuple[str, str, Query]

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
GRAPH = "/providers/microsoft.resourcegraph/resources"
_SUBSCRIPTION_WIDE = re.compile(r"/subscriptions/([^/]+)/providers/([^/]+)/([^/]+)")


def resource_id(
    subscription: str, resource_group: str | None = None, provider: str | None = None, *types_and_names: str
) -> str:
    """An ARM id: `resource_id(S, "rg", "Microsoft.Storage", "storageAccounts", "a", "blobServices", "x")`."""
    if len(types_and_names) % 2:
        raise ValueError(f"types and names come in pairs: {types_and_names}")
    path = f"/subscriptions/{subscription}"
    if resource_group is not None:
        path += f"/resourceGroups/{resource_group}"
    if provider is not None:
        path += f"/providers/{provider}"
    return "/".join([path, *types_and_names])


def canonical(path: str) -> str:
    """One spelling per path (percent-encoding and trailing slash normalised); case is kept for display."""
    path = "/".join(quote(unquote(seg), safe="!$&'()*+,;=:@-._~") for seg in path.split("/"))
    return path.rstrip("/") or "/"


def _key(path: str) -> str:
    """ARM ids compare case-insensitively: `resourceGroups/RG` and `resourcegroups/rg` are one resource."""
    return canonical(path).lower()


def _plain_segments(path: str) -> list[str]:
    """The id's segments without its `providers/<Namespace>` pairs: type/name pairs alternate after that."""
    segs, out, i = path.strip("/").split("/"), [], 0
    while i < len(segs):
        if segs[i].lower() == "providers" and i + 1 < len(segs):
            i += 2
            continue
        out.append(segs[i])
        i += 1
    return out if segs != [""] else []


def is_collection(path: str) -> bool:
    """`/subscriptions`, `.../storageAccounts`, `.../containers` are collections; ids have even length."""
    return len(_plain_segments(path)) % 2 == 1


def _owner(collection: str) -> str:
    """The resource a collection belongs to: `.../rg/providers/NS/type` belongs to `.../rg`."""
    owner = collection.rpartition("/")[0]
    head, _, _ = owner.rpartition("/")
    if head.rpartition("/")[2] == "providers":
        owner = head.rpartition("/")[0]
    return owner


def _defaults(rid: str) -> dict[str, Any]:
    """The fields ARM always returns (`id`, `name`, `type`), derived from the id when not given."""
    segs = canonical(rid).strip("/").split("/")
    lower = [s.lower() for s in segs]
    out: dict[str, Any] = {"id": canonical(rid)}
    if "providers" in lower:
        at = len(lower) - 1 - lower[::-1].index("providers")
        namespace, rest = segs[at + 1], segs[at + 2 :]
        out["name"] = segs[-1]
        out["type"] = "/".join([namespace, *rest[0::2]])
    elif len(segs) == 4 and lower[2] == "resourcegroups":
        out.update(name=segs[3], type="Microsoft.Resources/resourceGroups")
    elif len(segs) == 2 and lower[0] == "subscriptions":
        out.update(subscriptionId=segs[1], displayName=segs[1], state="Enabled")
    return out


def error_body(code: str, message: str) -> dict[str, Any]:
    """ARM's error shape, which azure-core parses into `HttpResponseError.error.code`."""
    return {"error": {"code": code, "message": message}}


def _json(status: int, obj: dict[str, Any]) -> Answer:
    return status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(obj).encode()


class ArmFake(LoopbackServer):
    """A threaded ARM server on a free loopback port; use it as a context manager."""

    def __init__(self, *, require_auth: bool = True) -> None:
        super().__init__()
        self.require_auth = require_auth
        # Lower-cased canonical id -> the resource as ARM returns it; dicts keep insertion order.
        self.resources: dict[str, dict[str, Any]] = {}
        self.failures: list[tuple[str, str | None, int, dict[str, Any], bool]] = []
        self.requests: list[Request] = []
        self.authorizations: list[str | None] = []
        self.violations: list[Request] = []
        # ARM pages at its own discretion: a small limit makes every list follow nextLink.
        self.page_limit: int | None = None
        self.throttled = 0  # requests still to answer 429 TooManyRequests (see throttle)
        self.graph_page_limit: int | None = None  # Resource Graph rows a page, below the query's $top
        self.graph_queries: list[dict[str, Any]] = []  # the bodies of Resource Graph queries
        self.graph_cut_short = False  # a page short of the rest has no $skipToken, resultTruncated
        self._lock = threading.Lock()

    def throttle(self, times: int) -> None:
        """The next `times` requests, whatever they ask, get 429 TooManyRequests, as ARM answers a
        subscription over its read limit (without Retry-After: azure-core backs off on its own)."""
        with self._lock:
            self.throttled = times

    def handle(self, method: str, path: str, query: Query, body: bytes, headers: Any) -> Answer:
        return self.answer(method, canonical(path), query, headers["Authorization"], body)

    def put(self, rid: str, resource: dict[str, Any] | None = None) -> dict[str, Any]:
        """Store a resource under its id, filling `id`, `name`, `type` if absent; returns what GET answers."""
        stored = {**_defaults(rid), **(resource or {})}
        with self._lock:
            self.resources[_key(rid)] = stored
        return stored

    def put_many(self, resources: Iterable[dict[str, Any]]) -> None:
        """Store documents that carry their own `id`, e.g. ones copied from `az ... show` output."""
        for resource in resources:
            self.put(resource["id"], resource)

    def fail(
        self,
        path_prefix: str,
        status: int,
        code: str,
        message: str,
        *,
        method: str | None = None,
        exact: bool = False,
    ) -> None:
        """Requests under the prefix (or, with `exact`, of that path only; of that method, if given)
        get this ARM error; the latest rule wins."""
        self.failures.append((_key(path_prefix), method, status, error_body(code, message), exact))

    def client_kwargs(self, **extra: Any) -> dict[str, Any]:
        """Keyword arguments that point a real mgmt client here: base_url, http bearer, no retries."""
        return {
            "base_url": self.url,
            "per_call_policies": [loopback_http_bearer()],
            "retry_total": 0,
            **extra,
        }

    def answer(
        self, method: str, path: str, query: Query, authorization: str | None, body: bytes = b""
    ) -> Answer:
        """Route one request; the order matters: guard, injected failures, auth, api-version, resources."""
        graph = method == "POST" and _key(path) == GRAPH
        with self._lock:  # one lock, so the two records stay index-aligned across handler threads
            self.requests.append((method, path, query))
            self.authorizations.append(authorization)
            if method != "GET" and not graph:
                self.violations.append((method, path, query))
            if graph:
                self.graph_queries.append(json.loads(body or b"{}"))
            throttled, self.throttled = self.throttled > 0, max(self.throttled - 1, 0)
        if throttled:
            return _json(429, error_body("TooManyRequests", "ArmFake: too many requests"))
        if method != "GET" and not graph:
            message = f"ArmFake is read-only: refused {method} {path}"
            return _json(405, error_body("MethodNotAllowed", message))
        key = _key(path)
        for prefix, only, status, error, exact in reversed(self.failures):
            under = key == prefix or (not exact and key.startswith(prefix.rstrip("/") + "/"))
            if under and only in (None, method):
                return _json(status, error)
        if self.require_auth and not (authorization or "").startswith("Bearer "):
            message = "ArmFake: the request has no bearer token (see the module docstring for plain http)."
            return _json(401, error_body("AuthenticationFailed", message))
        if "api-version" not in query:
            message = "The api-version query parameter (?api-version=) is required for all requests."
            return _json(400, error_body("MissingApiVersionParameter", message))
        with self._lock:
            snapshot = dict(self.resources)
        if graph:
            limit, cut_short = self.graph_page_limit, self.graph_cut_short
            return _json(*graph_fake.answer(body, snapshot, self._unreadable(), limit, cut_short))
        if key in snapshot:
            return _json(200, snapshot[key])
        if is_collection(key) and self._exists(_owner(key), snapshot):
            return self._list(path, key, query, snapshot)
        return _json(404, error_body("ResourceNotFound", f"ArmFake has no resource at {method} {path}"))

    def _unreadable(self) -> set[str]:
        """Subscriptions a 401/403 rule refuses as a whole: Resource Graph leaves them out."""
        return {
            prefix.rstrip("/").split("/")[2]
            for prefix, _, status, _, _ in self.failures
            if status in (401, 403) and re.fullmatch(r"/subscriptions/[^/]+/?", prefix)
        }

    @staticmethod
    def _exists(owner: str, snapshot: dict[str, dict[str, Any]]) -> bool:
        """Stored, or implied by something beneath it (a subscription that has accounts exists)."""
        return owner == "" or owner in snapshot or any(k.startswith(owner + "/") for k in snapshot)

    def _list(self, path: str, key: str, query: Query, snapshot: dict[str, dict[str, Any]]) -> Answer:
        """Members in insertion order, `{"value": [...], "nextLink": <absolute URL>}` one page at a time."""
        wide = _SUBSCRIPTION_WIDE.fullmatch(key)
        member = re.compile(
            rf"/subscriptions/{re.escape(wide[1])}/resourcegroups/[^/]+/providers/"
            rf"{re.escape(wide[2])}/{re.escape(wide[3])}/[^/]+"
            if wide
            else rf"{re.escape(key)}/[^/]+"
        )
        items = [v for k, v in snapshot.items() if k.rpartition("/")[0] == key or member.fullmatch(k)]
        try:
            start = int(query.get("$skiptoken") or 0)
        except ValueError:
            return _json(400, error_body("InvalidSkipToken", f"bad $skiptoken in {query}"))
        size = self.page_limit or max(len(items), 1)
        out: dict[str, Any] = {"value": items[start : start + size]}
        if start + size < len(items):
            params = {k: v for k, v in query.items() if k != "$skiptoken"}
            params["$skiptoken"] = str(start + size)
            out["nextLink"] = f"{self.url}{path}?{urlencode(params, doseq=True, safe='$')}"
        return _json(200, out)


class FakeCredential:
    """A TokenCredential (both protocols azure-core knows) whose token never expires during a test."""

    def __init__(self, token: str = "arm-fake-token") -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 24 * 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        self.scopes.append(scopes)
        return AccessTokenInfo(self.token, int(time.time()) + 24 * 3600)


def loopback_http_bearer() -> Any:
    """A per-call policy letting the bearer policy send its token over http, to loopback hosts only.

    azure-core's `_enforce_https` reads `request.context["enforce_https"]`; a per-call policy runs
    before the authentication policy, so setting it there keeps the real ARM auth policy in place.
    """
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class LoopbackHttpBearer(SansIOHTTPPolicy):  # type: ignore[type-arg]
        def on_request(self, request: Any) -> None:
            if urlsplit(request.http_request.url).hostname in LOOPBACK_HOSTS:
                request.context["enforce_https"] = False

    return LoopbackHttpBearer()
