"""cloudscan and Prowler's S3 and EC2 checks side by side, on one moto_server with the same N
buckets (benchmarks/aws_scan.py fills it), runs alternated so that neither always goes first.

    python -m venv /work/prowler-venv && /work/prowler-venv/bin/pip install prowler
    python benchmarks/prowler_side_by_side.py 200 1000 [--runs 3] [--prowler PATH] [-- CLOUDSCAN OPTIONS]

Prowler reaches moto through AWS_ENDPOINT_URL (its boto3 honours it; Prowler has no endpoint
option of its own), limited to us-east-1 like cloudscan's --region. moto_server runs with
MOTO_EC2_LOAD_DEFAULT_AMIS=false, without which Prowler's EC2 checks load every default AMI.
Prints one JSON line per run (wall time, the scanner's own peak RSS, requests and S3 requests
per bucket by call, as moto_server logged them) and one line of medians per scanner and size.
With `-- --source inventory` (and `--config-aggregator NAME`), cloudscan reads bucket settings
from the tests' local AWS Config, fed from the same moto data (aws_scan.recordings).
A benchmark, not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import statistics
import sys
import tempfile
from pathlib import Path

from aws_scan import cloudscan_command, cloudscan_findings, fill, measure, recordings, start_moto, stop

DEFAULT_PROWLER = "/work/prowler-venv/bin/prowler"


def prowler_command(out: Path, prowler: str) -> list[str]:
    return [
        prowler,
        "aws",
        "--service",
        "s3",
        "ec2",
        "--region",
        "us-east-1",
        "--output-formats",
        "csv",
        "--output-directory",
        str(out),
        "--no-banner",
        "--ignore-exit-code-3",  # findings that fail are no failure of the run
    ]


def prowler_findings(out: Path) -> dict:
    rows = []
    for path in out.glob("*.csv"):
        with path.open(newline="") as f:
            rows += list(csv.DictReader(f, delimiter=";"))
    return {
        "findings": len(rows),
        "failed": sum(1 for r in rows if r.get("STATUS") == "FAIL"),
        "checks": len({r.get("CHECK_ID") for r in rows}),
    }


def side_by_side(n: int, runs: int, prowler: str, extra: list[str]) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        log = Path(tmp) / "moto.log"
        proc, url = start_moto(log)
        try:
            fill(url, n)
            # With `-- --source inventory`, cloudscan reads from a local AWS Config fed from moto.
            config = stack.enter_context(recordings(url, n, extra))
            for run in range(runs):
                order = ["cloudscan", "prowler"] if run % 2 == 0 else ["prowler", "cloudscan"]
                for tool in order:
                    where = Path(tmp) / f"{tool}-{run}"
                    where.mkdir()
                    if tool == "cloudscan":
                        report = where / "report.json"
                        measured = measure(cloudscan_command(report, extra), url, log, n, config)
                        found = cloudscan_findings(report)
                    else:
                        measured = measure(prowler_command(where, prowler), url, log, n)
                        found = prowler_findings(where)
                    line = {"tool": tool, "buckets": n, "run": run + 1, **measured, **found}
                    print(json.dumps(line), flush=True)
                    results.append(line)
        finally:
            stop(proc)
    for tool in ("cloudscan", "prowler"):
        mine = [r for r in results if r["tool"] == tool]
        summary = {
            "tool": tool,
            "buckets": n,
            "runs": len(mine),
            "median_wall_seconds": round(statistics.median(r["wall_seconds"] for r in mine), 2),
            "median_peak_rss_mib": round(statistics.median(r["peak_rss_mib"] for r in mine), 1),
            "s3_requests_per_bucket": mine[-1]["s3_requests_per_bucket"],
            "requests": mine[-1]["requests"],
        }
        print(json.dumps({"summary": summary}), flush=True)
    return results


def main() -> None:
    args = sys.argv[1:]
    args, extra = (args[: args.index("--")], args[args.index("--") + 1 :]) if "--" in args else (args, [])
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("sizes", nargs="*", type=int, default=[200])
    parser.add_argument("--runs", type=int, default=3, help="runs of each scanner per size (alternated)")
    parser.add_argument("--prowler", default=DEFAULT_PROWLER, help="the prowler command of its own venv")
    options = parser.parse_args(args)
    for n in options.sizes:
        side_by_side(n, options.runs, options.prowler, extra)


if __name__ == "__main__":
    main()
