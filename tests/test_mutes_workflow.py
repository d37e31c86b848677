"""Accepted risks as a workflow: a mute file found at the repository root, entries with an owner
and a ticket, entries that mute nothing said aloud, and `cloudscan mutes check`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import aws_world
import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from cloudscan.cli import cli
from cloudscan.model import load_schema

ROOT = Path(__file__).parent.parent
LIST = "storage-no-public-list"


def run(where: Path, *args: str) -> tuple[int, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(where)
        outcome = CliRunner().invoke(cli, list(args))
    return outcome.exit_code, outcome.output


def repository(base: Path, mutes: list[dict]) -> Path:
    shutil.copytree(ROOT / "terraform-fixtures" / "public-pacs-export", base / "infra")
    subprocess.run(["git", "init", "-q", str(base)], check=True)
    (base / ".cloudscan").mkdir()
    (base / ".cloudscan" / "mutes.json").write_text(json.dumps({"mutes": mutes}))
    return base


def statuses(output: str) -> dict[tuple[str, str], str]:
    report = json.loads(output[output.index("{") : output.rindex("}") + 1])
    return {(f["resource"]["name"], f["policy_id"]): f["status"] for f in report["findings"]}


def test_the_repository_mute_file_is_found_wherever_the_scan_starts(tmp_path):
    mute = {"policy": LIST, "resource": "aws_s3_bucket.exports", "reason": "teaching set, reviewed"}
    repo = repository(tmp_path / "repo", [mute])

    for where, path in ((repo, "infra"), (repo / "infra", "."), (tmp_path, "repo/infra")):
        code, output = run(where, "scan", "terraform", path, "--format", "json", "--fail-on", "none")
        assert code == 0, output
        assert "cloudscan: accepted risks from " in output
        assert {s for (_, p), s in statuses(output).items() if p == LIST} == {"MUTED"}

    other = tmp_path / "none.json"
    other.write_text(json.dumps({"mutes": []}))
    _, output = run(repo, "scan", "terraform", "infra", "--format", "json", "--mute", str(other))
    assert "MUTED" not in statuses(output).values()  # --mute names the file to use instead


def test_a_live_scan_reads_the_mute_file_of_its_working_directory(aws, tmp_path):
    aws_world.build({"buckets": {"teaching": {"acl": "public-read"}, "exports": {"acl": "public-read"}}})
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    repo = repository(
        tmp_path / "repo",
        [
            {
                "policy": LIST,
                "resource": "teaching",
                "reason": "de-identified teaching set",
                "owner": "imaging",
            },
            {"policy": LIST, "resource": "exports", "reason": "vendor handover window", "until": yesterday},
        ],
    )

    code, output = run(repo, "scan", "aws", "--region", "us-east-1", "--sample", "0", "--format", "json")

    found = statuses(output)
    assert found[("teaching", LIST)] == "MUTED"
    assert found[("exports", LIST)] == "FAIL"  # its entry ended yesterday
    assert f"/mutes/1 ({LIST} on exports) ended on {yesterday}: it mutes nothing" in output
    assert code == 1


def test_mutes_check_lists_what_mutes_nothing(tmp_path):
    report = tmp_path / "report.json"
    code, _ = run(
        ROOT,
        "scan",
        "terraform",
        "terraform-fixtures/public-pacs-export",
        "--format",
        "json",
        "-o",
        str(report),
    )
    mutes = tmp_path / "mutes.json"
    entries = [
        {"policy": LIST, "resource": "aws_s3_bucket.exports", "reason": "reviewed", "ticket": "SEC-1"},
        {"policy": LIST, "resource": "aws_s3_bucket.deleted_long_ago", "reason": "was the old export"},
        {"policy": "storage-*", "resource": "*", "reason": "until the migration", "until": "2021-03-01"},
        {"policy": LIST, "resource": "x", "reason": "no", "owner": ""},
    ]
    mutes.write_text(json.dumps({"mutes": entries}))

    code, output = run(tmp_path, "mutes", "check", str(mutes), "--report", str(report))

    assert code == 1
    lines = [line for line in output.splitlines() if line.startswith(str(mutes))]
    assert [re.sub(r"^.*?: /mutes/(\d+).*$", r"\1", line) for line in lines] == ["3", "2", "1"]
    assert "matches no finding of" in lines[2] and "ended on 2021-03-01" in lines[1]
    assert "cloudscan: 4 entries, 3 to fix" in output

    mutes.write_text(json.dumps({"mutes": entries[:1]}))
    assert run(tmp_path, "mutes", "check", str(mutes), "--report", str(report))[0] == 0
    mutes.write_text("{not json")
    assert run(tmp_path, "mutes", "check", str(mutes))[0] == 2


def test_the_shipped_schema_takes_the_readme_example_and_owner_and_ticket():
    readme = (ROOT / "README.md").read_text()
    example = json.loads(re.search(r'```json\n(\{"mutes": \[.*?\]\})\n```', readme, re.S)[1])
    validator = Draft202012Validator(load_schema("mutes"))
    assert not list(validator.iter_errors(example))
    assert any("owner" in m and "ticket" in m for m in example["mutes"])
