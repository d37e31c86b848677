"""A finding's fingerprint names the same problem however the scan was started: ids of
file-based resources are relative to the repository root (or, outside one, to the scan root),
never to the working directory, the path typed or the machine."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cloudscan.cli import cli

ROOT = Path(__file__).parent.parent
FIXTURES = ("public-pacs-export", "imaging-ports", "dicom-stores", "azure-nsg-paths")


def tree(base: Path, *, repository: bool) -> Path:
    """base/infra/<fixture>/... as a checkout (or a plain directory)."""
    for name in FIXTURES:
        shutil.copytree(ROOT / "terraform-fixtures" / name, base / "infra" / name, ignore=_no_expected)
    if repository:
        subprocess.run(["git", "init", "-q", str(base)], check=True)
    return base


def _no_expected(directory: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "expected.json"]


def findings(where: Path, *args: str, fmt: str = "json") -> dict:
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(where)
        outcome = runner.invoke(cli, ["scan", "terraform", *args, "--format", fmt, "--fail-on", "none"])
    assert outcome.exit_code == 0, outcome.output
    return json.loads(outcome.output[: outcome.output.rindex("}") + 1])


def prints(report: dict) -> dict[str, str]:
    """fingerprint -> resource id, of every finding."""
    return {f["fingerprint"]: f["resource"]["id"] for f in report["findings"]}


def test_the_path_typed_and_the_working_directory_change_nothing_in_a_repository(tmp_path):
    repo = tree(tmp_path / "repo", repository=True)

    from_root = prints(findings(repo, "infra"))
    from_infra = prints(findings(repo / "infra", "."))
    from_outside = prints(findings(tmp_path, "repo/infra"))
    from_a_module = prints(findings(repo / "infra" / "dicom-stores", "..", "../../infra"))

    assert len(from_root) > 50
    assert from_infra == from_root == from_outside == from_a_module
    # Ids start at the repository root, whatever was typed.
    assert all(i.startswith("infra/") for i in from_root.values())


def test_outside_a_repository_ids_start_at_the_scan_root(tmp_path):
    plain = tree(tmp_path / "plain", repository=False)

    typed = prints(findings(tmp_path, "plain/infra"))
    inside = prints(findings(plain / "infra", "."))

    assert typed == inside
    assert any(i.startswith("dicom-stores/") for i in typed.values())


def test_another_machine_and_a_second_run_give_the_same_fingerprints(tmp_path):
    one = tree(tmp_path / "laptop" / "src" / "pacs", repository=True)
    other = tree(tmp_path / "runner" / "work" / "pacs" / "pacs", repository=True)

    first = prints(findings(one, str(one / "infra")))
    again = prints(findings(one, str(one / "infra")))
    elsewhere = prints(findings(tmp_path, str(other / "infra")))

    assert first == again == elsewhere


def test_order_and_unrelated_resources_change_no_fingerprint(tmp_path):
    repo = tree(tmp_path / "repo", repository=True)
    before = prints(findings(repo, "infra"))
    main = repo / "infra" / "public-pacs-export" / "main.tf"
    blocks = main.read_text().split("\nresource ")
    main.write_text("\nresource ".join([blocks[0], *reversed(blocks[1:])]) + "\n")
    (repo / "infra" / "new").mkdir()
    (repo / "infra" / "new" / "main.tf").write_text(
        'resource "aws_s3_bucket" "scratch" {\n  bucket = "scratch"\n}\n'
        'resource "aws_s3_bucket_acl" "scratch" {\n  bucket = aws_s3_bucket.scratch.id\n'
        '  acl    = "public-read"\n}\n'
    )

    after = prints(findings(repo, "infra"))

    assert before.items() <= after.items()
    assert any(i.startswith("infra/new/") for i in after.values())


def test_sarif_carries_the_fingerprints_of_the_json_report(tmp_path):
    repo = tree(tmp_path / "repo", repository=True)

    report = findings(repo, "infra")
    sarif = findings(repo / "infra", ".", fmt="sarif")

    failed = {f["fingerprint"] for f in report["findings"] if f["status"] == "FAIL"}
    results = sarif["runs"][0]["results"]
    in_sarif = {r["partialFingerprints"]["cloudscan/v1"] for r in results if "ruleIndex" in r}
    assert failed and failed <= in_sarif
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert all(u.startswith("infra/") for u in uris)


def test_a_module_not_read_is_named_at_its_file_from_any_working_directory(tmp_path):
    repo = tree(tmp_path / "checkout", repository=True)
    (repo / "infra" / "vpc.tf").write_text('module "vpc" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for where, path in ((repo, "infra"), (elsewhere, str(repo / "infra"))):
        report = findings(where, path)
        named = {e["resource"] for e in report["errors"] if e["code"] == "ModuleNotRead"}
        assert named == {"infra/vpc.tf:1"}, where
