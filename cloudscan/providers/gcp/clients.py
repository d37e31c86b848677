"""Google Cloud clients for a scan: Cloud Storage through google-cloud-storage, the Healthcare,
Compute and Resource Manager APIs through their discovery documents bundled with
google-api-python-client (no network needed to build them). Read-only scopes only."""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cloudscan.model import CredentialsRefused
from cloudscan.providers.pacing import Pacing

# google-cloud-storage 3 otherwise starts a background GET of every bucket it touches.
os.environ.setdefault("DISABLE_GCS_PYTHON_CLIENT_OTEL_BUCKET_METADATA", "true")

READ_ONLY_SCOPES = ["https://www.googleapis.com/auth/cloud-platform.read-only"]
TRANSIENT = (429, 500, 502, 503, 504)


@dataclass(frozen=True)
class Endpoints:
    """Where each API answers: Google by default; an emulator or a sovereign endpoint when
    set. Cloud Storage also follows STORAGE_EMULATOR_HOST, as its client library does."""

    storage: str | None = None
    healthcare: str | None = None
    compute: str | None = None
    resource_manager: str | None = None
    asset: str | None = None  # Cloud Asset Inventory, for --source inventory|auto


def load_credentials(*, anonymous: bool = False, impersonate: str | None = None) -> tuple[Any, str | None]:
    """Application Default Credentials (or none, for emulators), optionally impersonating a
    service account, and the project they name."""
    from google.auth import default, impersonated_credentials
    from google.auth.credentials import AnonymousCredentials
    from google.auth.exceptions import DefaultCredentialsError

    if anonymous:
        return AnonymousCredentials(), None
    try:
        credentials, project = default(scopes=READ_ONLY_SCOPES)
    except DefaultCredentialsError as exc:
        raise CredentialsRefused(
            "no Application Default Credentials: run `gcloud auth application-default login`, "
            f"or set GOOGLE_APPLICATION_CREDENTIALS ({exc})"
        ) from None
    if impersonate:
        credentials = impersonated_credentials.Credentials(
            source_credentials=credentials, target_principal=impersonate, target_scopes=READ_ONLY_SCOPES
        )
    return credentials, project


class GcpClients:
    """One Cloud Storage client, and discovery clients built once whose requests run on a
    per-thread HTTP connection (httplib2 connections are not thread-safe). Every request waits
    for its turn under `pacing`, per API (storage, healthcare, compute, cloudresourcemanager)."""

    def __init__(
        self, credentials: Any, endpoints: Endpoints, *, max_pool: int = 16, pacing: Pacing | None = None
    ) -> None:
        # At DEBUG these libraries log whole requests and responses, object names included.
        for name in ("googleapiclient", "google", "urllib3", "httplib2"):
            logging.getLogger(name).setLevel(max(logging.getLogger(name).getEffectiveLevel(), logging.INFO))
        self.credentials = credentials
        self.endpoints = endpoints
        self._max_pool = max_pool
        self.pacing = pacing or Pacing()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._apis: dict[str, Any] = {}
        self._storage: Any = None

    def storage(self, project: str | None) -> Any:
        from google.api_core.client_options import ClientOptions
        from google.auth.transport.requests import AuthorizedSession
        from google.cloud import storage

        with self._lock:
            if self._storage is None:
                session = AuthorizedSession(self.credentials)
                adapter = _paced_adapter(
                    self.pacing, "storage", pool_connections=4, pool_maxsize=self._max_pool
                )
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                endpoint = self.endpoints.storage or os.environ.get("STORAGE_EMULATOR_HOST")
                options = ClientOptions(api_endpoint=endpoint) if endpoint else None
                self._storage = storage.Client(
                    project=project or "-",
                    credentials=self.credentials,
                    _http=session,
                    client_options=options,
                )
            return self._storage

    def where(self, api: str) -> str:
        """The address an API is reached at, as an error message should name it."""
        overrides = {
            "storage": self.endpoints.storage or os.environ.get("STORAGE_EMULATOR_HOST"),
            "healthcare": self.endpoints.healthcare,
            "compute": self.endpoints.compute,
            "cloudresourcemanager": self.endpoints.resource_manager,
            "cloudasset": self.endpoints.asset,
        }
        return overrides.get(api) or f"https://{api}.googleapis.com"

    def api(self, name: str) -> Any:
        """The discovery client of `healthcare`, `compute`, `cloudresourcemanager` or `cloudasset`."""
        from googleapiclient import discovery

        versions = {"healthcare": "v1", "compute": "v1", "cloudresourcemanager": "v3", "cloudasset": "v1"}
        overrides = {
            "healthcare": self.endpoints.healthcare,
            "compute": self.endpoints.compute and self.endpoints.compute.rstrip("/") + "/compute/v1/",
            "cloudresourcemanager": self.endpoints.resource_manager,
            "cloudasset": self.endpoints.asset,
        }
        with self._lock:
            if name not in self._apis:
                endpoint = overrides[name]
                if endpoint and not endpoint.endswith("/"):
                    endpoint += "/"
                self._apis[name] = discovery.build(
                    name,
                    versions[name],
                    credentials=self.credentials,
                    static_discovery=True,
                    cache_discovery=False,
                    client_options={"api_endpoint": endpoint} if endpoint else None,
                )
            return self._apis[name]

    def execute(self, request: Any) -> Any:
        """Run a discovery request on this thread's own connection, retrying 429 and 5xx with
        back-off (pacing.max_attempts tries in all), each try in its turn under the rate limit."""
        http = getattr(self._local, "http", None)
        if http is None:
            import google_auth_httplib2
            import httplib2

            http = google_auth_httplib2.AuthorizedHttp(self.credentials, http=httplib2.Http(timeout=60))
            self._local.http = http
        api = str(getattr(request, "methodId", "") or "discovery").split(".")[0]
        retries = self.pacing.max_attempts - 1
        for attempt in range(retries + 1):
            self.pacing.wait(api)
            try:
                return request.execute(http=http)
            except Exception as exc:
                # 429 and 5xx pass; a refused connection or an unknown host does not, and
                # retrying it for seconds only delays the error that names it.
                if attempt == retries or status_of(exc) not in TRANSIENT:
                    raise
                time.sleep(min(2**attempt, 8) * (0.5 + random.random() / 2))
        raise AssertionError("unreachable")


