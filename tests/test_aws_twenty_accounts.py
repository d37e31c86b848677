"""An AWS Organization of 20 accounts in moto, IAM enforced, scanned with --organization: the role
is assumed in each account, the accounts are scanned side by side, and each account's failure
stays its own. The management account's role does not trust the scanner (moto refuses the
AssumeRole); one member has no role at all (every call made as it fails). Then the same
organization in four shards, merged: the same findings, the same fingerprints.

One organization serves the module: building 20 accounts in moto takes longer than scanning them."""

from __future__ import annotations

import json
import time

import aws_organization
import pytest
from aws_organization import MANAGEMENT, PRIVATE, PUBLIC_POLICY, PUBLIC_READ, scan
from aws_world import CallGuard
from click.testing import CliRunner
from judged import statuses_by_name

from cloudscan.cli import cli
from cloudscan.report import json_report
from cloudscan.shard import Shard

# Members with buckets of known exposure; the other members hold nothing.
WITH_BUCKETS = {
    "radiology": {"radiology-pacs-exports": PUBLIC_READ, "radiology-archive": PRIVATE},
    "teleradiology": {"telerad-shared-studies": PUBLIC_POLICY},
    "research": {"research-deidentified": PRIVATE},
    "cardiology": {"cardiology-echo-exports": PUBLIC_READ},
}
ORGANIZATION = {
    # The management account's role trusts another principal: moto refuses the AssumeRole.
    "management": {"role": "trusts-someone-else", "buckets": {"management-billing-exports": PUBLIC_READ}},
    "accounts": {
        **{name: {"buckets": buckets} for name, buckets in WITH_BUCKETS.items()},
        # No role in this member: the credentials are issued, every call made with them fails.
        "sandbox": {"role": "missing", "buckets": {"sandbox-scratch": PUBLIC_READ}},
        **{f"workload-{n:02d}": {} for n in range(1, 15)},
    },
}
LIST, READ = "storage-no-public-list", "storage-no-public-read"
# bucket -> its statuses for LIST and READ: a public-read ACL lists, a public policy reads
EXPECTED = {
    "radiology-pacs-exports": ("FAIL", "PASS"),
    "radiology-archive": ("PASS", "PASS"),
    "telerad-shared-studies": ("PASS", "FAIL"),
    "research-deidentified": ("PASS", "PASS"),
    "cardiology-echo-exports": ("FAIL", "PASS"),
}
ACCOUNT_BPA = "aws-s3-account-block-public-access"


@pytest.fixture(scope="module")
def organization():
    from moto import mock_aws

    with pytest.MonkeyPatch.context() as patch, mock_aws():
        # moto loads its default AMIs into each account's EC2 on first use: a third of a second
        # an account, which no scan needs.
        patch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        yield aws_organization.build(ORGANIZATION)


@pytest.fixture
def watched():
    guard = CallGuard()
    yield guard
    assert not guard.violations, f"scan made calls that are not read-only: {guard.violations}"


def test_twenty_accounts_are_scanned_and_the_one_that_refuses_the_role_is_named(
    organization, watched, builtin_policies
):
    started = time.monotonic()
    result = scan(organization, watched, builtin_policies, concurrency=8, account_concurrency=4)
    elapsed = time.monotonic() - started

    assert len(organization.ids) == 20
    found = statuses_by_name(result)
    account_of = {r["name"]: r["account"] for r in result.resources}
    # Every bucket of the members that let the scanner in, judged, in its own account.
    for name, buckets in WITH_BUCKETS.items():
        for bucket in buckets:
            assert account_of[bucket] == organization.ids[name], bucket
    assert {bucket: (found[bucket][LIST], found[bucket][READ]) for bucket in EXPECTED} == EXPECTED
    # Each account's own settings are read in that account: 18 of them.
    settings = {r["account"]: r for r in result.resources if r["kind"] == "storage.account"}
    assert set(settings) == set(organization.ids.values())
    for name, account in organization.ids.items():
        expected = {"management": "UNKNOWN", "sandbox": "UNKNOWN"}.get(name, "FAIL")  # no account BPA set
        assert found[settings[account]["name"]][ACCOUNT_BPA] == expected, name

    # The management account refused the role: an error names it, its buckets are not seen,
    # and its account-wide settings are UNKNOWN for that reason.
    refused = [e for e in result.errors if e["call"] == "sts:AssumeRole"]
    assert [(e["code"], e["resource"]) for e in refused] == [("AccessDenied", f"aws-account/{MANAGEMENT}")]
    assert refused[0]["message"].startswith(f"account {MANAGEMENT} (")
    assert "management-billing-exports" not in found
    why = next(f for f in result.findings if f["resource"]["account"] == MANAGEMENT)["evidence"][0]["message"]
    assert "sts:AssumeRole AccessDenied" in why

    # The member without the role: its calls fail, each error names it, nothing passes there.
    sandbox = organization.ids["sandbox"]
    assert f"aws-account/{sandbox}" in {e["resource"] for e in result.errors}
    assert "sandbox-scratch" not in found
    failing = {e["resource"].split(":")[0] for e in result.errors}
    assert failing == {f"aws-account/{MANAGEMENT}", f"aws-account/{sandbox}"}, result.errors

    # What the scan called: the listing, 20 AssumeRoles, reads; nothing else (the guard).
    assert watched.count("organizations", "ListAccounts") == 1
    assert watched.count("sts", "AssumeRole") == 20
    print(f"\n20-account organization scanned in {elapsed:.1f} s ({len(result.resources)} resources)")


def test_four_shards_merged_are_the_organization_scanned_whole(
    organization, watched, builtin_policies, tmp_path
):
    whole = json.loads(json_report.render(scan(organization, watched, builtin_policies)))
    files, accounts = [], []
    for index in range(1, 5):
        shard = scan(organization, watched, builtin_policies, shard=Shard(index, 4))
        accounts.append({r["account"] for r in shard.resources})
        files.append(tmp_path / f"shard-{index}.json")
        files[-1].write_text(json_report.render(shard))

    outcome = CliRunner().invoke(cli, ["merge", *map(str, files), "-o", str(tmp_path / "m.json")])

    assert outcome.exit_code == 1, outcome.output  # the public buckets fail the merged run
    merged = json.loads((tmp_path / "m.json").read_text())
    # Every account in exactly one shard.
    assert sum(map(len, accounts)) == len(set().union(*accounts)) == len(organization.ids)
    assert sorted(f["fingerprint"] for f in merged["findings"]) == sorted(
        f["fingerprint"] for f in whole["findings"]
    )

    def key(f):
        return f["fingerprint"]

    assert sorted(merged["findings"], key=key) == sorted(whole["findings"], key=key)
    assert sorted(r["id"] for r in merged["resources"]) == sorted(r["id"] for r in whole["resources"])
    assert merged["summary"] == whole["summary"]

    def errors(report):
        return sorted((e["resource"], e["call"], e["code"]) for e in report["errors"])

    assert errors(merged) == errors(whole)
