"""scan aws --organization on a small organization in moto, IAM enforced: which accounts are
scanned, with which session and external id, and what the command line checks and says. The
20-account organization is in test_aws_twenty_accounts.py."""

from __future__ import annotations

import json

import aws_organization
import aws_world
import pytest
from aws_organization import EXTERNAL_ID, MANAGEMENT, PRIVATE, PUBLIC_READ, ROLE, scan
from click.testing import CliRunner
from moto.core import enable_iam_authentication

from cloudscan.cli import cli
from cloudscan.providers.aws.assume import Assumer, RoleAccess
from cloudscan.providers.aws.organization import OrganizationError, choose, list_members

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
def small(aws, monkeypatch):
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    return aws_organization.build(SMALL)


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
    assert f"1 of 2 accounts scanned; the role was refused in {MANAGEMENT} (AccessDenied)" in outcome.stderr
    assert "not-the-one" not in outcome.output + report.read_text()  # the external id is never shown
    assert scanned["scan"]["shard"] is None


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--role-name", ROLE], "--role-name needs --organization"),
        (["--shard", "1/4"], "--shard needs --organization"),
        (
            ["--accounts", "111122223333", "--external-id", "xy"],
            "--external-id, --accounts need --organization",
        ),
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


def test_assumed_credentials_are_refreshed_through_assume_role_before_they_expire(small, guard, monkeypatch):
    # Sessions of 15 minutes (AWS's shortest) are inside botocore's refresh window from the start:
    # the next use of the credentials asks for new ones, through the same AssumeRole.
    monkeypatch.setattr("cloudscan.providers.aws.assume.DURATION_SECONDS", 900)
    scanner = small.scanner()
    guard.install(scanner)
    with enable_iam_authentication():
        credentials = Assumer(scanner, RoleAccess(ROLE, EXTERNAL_ID)).credentials(small.ids["radiology"])
        assert guard.count("sts", "AssumeRole") == 1
        used = credentials.get_frozen_credentials()

    assert guard.count("sts", "AssumeRole") == 2
    assert used.token and credentials.method == "sts-assume-role"


def test_aws_out_of_reach_stops_an_organization_scan_at_once(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # the discard port: nothing listens

    outcome = CliRunner().invoke(cli, ["scan", "aws", "--organization", "--role-name", ROLE])

    assert outcome.exit_code == 2, outcome.output
    assert "sts:GetCallerIdentity EndpointConnectionError" in outcome.output


def _pinned_to(organization: str) -> dict:
    return {"policy": aws_world.anyone_may_read({"StringEquals": {"aws:PrincipalOrgID": organization}})}


def _organization_grants(reads_organization: bool) -> dict:
    return {
        "management": {"role": "trusts-scanner"},
        "scanner_reads_organization": reads_organization,
        "accounts": {
            "radiology": {
                "buckets": {
                    "radiology-org-share": _pinned_to("ORG_ID"),
                    "radiology-partner-share": _pinned_to("o-f0re1gn0rg7"),
                }
            }
        },
    }


@pytest.mark.parametrize("reads_organization", [True, False], ids=["may-describe", "may-not-describe"])
def test_member_buckets_are_judged_against_the_organization_that_was_listed(
    aws, guard, builtin_policies, reads_organization
):
    """ListAccounts names the organization in each account's ARN: every member belongs to it,
    and no organizations:DescribeOrganization is needed."""
    built = aws_organization.build(_organization_grants(reads_organization))
    result = scan(built, guard, builtin_policies)

    statuses = {
        f["resource"]["id"].split(":")[-1]: f["status"]
        for f in result.findings
        if f["policy_id"] == "storage-no-untrusted-cross-account"
    }
    assert statuses == {"radiology-org-share": "PASS", "radiology-partner-share": "FAIL"}
    assert guard.count("organizations", "DescribeOrganization") == 0
    with enable_iam_authentication():
        assert {m.organization for m in list_members(built.scanner())} == {built.id}


def test_organization_ids_given_add_a_partner_to_the_listed_organization(aws, guard, builtin_policies):
    built = aws_organization.build(_organization_grants(False))
    result = scan(built, guard, builtin_policies, organization_ids=("o-f0re1gn0rg7",))

    statuses = {
        f["resource"]["id"].split(":")[-1]: f["status"]
        for f in result.findings
        if f["policy_id"] == "storage-no-untrusted-cross-account"
    }
    assert statuses == {"radiology-org-share": "PASS", "radiology-partner-share": "PASS"}


def test_an_organization_the_listing_does_not_name_is_read_or_unknown(aws, guard, builtin_policies):
    """Accounts listed without an ARN that names the organization (an older or partial answer):
    DescribeOrganization is asked, and refused, the organization's grants are UNKNOWN."""
    from cloudscan.providers.aws.organization import Member

    built = aws_organization.build(_organization_grants(False))
    members = [Member(account) for account in built.ids.values()]
    result = scan(built, guard, builtin_policies, members=members)

    judged = [f for f in result.findings if f["policy_id"] == "storage-no-untrusted-cross-account"]
    assert {f["status"] for f in judged} == {"UNKNOWN"}
    assert guard.count("organizations", "DescribeOrganization") == 1
    said = judged[0]["evidence"][0]["message"]
    assert "organizations:DescribeOrganization AccessDenied" in said and "--organization-id" in said