def _paced_adapter(pacing: Pacing, api: str, **options: Any) -> Any:
    """A requests transport whose every request (the library's retries included) waits for its
    turn under `pacing`."""
    from requests.adapters import HTTPAdapter

    class PacedAdapter(HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            pacing.wait(api)
            return super().send(request, *args, **kwargs)

    return PacedAdapter(**options)


def pages(clients: GcpClients, collection: Any, key: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Every item of a discovery `list` method, page by page (raises on the first failure)."""
    request = collection.list(**params)
    while request is not None:
        answer = clients.execute(request)
        yield from answer.get(key, [])
        request = collection.list_next(request, answer)


def error_of(exc: Exception) -> tuple[str, str]:
    """(code, message) of a failed call, whichever library raised it; the code is Google's
    reason (SERVICE_DISABLED, forbidden, notFound...) where it gives one."""
    from googleapiclient.errors import HttpError

    cause = getattr(exc, "cause", None)
    if type(exc).__name__ == "RetryError" and isinstance(cause, Exception):
        exc = cause  # retries ran out: what failed is what tells
    message = str(exc)
    if isinstance(exc, HttpError):
        details = exc.error_details if isinstance(exc.error_details, list) else []
        reasons = [d.get("reason") for d in details if isinstance(d, dict) and d.get("reason")]
        code = reasons[0] if reasons else f"HTTP{exc.status_code}"
        message = f"{exc.status_code} {exc.reason}"
    else:
        status = getattr(exc, "code", None)
        reason = getattr(exc, "reason", None)
        code = reason or (f"HTTP{status}" if isinstance(status, int) else type(exc).__name__)
        message = getattr(exc, "message", None) or message
    return str(code), str(message)[:500]


# RefreshError and InvalidOperation: a token that Google refused (a 401) could not be renewed.
REFUSED = frozenset(("RefreshError", "TransportError", "DefaultCredentialsError", "InvalidOperation"))


def stop_if_refused(exc: Exception) -> None:
    """Google refused the credentials (any 401, whatever its reason: ACCESS_TOKEN_EXPIRED...), or
    no token could be had: every other call would fail the same way, so the scan ends (exit 2)."""
    if status_of(exc) == 401 or type(exc).__name__ in REFUSED:
        code, message = error_of(exc)
        raise CredentialsRefused(f"Google refused the credentials: {code}: {message}")


def status_of(exc: Exception) -> int | None:
    from googleapiclient.errors import HttpError

    if isinstance(exc, HttpError):
        return exc.status_code
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else None
