"""The GitHub Action (action.yml) run step by step the way a runner does: the composite's
`run` scripts with their `${{ }}` expressions filled in, GITHUB_WORKSPACE and GITHUB_OUTPUT set,
and `bash --noprofile --norc -eo pipefail` as the shell."""

import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0.json").read_text())


def run_step(step, inputs, context, env):
    def fill(text):
        def value(match):
            expression = match.group(1).strip()
            if expression.startswith("inputs."):
                return inputs[expression.removeprefix("inputs.")]
            return context[expression]
        return re.sub(r"\$\{\{(.*?)\}\}", value, str(text))

    step_env = {**env, **{k: fill(v) for k, v in step.get("env", {}).items()}}
    cwd = fill(step.get("working-directory", context["github.workspace"]))
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", fill(step["run"])],
                          cwd=cwd, env=step_env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    """A fixture repository, a Python of its own (so the action's pip install touches nothing
    else), and the action's install step run once."""
    work = tmp_path_factory.mktemp("runner")
    repo = work / "repo"
    shutil.copytree(ROOT / "terraform-fixtures" / "public-pacs-export", repo / "infra" / "storage")
    shutil.copytree(ROOT / "terraform-fixtures" / "imaging-ports", repo / "infra" / "network")
    python_env = work / "python"
    venv.create(python_env, with_pip=True, system_site_packages=True)
    python = str(python_env / "bin" / "python")
    context = {"github.action_path": str(ROOT), "github.workspace": str(repo)}
    env = {**os.environ, "GITHUB_WORKSPACE": str(repo), "GITHUB_ACTION_PATH": str(ROOT)}
    install, _ = ACTION["runs"]["steps"]
    done = run_step(install, {"python": python}, context, env)
    assert done.returncode == 0, done.stderr
    return repo, python, context, env


def scan(runner, tmp_path, **overrides):
    _, python, context, env = runner
    inputs = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    inputs.update(python=python, **overrides)
    output_file = tmp_path / "github_output"
    output_file.write_text("")
    done = run_step(ACTION["runs"]["steps"][1], inputs, context, {**env, "GITHUB_OUTPUT": str(output_file)})
    outputs = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
    return done, outputs


@pytest.mark.slow
def test_action_fails_on_a_public_bucket_and_writes_sarif(runner, tmp_path):
    repo = runner[0]
    done, outputs = scan(runner, tmp_path, path="infra")
    assert done.returncode == 1, done.stderr  # a critical finding, default fail-on high
    assert outputs["sarif-file"] == "cloudscan.sarif"
    assert int(outputs["findings"]) > 0
    document = json.loads((repo / "cloudscan.sarif").read_text())
    from jsonschema import validators

    assert not list(validators.validator_for(SCHEMA)(SCHEMA).iter_errors(document))
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in document["runs"][0]["results"]}
    assert uris == {"infra/storage/main.tf", "infra/network/main.tf"}


@pytest.mark.slow
def test_action_passes_below_the_threshold_and_honours_inputs(runner, tmp_path):
    repo = runner[0]
    policies = tmp_path / "org-policies"
    policies.mkdir()
    done, outputs = scan(runner, tmp_path, path="infra/storage", **{"fail-on": "none"},
                         output="reports/cloudscan.json", format="json", policies=f"\n{policies}\n")
    assert done.returncode == 0, done.stderr
    assert outputs["sarif-file"] == "reports/cloudscan.json"
    report = json.loads((repo / "reports" / "cloudscan.json").read_text())
    assert int(outputs["findings"]) == report["summary"]["results"]["FAIL"] > 0


@pytest.mark.slow
def test_action_reports_a_bad_policy_as_a_configuration_error(runner, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.json").write_text("{")
    done, outputs = scan(runner, tmp_path, path="infra", policies=str(bad))
    assert done.returncode == 2
    assert "broken.json" in done.stderr
    assert outputs["findings"] == "0"


def test_action_declares_the_documented_inputs_and_outputs():
    assert set(ACTION["inputs"]) >= {"path", "output", "fail-on", "policies", "format"}
    assert set(ACTION["outputs"]) == {"sarif-file", "findings"}
    assert ACTION["runs"]["using"] == "composite"
    assert sys.version_info >= (3, 11)
