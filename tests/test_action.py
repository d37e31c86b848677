"""The GitHub Action (action.yml) run step by step the way a runner does: the composite's
`run` scripts with their `${{ }}` expressions filled in, GITHUB_WORKSPACE and GITHUB_OUTPUT set,
and `bash --noprofile --norc -eo pipefail` as the shell."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0.json").read_text())


def read_outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


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
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", fill(step["run"])],
        cwd=cwd,
        env=step_env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    """A fixture repository, a Python of its own (so the action's pip install touches nothing
    else), and the action's install step run once."""
    work = tmp_path_factory.mktemp("runner")
    repo = work / "repo"
    shutil.copytree(ROOT / "terraform-fixtures" / "public-pacs-export", repo / "infra" / "storage")
    shutil.copytree(ROOT / "terraform-fixtures" / "imaging-ports", repo / "infra" / "network")
    # A checkout, as actions/checkout leaves it: locations are relative to its root.
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    runner_temp = work / "runner-temp"
    runner_temp.mkdir()
    context = {"github.action_path": str(ROOT), "github.workspace": str(repo)}
    env = {
        **os.environ,
        "GITHUB_WORKSPACE": str(repo),
        "GITHUB_ACTION_PATH": str(ROOT),
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_OUTPUT": str(work / "install_output"),
    }
    (work / "install_output").write_text("")
    install, _ = ACTION["runs"]["steps"]
    done = run_step(install, {"python": sys.executable}, context, env)
    assert done.returncode == 0, done.stderr
    installed = read_outputs(work / "install_output")["python"]
    assert installed.startswith(str(runner_temp)), "cloudscan goes into a virtualenv of its own"
    context["steps.install.outputs.python"] = installed
    return repo, sys.executable, context, env


def scan(runner, tmp_path, **overrides):
    _, python, context, env = runner
    inputs = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    inputs.update(python=python, **overrides)
    output_file = tmp_path / "github_output"
    output_file.write_text("")
    done = run_step(ACTION["runs"]["steps"][1], inputs, context, {**env, "GITHUB_OUTPUT": str(output_file)})
    return done, read_outputs(output_file)


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
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in document["runs"][0]["results"]
    }
    assert uris == {"infra/storage/main.tf", "infra/network/main.tf"}


@pytest.mark.slow
def test_action_passes_below_the_threshold_and_honours_inputs(runner, tmp_path):
    repo = runner[0]
    policies = tmp_path / "org-policies"
    policies.mkdir()
    done, outputs = scan(
        runner,
        tmp_path,
        path="infra/storage",
        **{"fail-on": "none"},
        output="reports/cloudscan.json",
        format="json",
        policies=f"\n{policies}\n",
    )
    assert done.returncode == 0, done.stderr
    assert outputs["sarif-file"] == "reports/cloudscan.json"
    report = json.loads((repo / "reports" / "cloudscan.json").read_text())
    assert int(outputs["findings"]) == report["summary"]["results"]["FAIL"] > 0


@pytest.mark.slow
def test_action_passes_trusted_accounts_and_organizations_to_the_scan(runner, tmp_path):
    done, _ = scan(runner, tmp_path, path="infra", **{"organization-ids": "o-abcdef1234\nnot-an-org\n"})
    assert done.returncode == 2
    assert "not-an-org" in done.stderr
    given = {"organization-ids": "\no-abcdef1234\n", "trusted-accounts": "111122223333\n444455556666"}
    done, outputs = scan(runner, tmp_path, path="infra", **given)
    assert done.returncode == 1, done.stderr  # the same public bucket still fails
    assert int(outputs["findings"]) > 0


@pytest.mark.slow
def test_action_reports_a_bad_policy_as_a_configuration_error(runner, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.json").write_text("{")
    done, outputs = scan(runner, tmp_path, path="infra", policies=str(bad))
    assert done.returncode == 2
    assert "broken.json" in done.stderr
    assert outputs["findings"] == "0"


@pytest.mark.slow
def test_action_fails_closed_on_a_file_it_cannot_read(runner, tmp_path):
    """A pull request that adds a file cloudscan cannot parse (or a symlink to a device) does
    not go green, even with no finding at all: the file is an error alert in SARIF."""
    repo = runner[0]
    broken = repo / "pr"
    broken.mkdir()
    (broken / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "ok"\n}\n')
    (broken / "public.tf").write_text('resource "aws_s3_bucket_policy" "p" {\n  policy = [\n}\n')
    (broken / "zero.tf").symlink_to("/dev/zero")
    done, outputs = scan(runner, tmp_path, path="pr", **{"fail-on": "none"})
    assert done.returncode == 3, done.stderr
    assert outputs["findings"] == "0"
    document = json.loads((repo / "cloudscan.sarif").read_text())
    from jsonschema import validators

    assert not list(validators.validator_for(SCHEMA)(SCHEMA).iter_errors(document))
    alerts = [r for r in document["runs"][0]["results"] if r["ruleId"] == "cloudscan-unreadable-input"]
    where = {(a["level"], a["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for a in alerts}
    assert where == {("error", "pr/public.tf"), ("error", "pr/zero.tf")}

    done, _ = scan(runner, tmp_path, path="pr", **{"fail-on": "none", "on-unreadable": "warn"})
    assert done.returncode == 0, done.stderr
    document = json.loads((repo / "cloudscan.sarif").read_text())
    assert not document["runs"][0]["results"]
    notes = document["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert {"pr/public.tf", "pr/zero.tf"} <= {
        n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n in notes if "locations" in n
    }
    shutil.rmtree(broken)


def test_action_declares_the_documented_inputs_and_outputs():
    assert set(ACTION["inputs"]) >= {
        "path",
        "output",
        "fail-on",
        "policies",
        "format",
        "on-unreadable",
        "trusted-accounts",
        "organization-ids",
    }
    assert set(ACTION["outputs"]) == {"sarif-file", "findings"}
    assert ACTION["runs"]["using"] == "composite"
    assert sys.version_info >= (3, 11)


@pytest.mark.slow
def test_action_refuses_an_old_python(tmp_path):
    old = tmp_path / "python"
    old.write_text("#!/bin/sh\nexit 1\n")  # stands for a Python older than 3.11
    old.chmod(0o755)
    install, _ = ACTION["runs"]["steps"]
    output = tmp_path / "out"
    output.write_text("")
    env = {**os.environ, "RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(output)}
    done = run_step(
        install,
        {"python": str(old)},
        {"github.action_path": str(ROOT), "github.workspace": str(tmp_path)},
        env,
    )
    assert done.returncode == 2
    assert "needs Python 3.11 or newer" in done.stderr


@pytest.mark.slow
def test_action_honours_a_mute_file(runner, tmp_path):
    mutes = tmp_path / "mutes.json"
    accepted = {"policy": "*", "resource": "*", "reason": "test: all accepted"}
    mutes.write_text(json.dumps({"mutes": [accepted]}))
    done, outputs = scan(runner, tmp_path, path="infra", mute=str(mutes))
    assert done.returncode == 0, done.stderr
    assert outputs["findings"] == "0"
