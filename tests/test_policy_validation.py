"""A malformed policy is refused with its file and JSON pointer, by validate and by scan (exit 2)."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cloudscan.cli import cli

GOOD = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "x-cloudscan": {
        "id": "org-archive-tagged",
        "title": "Imaging buckets carry a data classification tag",
        "severity": "low",
        "category": "data-protection",
        "applies_to": {"kind": "storage.bucket", "provider": ["aws"]},
        "description": "Our policy: every bucket says whether it holds PHI, so reviews can find them.",
        "remediation": {"text": "Tag the bucket with DataClassification."},
        "compliance": {"hipaa": ["164.308(a)(1)"]},
        "references": ["https://example.org/our-tagging-standard"],
    },
    "properties": {
        "labels": {
            "required": ["DataClassification"],
            "x-cloudscan-message": "The bucket has no DataClassification tag.",
        }
    },
}


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def variant(**changes):
    policy = json.loads(json.dumps(GOOD))
    for dotted, value in changes.items():
        node = policy
        *parents, last = dotted.split("__")
        for part in parents:
            node = node[part]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return policy


BAD = {
    "not-json": ('{"x-cloudscan": {', "", "not valid JSON"),
    "missing-severity": (
        variant(**{"x-cloudscan__severity": None}),
        "/x-cloudscan",
        "'severity' is a required property",
    ),
    "unknown-severity": (variant(**{"x-cloudscan__severity": "urgent"}), "/x-cloudscan/severity", "urgent"),
    "misspelt-field": (
        variant(properties={"exposure": {"properties": {"public_raed": {"const": False}}}}),
        "/properties/exposure/properties/public_raed",
        "is not a field of storage.bucket",
    ),
    "misspelt-required": (
        variant(properties={"encryption": {"required": ["enabeld"]}}),
        "/properties/encryption/required",
        "/encryption/enabeld is not a field",
    ),
    "not-a-schema": (variant(type="objekt"), "/type", "not a valid JSON Schema"),
    "unknown-kind": (
        variant(**{"x-cloudscan__applies_to": {"kind": "storage.buckets"}}),
        "/x-cloudscan/applies_to/kind",
        "storage.buckets",
    ),
}


def test_a_good_custom_policy_validates(tmp_path):
    write(tmp_path, "tagged.json", GOOD)
    result = CliRunner().invoke(cli, ["policies", "validate", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "policies valid" in result.output


def test_builtin_policies_validate():
    result = CliRunner().invoke(cli, ["policies", "validate"])
    assert result.exit_code == 0
    count = sum(1 for _ in (Path(__file__).parent.parent / "policies").rglob("*.json"))
    assert result.output.startswith(f"{count} policies valid")


@pytest.mark.parametrize("name", BAD)
@pytest.mark.parametrize("command", [["policies", "validate"], ["scan", "aws", "--policies"]])
def test_bad_policy_is_named_with_pointer_and_exit_2(name, command, tmp_path):
    content, pointer, message = BAD[name]
    path = write(tmp_path, f"{name}.json", content)
    result = CliRunner().invoke(cli, [*command, str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert f"{path}: {pointer or '/'}:" in result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_duplicate_id_names_both_files(tmp_path):
    write(tmp_path, "a.json", GOOD)
    second = write(tmp_path, "b.json", GOOD)
    result = CliRunner().invoke(cli, ["policies", "validate", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{second}: /x-cloudscan/id: id 'org-archive-tagged' is already used by" in result.output


def test_a_custom_policy_may_not_reuse_a_builtin_id(tmp_path):
    write(tmp_path, "clash.json", variant(**{"x-cloudscan__id": "storage-no-public-read"}))
    result = CliRunner().invoke(cli, ["policies", "validate", str(tmp_path)])
    assert result.exit_code == 2
    assert "already used by" in result.output


def test_missing_policy_directory(tmp_path):
    result = CliRunner().invoke(cli, ["policies", "list", "--policies", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "no such policy file or directory" in result.output


def test_every_shipped_policy_passes_the_checks_a_scan_skips_for_it():
    """A scan trusts the shipped policies (no meta-schema check on every run): this is that check."""
    from cloudscan.policyset import builtin_policies, load_policies

    assert len(load_policies([builtin_policies()], builtin=False)) == len(load_policies([]))
