"""Time `cloudscan scan gcp` over N Cloud Storage buckets in gcp-storage-emulator.

    python benchmarks/gcp_scan.py 1000

Starts the emulator as its own process on a free loopback port, fills it (a third public, one
bucket in ten with a DICOM object), runs the CLI in a child process with STORAGE_EMULATOR_HOST
and Resource Manager at the tests' local JSON API server (firewalls and DICOM stores are left
out with --only), and prints wall time, the scan's peak RSS and requests per bucket (counted from the
emulator's request log). A benchmark, not a test: nothing here asserts.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["DISABLE_GCS_PYTHON_CLIENT_OTEL_BUCKET_METADATA"] = "true"

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from google_fake import GoogleFake

REQUEST_LINE = re.compile(r'"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fill(url: str, n: int) -> None:
    client = storage.Client(
        project="bench", credentials=AnonymousCredentials(), client_options=ClientOptions(api_endpoint=url)
    )
    dicom = b"\0" * 128 + b"DICM" + b"\2\0\1\0UL\4\0\0\0\0\0" * 8
    for i in range(n):
        bucket = client.create_bucket(f"imaging-{i:05d}")
        if i % 3 == 0:
            policy = bucket.get_iam_policy()
            policy.bindings = [{"role": "roles/storage.objectViewer", "members": {"allUsers"}}]
            bucket.set_iam_policy(policy)
        if i % 10 == 0:
            bucket.blob("1.2.840.1/1.dcm").upload_from_string(dicom)


def main(sizes: list[int]) -> None:
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "emulator.log"
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            with log.open("w") as out:
                emulator = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "gcp_storage_emulator",
                        "start",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--in-memory",
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            try:
                for _ in range(100):
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                        break
                    except OSError:
                        time.sleep(0.1)
                fill(url, n)
                before = len(REQUEST_LINE.findall(log.read_text()))
                fake = GoogleFake()
                fake.put("/v3/projects/bench", {"projectId": "bench"})
                env = {
                    **os.environ,
                    "STORAGE_EMULATOR_HOST": url,
                    "CLOUDSCAN_RESOURCE_MANAGER_ENDPOINT": fake.url,
                }
                command = [
                    "/usr/bin/time",
                    "-f",
                    "%e %M",
                    sys.executable,
                    "-m",
                    "cloudscan",
                    "scan",
                    "gcp",
                    "--project",
                    "bench",
                    "--anonymous",
                    "--only",
                    "storage-*",
                    "--only",
                    "gcp-*",
                    "--format",
                    "json",
                    "-o",
                    str(Path(tmp) / "report.json"),
                    "--fail-on",
                    "none",
                ]
                with fake:
                    done = subprocess.run(command, env=env, capture_output=True, text=True)
                wall, rss = done.stderr.strip().splitlines()[-1].split()
                requests = len(REQUEST_LINE.findall(log.read_text())) - before
                print(
                    f"{n} buckets: {float(wall):.1f} s, peak RSS {int(rss) / 1024:.0f} MiB, "
                    f"{requests / n:.2f} emulator requests per bucket (exit {done.returncode})"
                )
            finally:
                emulator.terminate()
                emulator.wait()


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000])
