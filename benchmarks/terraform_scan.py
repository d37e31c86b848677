"""Time `cloudscan scan terraform` over a generated tree of .tf files, and cloudscan's start-up.

    python benchmarks/terraform_scan.py 1000

Writes FILES .tf files (four per directory: a bucket, its policy, its Block Public Access and a
security group) under a temporary directory, then prints wall time and peak RSS of the scan,
and the wall time of `cloudscan --version`. A benchmark, not a test: nothing here asserts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUCKET = '''resource "aws_s3_bucket" "b" {{
  bucket = "bench-{i}"
  tags   = {{ DataClassification = "PHI" }}
}}
'''
POLICY = '''resource "aws_s3_bucket_policy" "b" {{
  bucket = aws_s3_bucket.b.id
  policy = jsonencode({{
    Statement = [{{ Effect = "Allow", Principal = "{principal}", Action = "s3:GetObject",
                   Resource = "${{aws_s3_bucket.b.arn}}/*" }}]
  }})
}}
'''
PAB = '''resource "aws_s3_bucket_public_access_block" "b" {{
  bucket                  = aws_s3_bucket.b.id
  block_public_acls       = {flag}
  ignore_public_acls      = {flag}
  block_public_policy     = {flag}
  restrict_public_buckets = {flag}
}}
'''
GROUP = '''resource "aws_security_group" "pacs" {{
  name = "pacs-{i}"
  ingress {{
    from_port   = 104
    to_port     = 104
    protocol    = "tcp"
    cidr_blocks = ["{cidr}"]
  }}
}}
'''


def generate(root: Path, files: int) -> None:
    for i in range(max(files // 4, 1)):
        module = root / f"module-{i:05d}"
        module.mkdir(parents=True)
        (module / "bucket.tf").write_text(BUCKET.format(i=i))
        principal = "*" if i % 3 == 0 else "arn:aws:iam::123456789012:role/viewer"
        (module / "policy.tf").write_text(POLICY.format(principal=principal))
        (module / "pab.tf").write_text(PAB.format(flag="false" if i % 2 else "true"))
        cidr = "0.0.0.0/0" if i % 5 == 0 else "10.0.0.0/8"
        (module / "network.tf").write_text(GROUP.format(i=i, cidr=cidr))


def timed(command: list[str]) -> tuple[float, float, int]:
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main(files: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "tree"
        generate(root, files)
        count = sum(1 for _ in root.rglob("*.tf"))
        report = Path(tmp) / "report.json"
        wall, rss, code = timed([sys.executable, "-m", "cloudscan", "scan", "terraform", str(root),
                                 "--format", "json", "--output", str(report)])
        findings = len(json.loads(report.read_text())["findings"])
    startup = min(timed([sys.executable, "-m", "cloudscan", "--version"])[0] for _ in range(5))
    print(json.dumps({"tf_files": count, "exit_code": code, "wall_seconds": round(wall, 2),
                      "peak_rss_mib": round(rss, 1), "findings": findings,
                      "startup_seconds": round(startup, 3)}))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
