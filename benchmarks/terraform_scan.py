"""Time `cloudscan scan terraform` over generated trees of .tf files, and cloudscan's start-up.

    python benchmarks/terraform_scan.py 1000 [--checkov /path/to/checkov]

Two shapes, each of about FILES .tf files, under a temporary directory:
- flat: four files per directory (a bucket, its policy, its Block Public Access, a group);
- modules: the shape of public module repositories: many example directories, each with
  main.tf, variables.tf and terraform.tfvars, calling two shared local modules that make
  buckets and security-group rules with for_each over maps, conditionals, dynamic blocks
  and locals.
Prints wall time and peak RSS of each scan (and of Checkov's on the same tree with
--checkov), and the wall time of `cloudscan --version`. A benchmark, not a test: nothing
here asserts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUCKET = """resource "aws_s3_bucket" "b" {{
  bucket = "bench-{i}"
  tags   = {{ DataClassification = "PHI" }}
}}
"""
POLICY = """resource "aws_s3_bucket_policy" "b" {{
  bucket = aws_s3_bucket.b.id
  policy = jsonencode({{
    Statement = [{{ Effect = "Allow", Principal = "{principal}", Action = "s3:GetObject",
                   Resource = "${{aws_s3_bucket.b.arn}}/*" }}]
  }})
}}
"""
PAB = """resource "aws_s3_bucket_public_access_block" "b" {{
  bucket                  = aws_s3_bucket.b.id
  block_public_acls       = {flag}
  ignore_public_acls      = {flag}
  block_public_policy     = {flag}
  restrict_public_buckets = {flag}
}}
"""
GROUP = """resource "aws_security_group" "pacs" {{
  name = "pacs-{i}"
  ingress {{
    from_port   = 104
    to_port     = 104
    protocol    = "tcp"
    cidr_blocks = ["{cidr}"]
  }}
}}
"""


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


BUCKETS_MODULE = """variable "buckets" {
  type = map(object({ public = bool, phi = bool }))
}
variable "environment" {}

locals {
  public = { for name, b in var.buckets : name => b if b.public }
  tags   = { Environment = var.environment, Owner = "radiology" }
}

resource "aws_s3_bucket" "this" {
  for_each = var.buckets
  bucket   = "${var.environment}-${each.key}"
  tags     = merge(local.tags, each.value.phi ? { DataClassification = "PHI" } : {})
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each                = var.buckets
  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = !each.value.public
  ignore_public_acls      = !each.value.public
  block_public_policy     = !each.value.public
  restrict_public_buckets = !each.value.public
}

resource "aws_s3_bucket_policy" "this" {
  for_each = local.public
  bucket   = aws_s3_bucket.this[each.key].id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = "*", Action = "s3:GetObject",
                   Resource = "${aws_s3_bucket.this[each.key].arn}/*" }]
  })
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = var.buckets
  bucket   = aws_s3_bucket.this[each.key].id
  versioning_configuration {
    status = each.value.phi ? "Enabled" : "Suspended"
  }
}

output "arns" {
  value = { for name, b in aws_s3_bucket.this : name => b.arn }
}
"""
NETWORK_MODULE = """variable "name" {}
variable "rules" {
  type = map(object({ port = number, cidrs = list(string) }))
}

resource "aws_security_group" "this" {
  name = var.name
  dynamic "ingress" {
    for_each = var.rules
    content {
      description = ingress.key
      from_port   = ingress.value.port
      to_port     = ingress.value.port
      protocol    = "tcp"
      cidr_blocks = ingress.value.cidrs
    }
  }
}
"""
EXAMPLE_MAIN = """module "storage" {{
  source      = "../../modules/buckets"
  environment = var.environment
  buckets     = var.buckets
}}

