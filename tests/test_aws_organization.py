"""scan aws --organization: an AWS Organization of 20 accounts in moto, with IAM enforced. The role
is assumed in each account, the accounts are scanned side by side, and each account's failure
stays its own: the management account's role does not trust the scanner (moto refuses the
AssumeRole), and one member has no role at all (every call made as it fails)."""

from __future__ import annotations

import json
import time

import aws_organization
import pytest
from aws_organization import EXTERNAL_ID, MANAGEMENT, ROLE
from click.testing import CliRunner
from judged import statuses_by_name
from moto.core import enable_iam_authentication

from cloudscan.cli import cli
from cloudscan.providers.aws.assume import RoleAccess
from cloudscan.providers.aws.organization import OrganizationError, choose, list_members
from cloudscan.providers.sampling import Sampling
from cloudscan.scan import scan_aws_organization

PUBLIC_READ = {"acl": "public-read"}
PRIVATE = {"block_public_access": True, "encryption": "aws:kms", "versioning": True}
PUBLIC_POLICY = {
    "policy": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::BUCKET/*",
            }
        ],
    }
}
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


# A small organization for what needs no twenty accounts: the management account, whose own
# role trusts the scanner (so moto checks its external id), and two members.
SMALL = {
    "management": {"role": "trusts-scanner"},
    "accounts": {
        "radiology": {"buckets": {"radiology-pacs-exports": PUBLIC_READ}},
        "research": {"buckets": {"research-deidentified": PRIVATE}},
    },
}


@pytest.fixture
def organization(aws, monkeypatch):
    # moto loads its default AMIs into each account's EC2 on first use: a third of a second an
    # account that no scan needs.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    return aws_organization.build(ORGANIZATION)


@pytest.fixture
def small(aws, monkeypatch):
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    return aws_organization.build(SMALL)


def scan(organization, guard, policies, **kwargs):
    scanner = organization.scanner()
    guard.install(scanner)
    with enable_iam_authentication():
        members = choose(list_members(scanner), kwargs.pop("accounts", ()), kwargs.pop("shard", None))
        return scan_aws_organization(
            scanner,
            policies,
            members=members,
            access=RoleAccess(ROLE, external_id=kwargs.pop("external_id", EXTERNAL_ID)),
            regions=(aws_organization.aws_world.REGION,),
            sampling=Sampling(size=0),
            watch=kwargs.pop("watch", guard.install),
            **kwargs,
        )


def test_twenty_accounts_are_scanned_and_the_one_that_refuses_the_role_is_named(
    organization, guard, builtin_policies
):
    started = time.monotonic()
    result = scan(organization, guard, builtin_policies, concurrency=8, account_concurrency=4)
    elapsed = time.monotonic() - started

    assert len(organization.ids) == 20
    found = statuses_by_name(result)
    account_of = {r["name"]: r["account"] for r in result.resources}
    # Every bucket of the members that let the scanner in, judged, in its own account.
    for name, buckets in WITH_BUCKETS.items():
        for bucket in buckets:
            assert account_of[bucket] == organization.ids[name], bucket
    assert {bucket: found[bucket][LIST] for bucket in account_of if bucket in EXPECTED} == {
        bucket: statuses[0] for bucket, statuses in EXPECTED.items()
    }
    assert {bucket: found[bucket][READ] for bucket in account_of if bucket in EXPECTED} == {
        bucket: statuses[1] for bucket, statuses in EXPECTED.items()
    }
    # Each account's own settings are read in that account: 19 of them.
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
    assert {e["resource"] for e in result.errors if sandbox in e["resource"]} >= {f"aws-account/{sandbox}"}
    assert "sandbox-scratch" not in found
    others = {e["resource"].split(":")[0] for e in result.errors} - {
        f"aws-account/{MANAGEMENT}",
        f"aws-account/{sandbox}",
    }
    assert others == set(), f"errors in accounts that let the scanner in: {result.errors}"

    # What the scan called: the listing, 20 AssumeRoles, reads; nothing else (the guard).
    assert guard.count("organizations", "ListAccounts") == 1
    assert guard.count("sts", "AssumeRole") == 20
    print(f"\n20-account organization scanned in {elapsed:.1f} s ({len(result.resources)} resources)")


def test_an_account_list_limits_the_scan_and_an_account_outside_the_organization_is_refused(
    small, guard, builtin_policies
):
    wanted = (small.ids["radiology"],)
    result = scan(small, guard, builtin_policies, accounts=wanted)

    assert {r["account"] for r in result.resources} == set(wanted)
    assert result.errors == []
    with enable_iam_authentication(), pytest.raises(OrganizationError, match="999999999999 is not an active"):
        choose(list_members(small.scanner()), ("999999999999",))


def test_the_external_id_is_sent_with_each_assume_role(small, guard, builtin_policies):
    # moto checks the sts:ExternalId of a trust policy in the caller's own account only.
    only = (MANAGEMENT,)

    right = scan(small, guard, builtin_policies, accounts=only)
    wrong = scan(small, guard, builtin_policies, accounts=only, external_id="guessed")

    assert right.errors == [] and {r["account"] for r in right.resources} == {MANAGEMENT}
    assert [(e["call"], e["code"], e["resource"]) for e in wrong.errors] == [
        ("sts:AssumeRole", "AccessDenied", f"aws-account/{MANAGEMENT}")
    ]


def test_each_account_is_scanned_with_a_session_of_its_own(small, guard, builtin_policies):
    sessions = []

    def watch(session):
        sessions.append(session)
        guard.install(session)

    result = scan(small, guard, builtin_policies, watch=watch)

    arns = [s.client("sts").get_caller_identity()["Arn"] for s in sessions]
    assert sorted(arn.split(":")[4] for arn in arns) == sorted(small.ids.values())
    assert all(f":assumed-role/{ROLE}/cloudscan-" in arn for arn in arns), arns  # CloudTrail says who
    assert [r["account"] for r in result.resources if r["kind"] == "storage.account"] == sorted(
        small.ids.values()
    ), "accounts come in account order, whichever finishes first"


def test_cli_scans_the_organization_and_names_the_account_that_refused(small, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", small.scanner_key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", small.scanner_key["SecretAccessKey"])
    report = tmp_path / "org.json"
    args = ["scan", "aws", "--organization", "--role-name", ROLE, "--region", "us-east-1", "--sample", "0"]
    args += [
        "--format",
        "json",
        "--output",
        str(report),
        "--accounts",
        f"{small.ids['radiology']},{MANAGEMENT}",
    ]

    with enable_iam_authentication():
        outcome = CliRunner().invoke(cli, args, env={"CLOUDSCAN_AWS_EXTERNAL_ID": "not-the-one"})

    assert outcome.exit_code == 1, outcome.output  # radiology's public bucket
    assert "cloudscan: 2 of 3 active accounts to scan" in outcome.stderr
    scanned = json.loads(report.read_text())
    assert {r["account"] for r in scanned["resources"]} == {small.ids["radiology"], MANAGEMENT}
    assert [(e["call"], e["resource"]) for e in scanned["errors"]] == [
        ("sts:AssumeRole", f"aws-account/{MANAGEMENT}")
    ]
    assert "not-the-one" not in outcome.output + report.read_text()  # the external id is never shown
    assert scanned["scan"]["shard"] is None


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--role-name", ROLE], "--role-name need --organization"),
        (["--shard", "1/4"], "--shard need --organization"),
        (["--organization"], "--organization needs --role-name"),
        (["--organization", "--role-name", "no spaces"], "not an IAM role name"),
        (["--organization", "--role-name", ROLE, "--accounts", "1234"], "not a 12-digit AWS account id"),
        (["--organization", "--role-name", ROLE, "--shard", "0/4"], "numbered from 1"),
        (["--organization", "--role-name", ROLE, "--shard", "5/4"], "shard 5/4 does not exist"),
    ],
)
def test_organization_options_are_checked_before_anything_is_called(args, said):
    outcome = CliRunner().invoke(cli, ["scan", "aws", *args])

    assert outcome.exit_code == 2, outcome.output
    assert said in outcome.output


def test_credentials_that_cannot_list_the_organization_stop_the_scan_with_exit_2(small, monkeypatch):
    iam = aws_organization.aws_world.session().client("iam")
    iam.create_user(UserName="auditor")  # with no policy: organizations:ListAccounts is denied
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])

    with enable_iam_authentication():
        outcome = CliRunner().invoke(cli, ["scan", "aws", "--organization", "--role-name", ROLE])

    assert outcome.exit_code == 2, outcome.output
    # moto answers this JSON API's refusal in XML, which botocore reads as a bare 403; AWS says
    # AccessDeniedException. Either way the hint follows.
    assert "organizations:ListAccounts" in outcome.output and "not authorized" in outcome.output
    assert "management account" in outcome.output


def test_an_organization_that_lists_no_account_is_no_clean_scan(aws):
    outcome = CliRunner().invoke(cli, ["scan", "aws", "--organization", "--role-name", ROLE])

    assert outcome.exit_code == 2, outcome.output
    assert "listed no active account" in outcome.output
