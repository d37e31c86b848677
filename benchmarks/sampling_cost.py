"""What the content sample costs: `cloudscan scan aws` against moto_server with BUCKETS buckets
of OBJECTS objects each (some DICOM), with --sample 0, the default sample, and --deep.

    python benchmarks/sampling_cost.py 200 1000

Prints wall time, peak RSS and the bytes the scan read from objects, per mode. A benchmark,
not a test: nothing here asserts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
from aws_scan import start_moto
from pydicom.data import get_testdata_file

MODES = {"no sample": ["--sample", "0"], "default sample": [], "deep": ["--deep"]}


def fill(url: str, buckets: int, objects: int) -> None:
    session = boto3.Session(aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=url)
    dicom = Path(get_testdata_file("CT_small.dcm")).read_bytes()

    def one_bucket(b: int) -> None:
        name = f"imaging-{b:04d}"
        s3.create_bucket(Bucket=name)
        for o in range(objects):
            dicom_object = o % 10 == 0
            key = f"1.2.840.{b}/{o}.dcm" if dicom_object else f"reports/{o}.pdf"
            s3.put_object(Bucket=name, Key=key, Body=dicom if dicom_object else b"%PDF-1.4 " * 20)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one_bucket, range(buckets)))


def scan(url: str, extra: list[str], out: Path) -> dict:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    started = time.perf_counter()
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cloudscan",
            "scan",
            "aws",
            "--region",
            "us-east-1",
            "--only",
            "storage-*",
            "--format",
            "json",
            "--output",
            str(out),
            *extra,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, _, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    resources = json.loads(out.read_text())["resources"]
    read = sum((r.get("objects") or {}).get("bytes_read", 0) for r in resources)
    return {
        "wall_seconds": round(wall, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "object_bytes_read": read,
    }


def main(buckets: int, objects: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_moto(Path(tmp) / "moto.log")
        try:
            started = time.perf_counter()
            fill(url, buckets, objects)
            print(
                json.dumps(
                    {
                        "buckets": buckets,
                        "objects_per_bucket": objects,
                        "setup_seconds": round(time.perf_counter() - started, 1),
                    }
                ),
                flush=True,
            )
            for mode, extra in MODES.items():
                print(json.dumps({"mode": mode, **scan(url, extra, Path(tmp) / "report.json")}), flush=True)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:  # 200,000 objects take moto a while to let go of
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*(args + [200, 1000][len(args) :]))
