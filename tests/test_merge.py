"""cloudscan merge: the shards of one scan put back together equal the scan run whole, and what
cannot be one scan is refused with the file and the reason. The README's GitHub Actions matrix
and Kubernetes Indexed Job give --shard values it accepts, one per shard."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import azure_world
import pytest
import yaml
from arm_fake import ArmFake, FakeCredential
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from cloudscan import __version__
from cloudscan.cli import cli
from cloudscan.model import load_schema, schema_registry
from cloudscan.shard import Shard

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
SHARDS = 4
SUBSCRIPTIONS = [f"00000000-0000-0000-0000-{n:012x}" for n in range(0xD1, 0xD1 + 12)]


def valid(report: dict) -> dict:
    validator = Draft202012Validator(load_schema("report"), registry=schema_registry())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(report)]
    assert not errors, errors[:3]
    return report


def run(*args: str) -> tuple[int, str]:
    outcome = CliRunner().invoke(cli, list(args))
    return outcome.exit_code, outcome.output


@pytest.fixture
def estate(monkeypatch):
    """Twelve Azure subscriptions in the local Resource Manager server, every other one with a
    storage account that lets containers be made public."""
    with ArmFake() as arm:
        for n, sub in enumerate(SUBSCRIPTIONS):
            world = azure_world.World(arm, subscription=sub)
            world.build(
                {"accounts": {f"pacs{n:02d}": {"allow_public": n % 2 == 0, "containers": {"studies": {}}}}}
            )
        monkeypatch.setattr(
            "cloudscan.providers.azure.clients.load_credential", lambda tenant=None: FakeCredential()
        )
        yield arm
        assert arm.violations == []


def scan_azure(arm: ArmFake, out: Path, *extra: str) -> dict:
    code, output = run(
        *("scan", "azure", "--arm-endpoint", arm.url, "--sample", "0", "--fail-on", "none"),
        *("--format", "json", "--output", str(out), *extra),
    )
    assert code == 0, output
    return valid(json.loads(out.read_text()))


def test_four_shards_merged_are_the_scan_run_whole(estate, tmp_path):
    whole = scan_azure(estate, tmp_path / "whole.json")
    shards = [
        scan_azure(estate, tmp_path / f"shard-{i}.json", "--shard", f"{i}/{SHARDS}") for i in range(1, 5)
    ]

    code, output = run(
        "merge", *(str(tmp_path / f"shard-{i}.json") for i in (3, 1, 4, 2)), "-o", str(tmp_path / "m.json")
    )

    assert code == 1, output  # the merge judges the whole estate: its FAILs fail it (--fail-on low)
    merged = valid(json.loads((tmp_path / "m.json").read_text()))
    # Each subscription was read by one shard only, and every one by some shard.
    read_by = [{r["account"] for r in shard["resources"]} for shard in shards]
    assert sum(len(accounts) for accounts in read_by) == len(SUBSCRIPTIONS) == len(set().union(*read_by))
    assert [s["scan"]["shard"] for s in shards] == [f"{i}/{SHARDS}" for i in range(1, 5)]

    def by(key: str, items: list[dict]) -> list[dict]:
        return sorted(items, key=lambda item: item[key])

    assert by("fingerprint", merged["findings"]) == by("fingerprint", whole["findings"])
    assert by("id", merged["resources"]) == by("id", whole["resources"])
    assert merged["summary"] == whole["summary"]
    assert merged["errors"] == whole["errors"] == []
    assert merged["scan"]["policies"] == whole["scan"]["policies"]
    assert merged["scan"]["source"] == "azure" and merged["scan"]["shard"] is None
    assert merged["scan"]["started_at"] == min(s["scan"]["started_at"] for s in shards)
    assert merged["scan"]["finished_at"] == max(s["scan"]["finished_at"] for s in shards)
    # In shard order, whatever order the files were given in.
    firsts = [s["resources"][0]["id"] for s in shards if s["resources"]]
    assert [r["id"] for r in merged["resources"] if r["id"] in firsts] == firsts


def test_a_missing_shard_is_an_error_of_the_merged_report_naming_it(estate, tmp_path):
    for i in (1, 2, 4):
        scan_azure(estate, tmp_path / f"shard-{i}.json", "--shard", f"{i}/{SHARDS}")
    files = [str(tmp_path / f"shard-{i}.json") for i in (1, 2, 4)]

    code, output = run("merge", *files, "-o", str(tmp_path / "m.json"), "--fail-on", "none", "--strict")

    assert code == 3, output  # incomplete
    merged = valid(json.loads((tmp_path / "m.json").read_text()))
    assert [(e["call"], e["code"], e["resource"]) for e in merged["errors"]] == [
        ("cloudscan:merge", "ShardMissing", "shard 3/4")
    ]
    assert merged["summary"]["errors"] == 1


def test_the_merged_report_is_written_in_any_format(estate, tmp_path):
    for i in range(1, 5):
        scan_azure(estate, tmp_path / f"shard-{i}.json", "--shard", f"{i}/{SHARDS}")
    files = [str(tmp_path / f"shard-{i}.json") for i in range(1, 5)]

    code, output = run(
        "merge", *files, "--format", "sarif", "--format", "html", "--output-dir", str(tmp_path / "out")
    )

    assert code == 1, output
    sarif = json.loads((tmp_path / "out" / "cloudscan.sarif").read_text())
    rules = {rule["id"] for rule in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert "azure-storage-account-no-public-access" in rules
    assert "pacs00" in (tmp_path / "out" / "cloudscan.html").read_text()


def test_a_merged_report_is_compared_with_a_baseline_as_a_scan_is(estate, tmp_path):
    scan_azure(estate, tmp_path / "before.json")
    for i in range(1, 5):
        scan_azure(estate, tmp_path / f"shard-{i}.json", "--shard", f"{i}/{SHARDS}")
    files = [str(tmp_path / f"shard-{i}.json") for i in range(1, 5)]

    code, output = run(
        "merge", *files, "-o", str(tmp_path / "m.json"), "--baseline", str(tmp_path / "before.json")
    )

    assert code == 0, output  # nothing new
    merged = json.loads((tmp_path / "m.json").read_text())
    assert merged["baseline"]["counts"]["new"] == 0 and merged["baseline"]["counts"]["unchanged"] > 0


# -- what cannot be merged ---------------------------------------------------------------------


@pytest.fixture
def report(tmp_path) -> dict:
    """A real report (of a Terraform fixture: no cloud needed) to alter."""
    out = tmp_path / "base.json"
    code, output = run(
        "scan",
        "terraform",
        str(ROOT / "terraform-fixtures" / "azure-storage"),
        "--format",
        "json",
        "-o",
        str(out),
    )
    assert code in (0, 1), output
    return json.loads(out.read_text())


def write(tmp_path: Path, name: str, report: dict, **scan: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps({**report, "scan": {**report["scan"], **scan}}))
    return str(path)


def shard_files(tmp_path: Path, report: dict, *shards: str) -> list[str]:
    return [write(tmp_path, f"s{n}.json", report, shard=shard) for n, shard in enumerate(shards)]


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda r: {**r, "tool": {**r["tool"], "version": "0.0.1"}}, 'was written by cloudscan "0.0.1"'),
        (lambda r: {**r, "scan": {**r["scan"], "source": "aws"}}, 'is a scan of "aws" and'),
        (
            lambda r: {**r, "scan": {**r["scan"], "policies": r["scan"]["policies"][1:]}},
            "ran different policies",
        ),
        (
            lambda r: {
                **r,
                "baseline": {
                    "file": "x",
                    "started_at": None,
                    "counts": dict.fromkeys(("new", "unchanged", "resolved", "unverified"), 0),
                    "resolved": [],
                    "unverified": [],
                },
            },
            "compared with a baseline",
        ),
        (lambda r: {**r, "findings": [{"fingerprint": "x"}]}, "is not as cloudscan writes it"),
        (lambda r: {**r, "scan": {**r["scan"], "started_at": "yesterday"}}, "is not a date and time"),
        (lambda r: {"tool": {"name": "trivy"}}, "is not a cloudscan JSON report"),
    ],
)
def test_reports_that_are_not_one_scan_are_refused_naming_the_file(report, tmp_path, change, said):
    first = write(tmp_path, "first.json", report)
    other = tmp_path / "other.json"
    other.write_text(json.dumps(change(report)))

    code, output = run("merge", first, str(other))

    assert code == 2, output
    assert said in output and ("other.json" in output or "first.json" in output)


@pytest.mark.parametrize(
    ("shards", "said"),
    [
        (("1/4", "1/4"), "shard 1/4 is given twice"),
        (("1/4", "2/3"), "split [3, 4] ways"),
        (("1/4", None), "is a whole scan and the others are shards"),
    ],
)
def test_shards_of_different_scans_or_twice_the_same_are_refused(report, tmp_path, shards, said):
    code, output = run("merge", *shard_files(tmp_path, report, *shards))

    assert code == 2, output
    assert said in output


def test_a_file_that_is_not_json_is_refused(tmp_path, report):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")

    code, output = run("merge", write(tmp_path, "good.json", report), str(bad))

    assert code == 2 and "is not JSON" in output


def test_policies_the_shards_ran_must_be_known_to_describe_them(report, tmp_path):
    code, output = run("merge", write(tmp_path, "a.json", report), "--no-builtin-policies")

    assert code == 2 and "give the --policies the shards were given" in output


def test_overlapping_reports_keep_each_resource_once_as_the_latest_scan_saw_it(report, tmp_path):
    older = write(
        tmp_path, "older.json", report, finished_at="2026-01-01T00:00:00Z", started_at="2026-01-01T00:00:00Z"
    )
    changed = json.loads(json.dumps(report))
    finding = changed["findings"][0]
    finding["title"] = "as the later scan saw it"
    newer = write(
        tmp_path, "newer.json", changed, finished_at="2026-02-01T00:00:00Z", started_at="2026-02-01T00:00:00Z"
    )

    code, output = run("merge", older, newer, "-o", str(tmp_path / "m.json"), "--fail-on", "none")

    assert code == 0, output
    merged = valid(json.loads((tmp_path / "m.json").read_text()))
    assert len(merged["findings"]) == len(report["findings"])
    assert len(merged["resources"]) == len(report["resources"])
    kept = next(f for f in merged["findings"] if f["fingerprint"] == finding["fingerprint"])
    assert kept["title"] == "as the later scan saw it"
    assert merged["scan"]["started_at"] == "2026-01-01T00:00:00Z"
    assert merged["scan"]["finished_at"] == "2026-02-01T00:00:00Z"
    assert merged["tool"]["version"] == __version__


# -- the README's worked examples ----------------------------------------------------------------


def yaml_blocks() -> list[dict]:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", README, re.S)]


def shard_given(args: list[str]) -> str:
    return args[args.index("--shard") + 1]


def test_the_github_actions_matrix_gives_every_shard_once():
    (workflow,) = [b for b in yaml_blocks() if "jobs" in b and "merge" in b["jobs"]]
    scan = workflow["jobs"]["scan"]
    matrix = scan["strategy"]["matrix"]["shard"]
    (command,) = [s["run"] for s in scan["steps"] if "cloudscan scan" in s.get("run", "")]

    given = [shard_given(command.replace("${{ matrix.shard }}", str(value)).split()) for value in matrix]

    shards = [Shard.parse(text) for text in given]
    assert sorted((s.index, s.count) for s in shards) == [(i, len(matrix)) for i in range(1, len(matrix) + 1)]
    merge_step = next(
        s["run"] for s in workflow["jobs"]["merge"]["steps"] if "cloudscan merge" in s.get("run", "")
    )
    assert "shard-*.json" in merge_step


def test_the_kubernetes_indexed_job_gives_every_shard_once(tmp_path):
    (job,) = [b for b in yaml_blocks() if b.get("kind") == "Job"]
    assert job["spec"]["completionMode"] == "Indexed"
    completions = job["spec"]["completions"]
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["sh", "-c"]
    # The pod's own shell runs the line; stand-ins for pip and cloudscan print what they are given.
    (tmp_path / "pip").write_text("#!/bin/sh\nexit 0\n")
    (tmp_path / "cloudscan").write_text('#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n')
    for name in ("pip", "cloudscan"):
        (tmp_path / name).chmod(0o755)

    given = []
    for index in range(completions):  # Kubernetes sets JOB_COMPLETION_INDEX from 0
        env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "JOB_COMPLETION_INDEX": str(index)}
        printed = subprocess.run(
            ["sh", "-c", container["args"][0]], env=env, capture_output=True, text=True, check=True
        )
        given.append(shard_given(printed.stdout.splitlines()))

    shards = [Shard.parse(text) for text in given]
    assert [(s.index, s.count) for s in shards] == [(i, completions) for i in range(1, completions + 1)]
    code, output = run("scan", "aws", "--organization", "--role-name", "r", "--shard", f"0/{completions}")
    assert code == 2 and "JOB_COMPLETION_INDEX + 1" in output  # the index as Kubernetes gives it is refused
