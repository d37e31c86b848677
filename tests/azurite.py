"""The real Azurite blob emulator as a context manager, for the Azure data-plane side of the scanner.

Azurite enforces anonymous access per container (`public_access="blob"` / `"container"` / private),
lists containers with their access level and serves ranged reads, which is what the scanner's blob
checks and `--deep` DICOM sampling need. Management-plane settings live in `arm_fake.ArmFake`.

    with azurite_blob() as az:
        service = BlobServiceClient.from_connection_string(az.connection_string, retry_total=0)

It runs `azurite-blob` (npm `azurite` 3.35.0 on Node 20) in memory on a free loopback port and reads
the real port from the line it prints. It serves the accounts it is given (AZURITE_ACCOUNTS, all with
the development key; `devstoreaccount1` by default), over https with `certificates`, and with `oauth`
it accepts bearer tokens that look like Entra ID's (`entra_like_token`) without checking a signature,
for List Containers and blob reads; Get Container ACL it refuses to a token, which is what Azure does
to an identity with Storage Blob Data Reader alone. Without `oauth` it refuses every bearer token.

`--skipApiVersionCheck` is required: azure-storage-blob 12.31 sends API version 2026-10-06, which
Azurite 3.35 otherwise refuses with InvalidHeaderValue.
`--inMemoryPersistence` cannot be combined with `--location`, so the process runs in a temp dir to
keep its debug log and lock files out of the work tree. Use `retry_total=0` on clients: a failing
call otherwise spends seconds in backoff.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from http_fronts import Certificates

ACCOUNT_NAME = "devstoreaccount1"
# Azurite's well-known development key: public, documented, and accepted only by the emulator.
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_LISTENING = re.compile(r"successfully listens on (https?)://127\.0\.0\.1:(\d+)")


class AzuriteNotFound(RuntimeError):
    """`azurite-blob` is not on PATH (install it with `npm install -g azurite@3.35.0`)."""


@dataclass(frozen=True)
class Azurite:
    """How to reach one running emulator: the dev account, its key and the blob endpoint."""

    port: int
    account_name: str = ACCOUNT_NAME
    account_key: str = ACCOUNT_KEY
    scheme: str = "http"
    ca: str | None = None  # the CA that signed its certificate, when it serves https
    accounts: tuple[str, ...] = ()  # every account it serves, account_name first

    def client_options(self) -> dict[str, Any]:
        """What an SDK client needs to trust this emulator."""
        return {"connection_verify": self.ca} if self.ca else {}

    @property
    def blob_url(self) -> str:
        """Path-style account endpoint, as Azurite serves it: `http://127.0.0.1:PORT/devstoreaccount1`."""
        return self.url_of(self.account_name)

    def url_of(self, account: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/{account}"

    @property
    def connection_string(self) -> str:
        """What `BlobServiceClient.from_connection_string` takes, pointing at this emulator only."""
        return self.connection_string_of(self.account_name)

    def connection_string_of(self, account: str) -> str:
        return (
            f"DefaultEndpointsProtocol={self.scheme};AccountName={account};"
            f"AccountKey={self.account_key};BlobEndpoint={self.url_of(account)};"
        )


def azurite_executable() -> str | None:
    """The `azurite-blob` to run: `$AZURITE_BLOB` if set, else the one on PATH."""
    return os.environ.get("AZURITE_BLOB") or shutil.which("azurite-blob")


def require_azurite() -> str:
    """The executable, or a skip for a developer without it; under CI=true its absence is a failure."""
    exe = azurite_executable()
    if exe:
        return exe
    message = "azurite-blob is not on PATH (npm install -g azurite@3.35.0)"
    if os.environ.get("CI", "").lower() == "true":
        raise AzuriteNotFound(message + ": CI must run the Azure data-plane tests")
    import pytest

    pytest.skip(message)


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    """Drain the child's output for its whole life, so a full pipe can never block it."""
    for line in stream:
        lines.put(line)


def _stop(proc: subprocess.Popen[str]) -> None:
    """Our own child, by its PID: terminate, then kill if it ignores that."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def entra_like_token(lifetime: int = 24 * 3600) -> str:
    """An unsigned token with the claims Azurite's `--oauth basic` checks (issuer, storage
    audience, times): a stand-in for an Entra ID token, accepted by nothing but the emulator."""

    def part(claims: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {
        "aud": "https://storage.azure.com",
        "iss": "https://sts.windows.net/00000000-0000-0000-0000-000000000000/",
        "iat": now - 60,
        "nbf": now - 60,
        "exp": now + lifetime,
    }
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.unsigned"


@contextmanager
def azurite_blob(
    *,
    accounts: tuple[str, ...] = (ACCOUNT_NAME,),
    certificates: Certificates | None = None,
    oauth: bool = False,
    timeout: float = 30.0,
) -> Iterator[Azurite]:
    """Start an empty in-memory Azurite blob service, yield how to reach it, stop it afterwards.
    `certificates` (http_fronts.Certificates) serve it over https; `oauth` needs them."""
    exe = azurite_executable()
    if not exe:
        raise AzuriteNotFound("azurite-blob is not on PATH (npm install -g azurite@3.35.0)")
    environment = None
    if accounts != (ACCOUNT_NAME,):
        environment = {**os.environ, "AZURITE_ACCOUNTS": ";".join(f"{a}:{ACCOUNT_KEY}" for a in accounts)}
    args = [
        exe,
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        "0",
        "--inMemoryPersistence",
        "--skipApiVersionCheck",
        "--disableTelemetry",
        "--loose",
    ]
    if certificates is not None:
        args += ["--cert", str(certificates.cert), "--key", str(certificates.key)]
    if oauth:
        args += ["--oauth", "basic"]
    with tempfile.TemporaryDirectory(prefix="azurite-") as workdir:
        proc = subprocess.Popen(
            args,
            cwd=workdir,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            assert proc.stdout is not None
            lines: queue.Queue[str] = queue.Queue()
            threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
            scheme, port = _wait_for_port(proc, lines, timeout)
            ca = str(certificates.ca) if certificates is not None else None
            yield Azurite(port=port, account_name=accounts[0], scheme=scheme, ca=ca, accounts=accounts)
        finally:
            _stop(proc)


def _wait_for_port(proc: subprocess.Popen[str], lines: queue.Queue[str], timeout: float) -> tuple[str, int]:
    """The scheme and port from Azurite's `successfully listens on` line: race-free, unlike probing
    for a free one."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            if proc.poll() is not None and lines.empty():
                break
            continue
        seen.append(line)
        if m := _LISTENING.search(line):
            return m[1], int(m[2])
    state = "exited with " + str(proc.returncode) if proc.poll() is not None else f"silent for {timeout}s"
    raise RuntimeError(f"azurite-blob {state}; its output: {''.join(seen)[-2000:]!r}")
