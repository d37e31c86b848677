"""What the least-privilege tests share: the policy subsets they scan with, and the permissions
`cloudscan permissions` prints for each.

A subset is given as `--only` ids, as a user would choose it. Policies that read the same fields
of the kinds a live scan makes lead to the same calls, so one policy stands for each distinct
set of fields; with every policy, and with none that reads a cloud (endpoint policies only).
The subsets come from the policies and `needed_fields`, not from the permission tables: the
tables are what these tests check."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from cloudscan.cli import cli
from cloudscan.policyset import Policy, load_policies, select
from cloudscan.scan import needed_fields

LIVE_KINDS = ("storage.bucket", "storage.account", "storage.snapshot", "network.ingress", "dicom.store")
EVERY_POLICY = "every-policy"


def subsets() -> list[str]:
    """`EVERY_POLICY`, then one policy id per distinct set of live fields read (one of them
    reads no live field at all)."""
    seen: dict[frozenset[Any], str] = {}
    for policy in load_policies([]):
        fields = needed_fields([policy])
        live = frozenset((kind, names) for kind, names in fields.items() if kind in LIVE_KINDS)
        seen.setdefault(live, policy.id)
    return [EVERY_POLICY, *seen.values()]


def policies_of(subset: str) -> list[Policy]:
    every = load_policies([])
    return every if subset == EVERY_POLICY else select(every, [subset])


def generated(cloud: str, subset: str, *options: str) -> dict[str, Any]:
    """The document `cloudscan permissions CLOUD [--only SUBSET] OPTIONS` prints."""
    only = [] if subset == EVERY_POLICY else ["--only", subset]
    result = CliRunner().invoke(cli, ["permissions", cloud, *only, *options, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def compare(made: set[str], listed: set[str], unused_allowed: frozenset[str] = frozenset()) -> list[str]:
    """What is wrong between the permissions the calls of a scan needed and those generated:
    a call not covered, or a permission nothing used (beyond those the case says go unused)."""
    problems = [f"not covered: {p}" for p in sorted(made - listed)]
    problems += [f"never used: {p}" for p in sorted(listed - made - unused_allowed)]
    return problems
