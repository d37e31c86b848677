"""Azure clients for a scan: the management-plane SDKs (storage, network, Health Data Services,
subscriptions) per subscription, built from an injected credential; and the data plane of one
storage account (azure-storage-blob) for the content sample. Only reads are ever sent."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from cloudscan.model import CredentialsRefused
from cloudscan.providers.pacing import Pacing

MANAGEMENT_GROUPS_API = "2020-05-01"
# How Get Descendants types a subscription (and how the group's own subscription list does).
SUBSCRIPTION_TYPES = ("/subscriptions", "microsoft.management/managementgroups/subscriptions")
MAX_PAGES = 10_000  # a bound against a nextLink that loops, not a real limit
REGISTER = re.compile(r"/providers/([^/?]+)/register$", re.IGNORECASE)
# Subscriptions in these states serve no data; Warned and PastDue ones still do.
CLOSED_STATES = ("Disabled", "Deleted")
# The one POST cloudscan sends: a Resource Graph query, which reads and changes nothing.
RESOURCE_GRAPH = "/providers/microsoft.resourcegraph/resources"


class WriteRefused(Exception):
    """cloudscan tried to send something other than a read: a bug, stopped before it left."""


class ProviderNotRegistered(Exception):
    """The subscription has not registered the resource provider: none of its resources exist.
    (The SDK would register it, a write; the read-only guard stops that.)"""


def read_only(request: Any) -> None:
    """raw_request_hook of every client: only GET and HEAD leave this process, and the POST of
    a Resource Graph query (--source inventory), a read that the API defines as a POST."""
    method, url = request.http_request.method, request.http_request.url
    if method in ("GET", "HEAD"):
        return
    path = urlsplit(url).path
    if method == "POST" and path.rstrip("/").lower() == RESOURCE_GRAPH:
        return
    registering = REGISTER.search(path)
    if method == "POST" and registering:
        raise ProviderNotRegistered(registering.group(1))
    raise WriteRefused(f"cloudscan sends reads only: refused {method} {path}")


@dataclass(frozen=True)
class Endpoints:
    """Where Azure answers: the public cloud by default; a sovereign cloud's Resource Manager or
    a local server for `arm`, and for the data plane the blob endpoint of one account or a
    connection string (Azurite)."""

    arm: str | None = None
    blob_connection_string: str | None = field(default=None, repr=False)  # holds the account key
    # Extra keyword arguments for every client (tests: enforce_https=False for a loopback server).
    client_options: dict[str, Any] = field(default_factory=dict)


class TenantCredential:
    """A credential that asks every token of one tenant (--tenant)."""

    def __init__(self, inner: Any, tenant: str) -> None:
        self.inner, self.tenant = inner, tenant

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        return self.inner.get_token(*scopes, **{**kwargs, "tenant_id": self.tenant})

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        if not hasattr(self.inner, "get_token_info"):  # azure-identity before 1.18
            from azure.core.credentials import AccessTokenInfo

            token = self.get_token(*scopes)
            return AccessTokenInfo(token.token, token.expires_on)
        return self.inner.get_token_info(*scopes, options={**(options or {}), "tenant_id": self.tenant})


def load_credential(tenant: str | None = None) -> Any:
    """DefaultAzureCredential (environment, workload or managed identity, Azure CLI...)."""
    from azure.identity import DefaultAzureCredential

    credential = DefaultAzureCredential(additionally_allowed_tenants=[tenant] if tenant else [])
    return TenantCredential(credential, tenant) if tenant else credential


class AzureClients:
    """Management clients cached per (kind, subscription); SDK clients are thread-safe. Every
    request waits for its turn under `pacing`, per host (Resource Manager is one, each storage
    account's blob endpoint another); azure-core retries 429 and 5xx, after Retry-After when
    the service sends one."""

    def __init__(
        self,
        credential: Any,
        endpoints: Endpoints | None = None,
        on_request: Callable[[], None] | None = None,
        pacing: Pacing | None = None,
    ) -> None:
        # At DEBUG azure-core logs whole requests and responses.
        for name in ("azure", "urllib3"):
            logging.getLogger(name).setLevel(max(logging.getLogger(name).getEffectiveLevel(), logging.INFO))
        # It would print "We are registering for you." before the read-only guard stops that,
        # and azure-identity prints every credential it tried: the error says what to do.
        for name in ("azure.mgmt.core.policies", "azure.identity"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        self.credential = credential
        self.endpoints = endpoints or Endpoints()
        self.on_request = on_request  # told of every request that leaves (a progress count)
        self.pacing = pacing or Pacing()
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], Any] = {}

    def _before_request(self, request: Any) -> None:
        # The request hook runs for each try, after the retry policy: retries wait their turn too.
        read_only(request)
        self.pacing.wait(urlsplit(request.http_request.url).hostname or "")
        if self.on_request is not None:
            self.on_request()

    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "retry_total": self.pacing.max_attempts - 1,
            "raw_request_hook": self._before_request,
            **self.endpoints.client_options,
        }
        if self.endpoints.arm:
            options["base_url"] = self.endpoints.arm
            # A sovereign cloud or a local server is its own token audience.
            options.setdefault("credential_scopes", [self.endpoints.arm.rstrip("/") + "/.default"])
            if urlsplit(self.endpoints.arm).hostname in LOOPBACK:
                # azure-core sends a bearer token over https only; a server on this machine
                # (an emulator, a test server) is reached over http.
                options.setdefault("per_retry_policies", [_loopback_http()])
        return options

    def _client(self, kind: str, subscription: str) -> Any:
        key = (kind, subscription)
        with self._lock:
            if key not in self._cache:
                from azure.mgmt.healthcareapis import HealthcareApisManagementClient
                from azure.mgmt.network import NetworkManagementClient
                from azure.mgmt.storage import StorageManagementClient

                kinds: dict[str, Any] = {
                    "storage": StorageManagementClient,
                    "network": NetworkManagementClient,
                    "healthcare": HealthcareApisManagementClient,
                }
                self._cache[key] = kinds[kind](self.credential, subscription, **self._options())
            return self._cache[key]

    def storage(self, subscription: str) -> Any:
        return self._client("storage", subscription)

    def network(self, subscription: str) -> Any:
        return self._client("network", subscription)

    def healthcare(self, subscription: str) -> Any:
        return self._client("healthcare", subscription)

    def arm(self) -> Any:
        """A bare Resource Manager client (the subscription client's pipeline: its retries,
        token, read-only guard and endpoint) for requests no SDK here models."""
        from azure.mgmt.resource.subscriptions import SubscriptionClient

        return SubscriptionClient(self.credential, **self._options())

    def subscriptions(self) -> list[str]:
        """Every enabled subscription the credential can see."""
        from azure.mgmt.resource.subscriptions import SubscriptionClient

        client = SubscriptionClient(self.credential, **self._options())
        found = client.subscriptions.list()
        return [
            str(s.subscription_id) for s in found if value(s.state) not in CLOSED_STATES and s.subscription_id
        ]

    def management_group_subscriptions(self, group: str) -> list[str]:
        """The subscriptions anywhere below a management group, through its child groups.

        One Resource Manager GET (Management Groups - Get Descendants, paged by nextLink) sent
        through the subscription client's own pipeline: its retries, token, read-only guard and
        endpoint, without a management-groups SDK for one call. It needs Reader (or Management
        Group Reader) on the group."""
        from azure.core.exceptions import HttpResponseError
        from azure.core.rest import HttpRequest
        from azure.mgmt.core.exceptions import ARMErrorFormat
        from azure.mgmt.resource.subscriptions import SubscriptionClient

        client = SubscriptionClient(self.credential, **self._options())
        url: str | None = (
            f"/providers/Microsoft.Management/managementGroups/{quote(group, safe='')}/descendants"
        )
        params: dict[str, str] | None = {"api-version": MANAGEMENT_GROUPS_API}
        found: list[str] = []
        for _ in range(MAX_PAGES):
            if url is None:
                break
            response = client.send_request(HttpRequest("GET", url, params=params))
            if response.status_code != 200:
                raise HttpResponseError(response=response, error_format=ARMErrorFormat)
            page = response.json()
            for item in page.get("value") or []:
                kind = str(item.get("type") or "").lower()
                if kind in SUBSCRIPTION_TYPES and item.get("name"):
                    found.append(str(item["name"]))
            url, params = page.get("nextLink") or None, None  # a nextLink carries its query
        return list(dict.fromkeys(found))

    def blob_service(self, account: str, blob_endpoint: str | None) -> Any | None:
        """The data plane of one account, or None when there is no way to reach it. Raises
        ValueError for an endpoint a token cannot be sent to (plain http)."""
        from azure.storage.blob import BlobServiceClient

        connection = self.endpoints.blob_connection_string
        options: dict[str, Any] = {
            "retry_total": self.pacing.max_attempts - 1,
            "raw_request_hook": self._before_request,
            **self.endpoints.client_options,
        }
        if connection and f"AccountName={account};" in connection + ";":
            return BlobServiceClient.from_connection_string(connection, **options)
        if blob_endpoint:
            return BlobServiceClient(blob_endpoint, credential=self.credential, **options)
        return None

    def check(self, subscription: str | None) -> None:
        """One read before the scan: Resource Manager out of reach, or a credential that yields
        no token, stops the scan (exit 2) here instead of failing every call after."""
        from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError
        from azure.mgmt.resource.subscriptions import SubscriptionClient

        client = SubscriptionClient(self.credential, **{**self._options(), "retry_total": 1})
        try:
            if subscription:
                client.subscriptions.get(subscription)
            else:
                next(iter(client.subscriptions.list()), None)
        except ClientAuthenticationError as exc:
            if exc.response is None:
                raise CredentialsRefused(no_token(exc)) from None
        except ServiceRequestError as exc:
            raise CredentialsRefused(f"cannot reach Azure Resource Manager: {str(exc)[:300]}") from None
        except Exception:
            return  # anything else (a subscription denied) is that subscription's error


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _loopback_http() -> Any:
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class LoopbackHttp(SansIOHTTPPolicy):
        def on_request(self, request: Any) -> None:
            if urlsplit(request.http_request.url).hostname in LOOPBACK:
                request.context["enforce_https"] = False

    return LoopbackHttp()


def value(enum_or_text: Any) -> Any:
    """An SDK enum's value ("Enabled"), whatever the SDK generation gives."""
    return getattr(enum_or_text, "value", enum_or_text)


def no_token(exc: Exception) -> str:
    """What to do when no credential of DefaultAzureCredential's chain gave a token."""
    text = str(exc)
    if "Failed to resolve" in text or "Name or service not known" in text:
        return "cannot reach Entra ID to get a token (login.microsoftonline.com): check the network or proxy"
    return (
        "no Azure credentials could be used: run `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID "
        "and AZURE_CLIENT_SECRET, or run where a managed or workload identity is available"
    )


def error_of(exc: Exception, *, data_plane: bool = False) -> tuple[str, str]:
    """(code, message) of a failed call: ARM's error code where it gives one. Only a credential
    that yields no token ends the scan here (Resource Manager out of reach is found by check());
    a 401 of one subscription, or an account's data plane out of reach, is theirs alone."""
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

    if isinstance(exc, ClientAuthenticationError) and exc.response is None and not data_plane:
        raise CredentialsRefused(no_token(exc)) from None
    if isinstance(exc, HttpResponseError):
        error = getattr(exc, "error", None)
        # Resource Manager's JSON error, or the data plane's x-ms-error-code.
        code = getattr(error, "code", None) or value(getattr(exc, "error_code", None))
        code = code or f"HTTP{exc.status_code}"
        message = getattr(error, "message", None) or exc.reason or str(exc)
        return str(code), str(message)[:500]
    return type(exc).__name__, str(exc)[:500]