module "network" {{
  source = "../../modules/network"
  name   = "pacs-${{var.environment}}"
  rules = {{
    for name, port in var.ports : name => {{ port = port, cidrs = lookup(var.sources, name, ["10.0.0.0/8"]) }}
  }}
}}
"""
EXAMPLE_VARIABLES = """variable "environment" {{
  default = "e{i}"
}}
variable "buckets" {{
  default = {{
    studies = {{ public = false, phi = true }}
    exports = {{ public = {public}, phi = true }}
    teaching = {{ public = true, phi = false }}
    logs = {{ public = false, phi = false }}
  }}
}}
variable "ports" {{
  default = {{ dicom = 104, web = 443, orthanc = 8042 }}
}}
variable "sources" {{
  default = {{}}
}}
"""
EXAMPLE_TFVARS = """sources = {{ dicom = ["{cidr}"] }}
"""


def generate_modules(root: Path, files: int) -> None:
    (root / "modules" / "buckets").mkdir(parents=True)
    (root / "modules" / "buckets" / "main.tf").write_text(BUCKETS_MODULE)
    (root / "modules" / "network").mkdir(parents=True)
    (root / "modules" / "network" / "main.tf").write_text(NETWORK_MODULE)
    for i in range(max((files - 2) // 2, 1)):
        example = root / "examples" / f"e-{i:05d}"
        example.mkdir(parents=True)
        (example / "main.tf").write_text(EXAMPLE_MAIN.format())
        public = "true" if i % 3 == 0 else "false"
        (example / "variables.tf").write_text(EXAMPLE_VARIABLES.format(i=i, public=public))
        cidr = "0.0.0.0/0" if i % 5 == 0 else "10.1.0.0/16"
        (example / "terraform.tfvars").write_text(EXAMPLE_TFVARS.format(cidr=cidr))


def timed(command: list[str]) -> tuple[float, float, int]:
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def measure(shape: str, root: Path, tmp: Path, checkov: str | None) -> dict[str, object]:
    count = sum(1 for _ in root.rglob("*.tf"))
    report = tmp / f"{shape}.json"
    wall, rss, code = timed(
        [
            sys.executable,
            "-m",
            "cloudscan",
            "scan",
            "terraform",
            str(root),
            "--format",
            "json",
            "--output",
            str(report),
        ]
    )
    out: dict[str, object] = {
        "shape": shape,
        "tf_files": count,
        "exit_code": code,
        "wall_seconds": round(wall, 2),
        "peak_rss_mib": round(rss, 1),
        "resources": len(json.loads(report.read_text())["resources"]),
        "findings": len(json.loads(report.read_text())["findings"]),
    }
    if checkov:
        # Offline: no mapping download, no package scan; JSON to a file, exit 0 on findings.
        env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
        started = time.perf_counter()
        child = subprocess.Popen(
            [
                checkov,
                "-d",
                str(root),
                "--framework",
                "terraform",
                "-o",
                "json",
                "--skip-download",
                "--soft-fail",
                "--quiet",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        _, _, usage = os.wait4(child.pid, 0)
        out["checkov_wall_seconds"] = round(time.perf_counter() - started, 2)
        out["checkov_peak_rss_mib"] = round(usage.ru_maxrss / 1024, 1)
        out["speedup"] = round(float(out["checkov_wall_seconds"]) / max(wall, 1e-9), 1)
    return out


def main(files: int, checkov: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for shape, make in (("flat", generate), ("modules", generate_modules)):
            root = Path(tmp) / shape
            make(root, files)
            print(json.dumps(measure(shape, root, Path(tmp), checkov)))
    startup = min(timed([sys.executable, "-m", "cloudscan", "--version"])[0] for _ in range(5))
    print(json.dumps({"startup_seconds": round(startup, 3)}))


if __name__ == "__main__":
    arguments = sys.argv[1:]
    checkov_bin = None
    if "--checkov" in arguments:
        at = arguments.index("--checkov")
        checkov_bin = arguments[at + 1]
        del arguments[at : at + 2]
    main(int(arguments[0]) if arguments else 1000, checkov_bin)
