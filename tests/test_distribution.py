"""A user who installs the wheel gets the same checks and policies as a checkout."""

import json
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the sources: a build writes build/ and *.egg-info beside them, and
    a test must not leave anything in the checkout."""
    dist = tmp_path_factory.mktemp("dist")
    source = tmp_path_factory.mktemp("source") / "cloudscan"
    skipped = shutil.ignore_patterns(
        ".git",
        "build",
        "dist",
        "*.egg-info",
        "__pycache__",
        ".hypothesis",
        "tests",
        "terraform-fixtures",
        "benchmarks",
        ".ruff_cache",
        ".mypy_cache",
    )
    shutil.copytree(ROOT, source, ignore=skipped)
    before = sorted(p.name for p in ROOT.iterdir())
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)],
        check=True,
        timeout=600,
    )
    assert sorted(p.name for p in ROOT.iterdir()) == before, "building wrote into the checkout"
    (built,) = dist.glob("cloudscan-*.whl")
    return built


@pytest.mark.slow
def test_wheel_carries_checks_policies_and_schemas(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    policies = {p.relative_to(ROOT / "policies").as_posix() for p in (ROOT / "policies").rglob("*.json")}
    assert {f"cloudscan/policies/{p}" for p in policies} <= names
    checks = {p.name for p in (ROOT / "checks").glob("*.py")}
    assert {f"cloudscan/checks/{c}" for c in checks} <= names
    assert "cloudscan/schemas/storage.bucket.json" in names
    assets = {p.relative_to(ROOT).as_posix() for p in (ROOT / "cloudscan" / "report" / "assets").iterdir()}
    assert assets and assets <= names, "the HTML report's style and script"
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "cloudscan").rglob("*.py")}
    assert modules <= names, sorted(modules - names)


@pytest.mark.slow
def test_installed_wheel_scans_in_a_clean_virtualenv(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / ("Scripts" if sys.platform == "win32" else "bin")
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", f"{wheel}[demo]"], check=True, timeout=900
    )
    cloudscan = str(bin_dir / "cloudscan")

    listed = subprocess.run(
        [cloudscan, "policies", "validate"], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert listed.returncode == 0, listed.stderr
    count = sum(1 for _ in (ROOT / "policies").rglob("*.json"))
    assert listed.stdout.startswith(f"{count} policies valid")

    demo = subprocess.run(
        [cloudscan, "demo", "--format", "json"], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert demo.returncode == 0, demo.stderr
    report = json.loads(demo.stdout)
    status = {(f["policy_id"], f["resource"]["name"]): f["status"] for f in report["findings"]}
    assert status["storage-no-public-identifiable-imaging", "radiology-pacs-exports"] == "FAIL"
    assert status["storage-no-public-list", "ct-research-deidentified"] == "PASS"

    page = subprocess.run(
        [cloudscan, "demo", "--format", "html"], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert page.returncode == 0, page.stderr
    assert page.stdout.startswith("<!DOCTYPE html>") and "radiology-pacs-exports" in page.stdout
