"""boto3 clients for a scan, built from an injected session; no module-level clients."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from botocore.config import Config

from cloudscan.providers.pacing import Pacing

ACCOUNT_HOST_PREFIX = re.compile(r"^(https?://)\d{12}\.")


class AwsClients:
    """Caches one client per (service, region). Client creation is locked: sessions are not
    thread-safe, clients are. Every request waits for its turn under `pacing` (per service,
    whichever region), and throttling is retried in botocore's adaptive mode, which also slows
    a client down once it has been throttled."""

    def __init__(self, session: Any, *, max_pool: int = 16, pacing: Pacing | None = None) -> None:
        # At DEBUG, botocore and urllib3 log whole requests and responses: object keys, and the
        # bytes of sampled DICOM headers with patient names. A scan never lets them.
        for name in ("botocore", "boto3", "urllib3", "s3transfer"):
            logging.getLogger(name).setLevel(max(logging.getLogger(name).getEffectiveLevel(), logging.INFO))
        self.session = session
        self.pacing = pacing or Pacing()
        self._config = Config(
            retries={"mode": "adaptive", "total_max_attempts": self.pacing.max_attempts},
            max_pool_connections=max_pool,
            connect_timeout=10,
            read_timeout=60,
            user_agent_extra="cloudscan",
        )
        # The first call of a scan says whether AWS answers at all: it must not retry for minutes.
        self._first_call = self._config.merge(
            Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=5, read_timeout=20)
        )
        self._cache: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    @property
    def default_region(self) -> str:
        return self.session.region_name or "us-east-1"

    def first_call_client(self, service: str, region: str | None = None) -> Any:
        """A client that gives up quickly: for the call that tells whether AWS (or a service at
        an endpoint override) can be reached."""
        with self._lock:
            client = self.session.client(
                service, region_name=region or self.default_region, config=self._first_call
            )
        self._pace(client)
        return client

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.default_region)
        with self._lock:
            if key not in self._cache:
                client = self.session.client(service, region_name=key[1], config=self._config)
                if service == "s3control" and is_endpoint_override(client):
                    # S3 Control puts the account id in front of the host. Against an endpoint
                    # override (moto_server, a proxy) that host does not resolve, and the
                    # account-level Block Public Access would never be read.
                    client.meta.events.register("before-sign.s3-control.*", _strip_account_prefix)
                self._pace(client)
                self._cache[key] = client
            return self._cache[key]

    def _pace(self, client: Any) -> None:
        # before-send comes once per HTTP request, retries included; first, so that it also
        # comes before an in-process emulator (moto's mock_aws) answers.
        service = client.meta.service_model.service_name
        client.meta.events.register_first("before-send", lambda **_: self.pacing.wait(service))


def is_endpoint_override(client: Any) -> bool:
    # Covers the .amazonaws.com.cn partition too.
    return ".amazonaws.com" not in client.meta.endpoint_url


def _strip_account_prefix(request: Any, **_: Any) -> None:
    request.url = ACCOUNT_HOST_PREFIX.sub(r"\1", request.url)
