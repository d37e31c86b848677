"""Time `cloudscan scan aws` against moto_server with N buckets of mixed settings.

    python benchmarks/aws_scan.py 200 1000 [-- EXTRA CLI OPTIONS]
    python benchmarks/aws_scan.py 1000 -- --source inventory [--config-aggregator org-imaging]

Starts moto_server on a free loopback port, fills it, runs the CLI in a child process with
AWS_ENDPOINT_URL, and prints wall time, the scan's peak RSS, and the requests it made per
bucket, by S3 call (read from moto_server's request log, so only what reached the server
counts: a retry counts again); S3 Control's access point calls count with the buckets they are
made for, the CloudFront requests are per account. Some buckets hold objects (one of them
public-read) and some have access points, so the object-ACL and access point reads show. With
`--source inventory|auto`, the buckets are also recorded into the tests' local AWS Config
(tests/config_fake.py: what moto_server's S3 answers, in Config's item shape, and an aggregator
of that name when `--config-aggregator` is given), the scan reaches it through
AWS_ENDPOINT_URL_CONFIG_SERVICE, and its requests are counted by call too. A benchmark, not a
test: nothing here asserts.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3

REQUEST_LINE = re.compile(r'"(GET|HEAD|PUT|POST|DELETE) (\S+) HTTP')
# The query parameter that names the S3 call of a path-style request on a bucket.
SUBRESOURCES = {
    "location": "GetBucketLocation",
    "publicAccessBlock": "GetPublicAccessBlock",
    "ownershipControls": "GetBucketOwnershipControls",
    "acl": "GetBucketAcl",
    "policy": "GetBucketPolicy",
    "policyStatus": "GetBucketPolicyStatus",
    "encryption": "GetBucketEncryption",
    "versioning": "GetBucketVersioning",
    "object-lock": "GetObjectLockConfiguration",
    "logging": "GetBucketLogging",
    "tagging": "GetBucketTagging",
    "list-type": "ListObjectsV2",
    "cors": "GetBucketCors",
    "website": "GetBucketWebsite",
    "lifecycle": "GetBucketLifecycleConfiguration",
    "replication": "GetBucketReplication",
    "notification": "GetBucketNotificationConfiguration",
    "requestPayment": "GetBucketRequestPayment",
    "accelerate": "GetBucketAccelerateConfiguration",
    "analytics": "ListBucketAnalyticsConfigurations",
    "inventory": "ListBucketInventoryConfigurations",
    "metrics": "ListBucketMetricsConfigurations",
    "intelligent-tiering": "ListBucketIntelligentTieringConfigurations",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}
    moto = Path(sys.executable).with_name("moto_server")
    command = [str(moto)] if moto.exists() else [sys.executable, "-m", "moto.server"]
    proc = subprocess.Popen(
        [*command, "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log_path.open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto_server did not start")


def fill(url: str, n: int) -> None:
    session = boto3.Session(aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=url)
    s3control = session.client("s3control", endpoint_url=url)
    # S3 Control puts the account id in front of the host, which does not resolve here.
    s3control.meta.events.register("before-sign.s3-control.*", _strip_account_prefix)
    for i in range(n):
        name = f"bench-{i:05d}"
        s3.create_bucket(Bucket=name, ACL="public-read" if i % 3 == 0 else "private")
        if i % 4 == 1:  # objects to sample, in buckets whose ACLs apply (no Block Public Access)
            for key in ("1.2.3.4.1.dcm", "1.2.3.4.2.dcm"):
                acl = "public-read" if i % 8 == 1 and key.endswith("1.dcm") else "private"
                s3.put_object(Bucket=name, Key=key, Body=b"\0" * 128 + b"DICM", ACL=acl)
        if i % 10 == 0:  # an access point, with a policy on every other one
            s3control.create_access_point(AccountId=ACCOUNT, Name=f"ap-{i:05d}", Bucket=name)
            if i % 20 == 0:
                s3control.put_access_point_policy(
                    AccountId=ACCOUNT, Name=f"ap-{i:05d}", Policy=json.dumps(ACCESS_POINT_POLICY)
                )
        if i % 4 == 0:
            s3.put_bucket_policy(
                Bucket=name,
                Policy=json.dumps(
                    {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": "*",
                                "Action": "s3:GetObject",
                                "Resource": f"arn:aws:s3:::{name}/*",
                            }
                        ]
                    }
                ),
            )
        if i % 5 == 0:
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
            )
        if i % 7 == 0:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        if i % 2 == 0:
            s3.put_public_access_block(
                Bucket=name,
                PublicAccessBlockConfiguration=dict.fromkeys(
                    ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"),
                    True,
                ),
            )
    ec2 = session.client("ec2", endpoint_url=url)
    group = ec2.create_security_group(GroupName="bench-pacs", Description="bench")["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 104, "ToPort": 104, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )


ACCOUNT = "123456789012"  # moto's
ACCESS_POINT_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "s3:GetObject", "Resource": "*"}
    ],
}


def _strip_account_prefix(request, **_) -> None:
    request.url = re.sub(r"^(https?://)\d{12}\.", r"\1", request.url)


def s3_call(method: str, path: str) -> str | None:
    """The S3 call of a request on a bench bucket (S3 Control's access point calls count with
    the buckets, as they are made for them), or None for a request on no bucket."""
    if path.startswith("/v20180820/mrap/instances"):
        return "GetMultiRegionAccessPointPolicy" if "/policy" in path else "ListMultiRegionAccessPoints"
    if path.startswith("/v20180820/accesspoint"):
        resource = path.partition("?")[0].rstrip("/")
        parts = resource.split("/")[3:]  # after /v20180820/accesspoint
        return (
            "ListAccessPoints" if not parts else ("GetAccessPointPolicy" if parts[1:] else "GetAccessPoint")
        )
    if not path.startswith("/bench-"):
        return None
    resource, _, query = path.partition("?")
    keys = [part.partition("=")[0] for part in query.split("&") if part]
    for key in keys:
        if key == "acl" and resource.count("/") > 1:  # /bucket/key?acl
            return "GetObjectAcl"
        if key in SUBRESOURCES:
            return SUBRESOURCES[key]
    if resource.count("/") > 1:  # /bucket/key
        return {"GET": "GetObject", "HEAD": "HeadObject"}.get(method, f"{method} object")
    return {"GET": "ListObjects", "HEAD": "HeadBucket"}.get(method, f"{method} bucket")


def calls_per_bucket(lines: list[str], n: int) -> dict[str, float]:
    """Requests on buckets per bucket, by call, most frequent first."""
    counts: Counter[str] = Counter()
    for match in filter(None, map(REQUEST_LINE.search, lines)):
        call = s3_call(match.group(1), match.group(2))
        if call is not None:
            counts[call] += 1
    return {call: round(count / n, 2) for call, count in counts.most_common()}


def cloudfront_requests(lines: list[str]) -> int:
    return sum(1 for m in filter(None, map(REQUEST_LINE.search, lines)) if "/distribution" in m.group(2))


def scan_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


# Runs a command from a small process of its own and reports its peak RSS and wall time. The
# ru_maxrss of a child also counts the process it was forked from (Linux keeps the high-water
# mark across exec): forked from this script, which holds boto3 and the request log, a small scan
# would show this script's size instead of its own.
SPAWN = """
import json, os, sys, time
started = time.perf_counter()
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
out = {"exit_code": os.waitstatus_to_exitcode(status), "wall": wall, "maxrss_kib": usage.ru_maxrss,
       "cpu": usage.ru_utime + usage.ru_stime}
