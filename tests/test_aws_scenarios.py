"""Every policy, failing and passing, against an account that moto really holds.

Each file in scenarios/aws/ says what is built and which status each policy must give, and
may say which calls AWS refuses ("refuse": {"organizations:DescribeOrganization": "AccessDenied"})
and the scan's options ("trusted_accounts", "organization_ids").
"""

import json
from pathlib import Path

import aws_world
import pytest
from judged import statuses_by_name

from cloudscan.scan import scan_aws

SCENARIOS = sorted((Path(__file__).parent / "scenarios" / "aws").glob("*.json"))


def load(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(path, guard, builtin_policies):
    scenario = load(path)
    aws_world.build(scenario["spec"])
    for call, code in scenario.get("refuse", {}).items():
        service, _, operation = call.partition(":")
        guard.fail[service, operation] = code

    result = scan_aws(
        guard.session(),
        builtin_policies,
        regions=(aws_world.REGION,),
        trusted_accounts=scenario.get("trusted_accounts", ()),
        organization_ids=scenario.get("organization_ids", ()),
    )

    found = statuses_by_name(result)
    for resource, expected in scenario["expect"].items():
        assert resource in found, f"{resource} was not scanned; scanned: {sorted(found)}"
        actual = {policy: found[resource].get(policy) for policy in expected}
        assert actual == expected, f"{path.stem}: {resource}"
    assert result.errors == []


def test_every_aws_policy_has_a_failing_and_a_passing_scenario(builtin_policies):
    live_kinds = {
        "storage.account",
        "storage.bucket",
        "network.ingress",
        "storage.snapshot",
    }  # the AWS adapter
    # These judge the objects in a bucket: tests/test_imaging_data.py uploads real DICOM to moto.
    by_content = {"storage-no-public-identifiable-imaging", "storage-no-public-deidentified-imaging"}
    aws = [
        p
        for p in builtin_policies
        if (p.providers is None or "aws" in p.providers) and p.kind in live_kinds and p.id not in by_content
    ]
    seen: dict[str, set[str]] = {p.id: set() for p in aws}
    for path in SCENARIOS:
        for expected in load(path)["expect"].values():
            for policy, status in expected.items():
                seen.setdefault(policy, set()).add(status)
    missing = {p: sorted({"FAIL", "PASS"} - s) for p, s in seen.items() if not {"FAIL", "PASS"} <= s}
    assert not missing, f"policies without a failing or passing moto scenario: {missing}"
