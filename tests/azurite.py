"""The real Azurite blob emulator as a context manager, for the Azure data-plane side of the scanner.

Azurite enforces anonymous access per container (`public_access="blob"` / `"container"` / private),
lists containers with their access level and serves ranged reads, which is what the scanner's blob
checks and `--deep` DICOM sampling need. Management-plane settings live in `arm_fake.ArmFake`.

    with azurite_blob() as az:
        service = BlobServiceClient.from_connection_string(az.connection_string, retry_total=0)

It runs `azurite-blob` (npm `azurite` 3.35.0 on Node 20) in memory on a free loopback port and reads
the real port from the line it prints. `--skipApiVersionCheck` is required: azure-storage-blob
12.31 sends API version 2026-10-06, which Azurite 3.35 otherwise refuses with InvalidHeaderValue.
`--inMemoryPersistence` cannot be combined with `--location`, so the process runs in a temp dir to
keep its debug log and lock files out of the work tree. Use `retry_total=0` on clients: a failing
call otherwise spends seconds in backoff.
"""

from __future__ import annotations

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
from typing import IO

ACCOUNT_NAME = "devstoreaccount1"
# Azurite's well-known development key: public, documented, and accepted only by the emulator.
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_LISTENING = re.compile(r"successfully listens on (http://127\.0\.0\.1:(\d+))")


class AzuriteNotFound(RuntimeError):
    """`azurite-blob` is not on PATH (install it with `npm install -g azurite@3.35.0`)."""


@dataclass(frozen=True)
class Azurite:
    """How to reach one running emulator: the dev account, its key and the blob endpoint."""

    port: int
    account_name: str = ACCOUNT_NAME
    account_key: str = ACCOUNT_KEY

    @property
    def blob_url(self) -> str:
        """Path-style account endpoint, as Azurite serves it: `http://127.0.0.1:PORT/devstoreaccount1`."""
        return f"http://127.0.0.1:{self.port}/{self.account_name}"

    @property
    def connection_string(self) -> str:
        """What `BlobServiceClient.from_connection_string` takes, pointing at this emulator only."""
        return (
            f"DefaultEndpointsProtocol=http;AccountName={self.account_name};"
            f"AccountKey={self.account_key};BlobEndpoint={self.blob_url};"
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


@contextmanager
def azurite_blob(*, timeout: float = 30.0) -> Iterator[Azurite]:
    """Start an empty in-memory Azurite blob service, yield how to reach it, stop it afterwards."""
    exe = azurite_executable()
    if not exe:
        raise AzuriteNotFound("azurite-blob is not on PATH (npm install -g azurite@3.35.0)")
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
    with tempfile.TemporaryDirectory(prefix="azurite-") as workdir:
        proc = subprocess.Popen(
            args,
            cwd=workdir,
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
            yield Azurite(port=_wait_for_port(proc, lines, timeout))
        finally:
            _stop(proc)


def _wait_for_port(proc: subprocess.Popen[str], lines: queue.Queue[str], timeout: float) -> int:
    """The port from Azurite's `successfully listens on` line: race-free, unlike probing for a free one."""
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
            return int(m[2])
    state = "exited with " + str(proc.returncode) if proc.poll() is not None else f"silent for {timeout}s"
    raise RuntimeError(f"azurite-blob {state}; its output: {''.join(seen)[-2000:]!r}")