open(sys.argv[1], "w").write(json.dumps(out))
"""


def option(extra: list[str], name: str) -> str | None:
    """The value of a CLI option among `extra` (`--name value` or `--name=value`)."""
    for i, arg in enumerate(extra):
        if arg == name and i + 1 < len(extra):
            return extra[i + 1]
        if arg.startswith(name + "="):
            return arg.partition("=")[2]
    return None


@contextmanager
def recordings(url: str, n: int, extra: list[str]) -> Iterator[Any]:
    """The tests' local AWS Config holding every bench bucket as moto_server's S3 answers now,
    when `extra` asks for the inventory source; None otherwise."""
    if option(extra, "--source") not in ("inventory", "auto"):
        yield None
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from config_fake import ConfigFake, recorded_item

    session = boto3.Session(aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=url)
    account = session.client("sts", endpoint_url=url).get_caller_identity()["Account"]
    with ConfigFake() as fake:
        aggregator = option(extra, "--config-aggregator")
        if aggregator:
            fake.aggregators[aggregator] = option(extra, "--config-aggregator-region") or "us-east-1"

        def record(name: str) -> None:
            fake.items["us-east-1", name] = recorded_item(s3, name, "us-east-1", account)

        with ThreadPoolExecutor(8) as pool:  # setup, not measured: only sooner
            list(pool.map(record, [f"bench-{i:05d}" for i in range(n)]))
        yield fake


def measure(command: list[str], url: str, log: Path, n: int, config: Any = None) -> dict:
    """Run one scanner as a child process against moto_server at `url`, with `log` its request
    log (and `config` the local AWS Config, if any): wall time, the scanner's own peak RSS (not
    moto's, not this script's), and the requests it made, all of them and per bucket by call."""
    offset = log.stat().st_size
    env = scan_env(url)
    if config is not None:
        env["AWS_ENDPOINT_URL_CONFIG_SERVICE"] = config.url
        config.requests.clear()
    with tempfile.NamedTemporaryFile("r", suffix=".json") as said:
        subprocess.run(
            [sys.executable, "-c", SPAWN, said.name, *command],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        run = json.loads(Path(said.name).read_text())
    time.sleep(0.5)  # let moto_server flush its request log
    with log.open() as f:
        f.seek(offset)
        lines = f.read().splitlines()
    by_call = calls_per_bucket(lines, n)
    measured = {
        "exit_code": run["exit_code"],
        "wall_seconds": round(run["wall"], 2),
        # On a loaded machine the scanner's own CPU time says more than its wall time.
        "cpu_seconds": round(run["cpu"], 2),
        "peak_rss_mib": round(run["maxrss_kib"] / 1024, 1),
        "requests": sum(1 for line in lines if REQUEST_LINE.search(line)),
        "s3_requests_per_bucket": round(sum(by_call.values()), 2),
        "by_call": by_call,
        # Per account, not per bucket: the distributions that may serve buckets.
        "cloudfront_requests": cloudfront_requests(lines),
    }
    if config is not None:
        asked = Counter(f"config:{operation}" for operation, _, _ in config.requests)
        measured["config_requests"] = sum(asked.values())
        measured["by_call"].update({call: round(count / n, 3) for call, count in asked.most_common()})
    return measured


def cloudscan_command(report: Path, extra: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "cloudscan",
        "scan",
        "aws",
        "--region",
        "us-east-1",
        "--format",
        "json",
        "--output",
        str(report),
        *extra,
    ]


def cloudscan_findings(report: Path) -> dict:
    document = json.loads(report.read_text())
    return {"findings": len(document["findings"]), "errors": document["summary"]["errors"]}


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def bench(n: int, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        log, report = Path(tmp) / "moto.log", Path(tmp) / "report.json"
        proc, url = start_moto(log)
        try:
            fill(url, n)
            with recordings(url, n, extra) as config:
                measured = measure(cloudscan_command(report, extra), url, log, n, config)
        finally:
            stop(proc)
        return {"buckets": n, **measured, **cloudscan_findings(report)}


if __name__ == "__main__":
    args = sys.argv[1:]
    sizes, extra = (args[: args.index("--")], args[args.index("--") + 1 :]) if "--" in args else (args, [])
    for size in [int(a) for a in sizes] or [200]:
        print(json.dumps(bench(size, extra)), flush=True)
