"""cloudscan's bucket-settings sources side by side on one moto_server and one local AWS Config
with the same N buckets: the S3 API, each account's own Config (--source inventory), and a
Config aggregator (--config-aggregator), runs alternated so that none always goes first.

    python benchmarks/inventory_side_by_side.py 200 1000 [--runs 2] [-- CLOUDSCAN OPTIONS]

The buckets are filled and recorded once per size (aws_scan.fill and aws_scan.recordings).
Prints one JSON line per run (wall and CPU time, the scanner's own peak RSS, requests per bucket
by call) and one line of medians per source and size. A benchmark, not a test: nothing here
asserts.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from aws_scan import cloudscan_command, cloudscan_findings, fill, measure, recordings, start_moto, stop

AGGREGATOR = "bench-organisation"
SOURCES = {
    "api": ["--source", "api"],
    "inventory": ["--source", "inventory"],
    "aggregator": ["--source", "inventory", "--config-aggregator", AGGREGATOR],
}


def side_by_side(n: int, runs: int, extra: list[str]) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "moto.log"
        proc, url = start_moto(log)
        try:
            fill(url, n)
            with recordings(url, n, SOURCES["aggregator"]) as config:
                for run in range(runs):
                    order = list(SOURCES) if run % 2 == 0 else list(reversed(SOURCES))
                    for source in order:
                        report = Path(tmp) / f"{source}-{run}.json"
                        command = cloudscan_command(report, [*SOURCES[source], *extra])
                        measured = measure(command, url, log, n, config if source != "api" else None)
                        line = {"source": source, "buckets": n, "run": run + 1, **measured}
                        print(json.dumps({**line, **cloudscan_findings(report)}), flush=True)
                        results.append(line)
        finally:
            stop(proc)
    for source in SOURCES:
        mine = [r for r in results if r["source"] == source]
        summary = {
            "source": source,
            "buckets": n,
            "runs": len(mine),
            "median_wall_seconds": round(statistics.median(r["wall_seconds"] for r in mine), 2),
            "median_cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in mine), 2),
            "median_peak_rss_mib": round(statistics.median(r["peak_rss_mib"] for r in mine), 1),
            "requests_per_bucket": round(sum(mine[-1]["by_call"].values()), 2),
        }
        print(json.dumps({"summary": summary}), flush=True)
    return results


def main() -> None:
    args = sys.argv[1:]
    args, extra = (args[: args.index("--")], args[args.index("--") + 1 :]) if "--" in args else (args, [])
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sizes", nargs="*", type=int, default=[200])
    parser.add_argument("--runs", type=int, default=2, help="runs of each source per size (alternated)")
    options = parser.parse_args(args)
    for n in options.sizes:
        side_by_side(n, options.runs, extra)


if __name__ == "__main__":
    main()
