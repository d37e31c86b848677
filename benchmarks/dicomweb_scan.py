"""Time `cloudscan scan dicomweb` over many local endpoints.

    python benchmarks/dicomweb_scan.py 200 [LATENCY_MS] [--orthanc]

Starts ENDPOINTS small HTTP servers, each on its own loopback address (127.0.0.2, 127.0.0.3,
...: one host each, as endpoints on a network are), answering like an open Orthanc (QIDO
200 [], WADO 404, STOW 415, /system, Orthanc Explorer) after LATENCY_MS (default 20) per
request, a stand-in for the network. A third of them ask for a login instead. With --orthanc
the first four targets are real Orthanc servers (tests/orthanc_server.py) with their DIMSE
ports. Then runs the scan as a user would (a subprocess, default options) and prints the wall
time, the requests served and the peak RSS. A benchmark, not a test: nothing here asserts.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

SYSTEM = json.dumps({"ApiVersion": 16, "DicomAet": "ORTHANC", "Version": "1.10.1"}).encode()
served = 0
lock = threading.Lock()


def handler(latency: float, protected: bool) -> type[http.server.BaseHTTPRequestHandler]:
    class Endpoint(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            global served
            with lock:
                served += 1
            time.sleep(latency)
            if int(self.headers.get("Content-Length") or 0):
                self.rfile.read(int(self.headers["Content-Length"]))
            path = self.path.split("?")[0]
            if protected:
                status, kind, body = 401, "", b""
            elif path.endswith("/studies") and self.command == "GET":
                status, kind, body = 200, "application/dicom+json", b"[]"
            elif path.endswith("/studies"):
                status, kind, body = 415, "application/json", b'{"OrthancError": "Unsupported media type"}'
            elif path == "/system":
                status, kind, body = 200, "application/json", SYSTEM
            elif path == "/app/explorer.html":
                status, kind, body = 200, "text/html", b"<html><title>Orthanc Explorer</title></html>"
            else:
                status, kind, body = 404, "", b""
            self.send_response(status)
            if protected:
                self.send_header("WWW-Authenticate", 'Basic realm="Orthanc Secure Area"')
            if kind:
                self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    return Endpoint


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    latency = (int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 20) / 1000
    servers = []
    for i in range(count):
        host = f"127.0.{(i + 2) // 256}.{(i + 2) % 256}"
        server = http.server.ThreadingHTTPServer((host, 0), handler(latency, protected=i % 3 == 2))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    targets = [f"http://{s.server_address[0]}:{s.server_address[1]}/dicom-web" for s in servers]
    orthancs = []
    dimse: list[str] = []
    if "--orthanc" in sys.argv:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from orthanc_server import DEFAULT, OPEN, PROTECTED, start_orthanc

        scratch = Path(tempfile.mkdtemp(prefix="cloudscan-bench-"))
        for name, settings, login in (
            ("open", OPEN, None),
            ("protected", PROTECTED, ("alice", "bench")),
            ("default", DEFAULT, None),
            ("open2", OPEN, None),
        ):
            orthancs.append(start_orthanc(scratch / name, name, settings, login))
        targets[:4] = [o.dicomweb for o in orthancs]
        for o in orthancs:
            dimse += ["--dimse", f"127.0.0.1:{o.dicom_port}/ORTHANC"]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listed:
        listed.write("\n".join(targets) + "\n")
    started = time.perf_counter()
    run = subprocess.run(
        [
            "/usr/bin/time",
            "-f",
            "%M",
            sys.executable,
            "-m",
            "cloudscan",
            "scan",
            "dicomweb",
            "--targets",
            listed.name,
            *dimse,
            "--format",
            "json",
            "--fail-on",
            "none",
        ],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    for o in orthancs:
        o.stop()
    for server in servers:
        server.shutdown()
    report = json.loads(run.stdout)
    errors = sum(len(r["_meta"]["errors"]) for r in report["resources"])
    peak_kib = run.stderr.strip().splitlines()[-1]
    kinds = f"{len(targets)} DICOMweb endpoints" + (" + 4 DIMSE" if dimse else "")
    print(
        f"{kinds}, {latency * 1000:.0f} ms per request: "
        f"{elapsed:.2f} s wall, {served} HTTP requests served, {len(report['resources'])} resources, "
        f"{len(report['findings'])} results, {errors} errors, peak RSS {int(peak_kib) / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
