"""A real Orthanc (Debian packages orthanc + orthanc-dicomweb) for the endpoint tests.

Orthanc 1.10 always listens on every interface. As root, it runs in a private network
namespace that has only loopback, and socat carries its two ports through unix sockets to
127.0.0.1 on this side: nothing outside the machine can reach it. Without root (or without
unshare/socat) it runs directly on free ports and the tests talk to 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ORTHANC = "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
INNER_HTTP, INNER_DICOM = 8042, 4242

# The three configurations of the issue. Users are added per start (passwords are random).
OPEN = {
    "RemoteAccessAllowed": True,
    "AuthenticationEnabled": False,
    "DicomCheckCalledAet": False,
    "DicomAlwaysAllowEcho": True,
    "DicomAlwaysAllowStore": True,
    "DicomAlwaysAllowFind": True,
    "DicomAlwaysAllowGet": True,
    "DicomAlwaysAllowMove": True,
}
PROTECTED = {
    "RemoteAccessAllowed": True,
    "AuthenticationEnabled": True,
    "DicomCheckCalledAet": True,
    "DicomAlwaysAllowEcho": False,
    "DicomAlwaysAllowStore": False,
    "DicomAlwaysAllowFind": False,
    "DicomAlwaysAllowGet": False,
    "DicomAlwaysAllowMove": False,
    "DicomCheckModalityHost": True,
    "DicomModalities": {"modality1": ["MODALITY1", "127.0.0.1", 11112]},
}
# Orthanc 1.10 with remote access and nothing else said: it creates orthanc/orthanc itself.
DEFAULT: dict[str, Any] = {"RemoteAccessAllowed": True}


def orthanc_available() -> bool:
    return Path(ORTHANC).exists() and Path(DICOMWEB_PLUGIN).exists()


def require_orthanc() -> None:
    """Skip without Orthanc, except in CI, where a missing server must fail the run."""
    if orthanc_available():
        return
    message = (
        f"Orthanc is not installed ({ORTHANC}, {DICOMWEB_PLUGIN}): "
        "apt-get install orthanc orthanc-dicomweb socat"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@functools.cache
def _isolated() -> bool:
    """Whether a private network namespace can be made here (root, and allowed by the container)."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("socat"):
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


@dataclass
class Orthanc:
    name: str
    http_port: int
    dicom_port: int
    directory: Path
    config: dict[str, Any]
    credentials: tuple[str, str] | None = None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb(self) -> str:
        return f"{self.url}/dicom-web"

    @property
    def config_file(self) -> Path:
        return self.directory / "orthanc.json"

    def request(
        self, method: str, path: str, body: bytes | None = None, auth: tuple[str, str] | None = None
    ) -> tuple[int, bytes]:
        req = urllib.request.Request(self.url + path, data=body, method=method)
        login = auth or self.credentials
        if login:
            req.add_header("Authorization", "Basic " + base64.b64encode(":".join(login).encode()).decode())
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def instance_count(self) -> int:
        status, body = self.request("GET", "/statistics")
        assert status == 200, status
        return json.loads(body)["CountInstances"]

    def upload(self, path: Path) -> None:
        status, body = self.request("POST", "/instances", path.read_bytes())
        assert status == 200, (status, body[:200])

    def log(self) -> str:
        log = self.directory / "orthanc.log"
        return log.read_text(errors="replace") if log.exists() else ""

    def stop(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def start_orthanc(
    directory: Path, name: str, settings: dict[str, Any], credentials: tuple[str, str] | None = None
) -> Orthanc:
    """Write a config for `settings` and start Orthanc with it; wait until it answers."""
    require_orthanc()
    directory.mkdir(parents=True, exist_ok=True)
    isolated = _isolated()
    http_port, dicom_port = free_port(), free_port()
    config: dict[str, Any] = {
        "Name": name,
        "StorageDirectory": str(directory / "db"),
        "IndexDirectory": str(directory / "db"),
        "Plugins": [DICOMWEB_PLUGIN],
        "HttpPort": INNER_HTTP if isolated else http_port,
        "DicomPort": INNER_DICOM if isolated else dicom_port,
        "DicomAet": "ORTHANC",
        "DicomWeb": {
            "Enable": True,
            "Root": "/dicom-web/",
            "EnableWado": True,
            "WadoRoot": "/wado",
            "Host": "127.0.0.1",
            "Ssl": False,
        },
        **settings,
    }
    if credentials:
        config["RegisteredUsers"] = {credentials[0]: credentials[1]}
    server = Orthanc(name, http_port, dicom_port, directory, config, credentials)
    server.config_file.write_text(json.dumps(config, indent=2))
    orthanc = [ORTHANC, f"--logfile={directory / 'orthanc.log'}", str(server.config_file)]
    out = open(directory / "stdout.log", "wb")  # noqa: SIM115 - owned by the process
    if isolated:
        http_sock, dicom_sock = directory / "http.sock", directory / "dicom.sock"
        inner = (
            "ip link set lo up && "
            f"socat UNIX-LISTEN:{http_sock},fork TCP:127.0.0.1:{INNER_HTTP} & "
            f"socat UNIX-LISTEN:{dicom_sock},fork TCP:127.0.0.1:{INNER_DICOM} & "
            "exec " + " ".join(orthanc)
        )
        server.processes.append(
            subprocess.Popen(
                ["unshare", "-n", "sh", "-c", inner],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        )
        for port, sock in ((http_port, http_sock), (dicom_port, dicom_sock)):
            server.processes.append(
                subprocess.Popen(
                    ["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", f"UNIX-CONNECT:{sock}"],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=out,
                    start_new_session=True,
                )
            )
    else:
        server.processes.append(
            subprocess.Popen(
                orthanc, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
            )
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.processes[0].poll() is not None:
            break
        try:
            status, _ = server.request("GET", "/system")
            if status in (200, 401):
                return server
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"Orthanc {name} did not start:\n{server.log()[-3000:]}")
