"""Grants pinned to an AWS Organization (checks/organizations.py, checks/exposure.py): which
organisation a condition admits, and whether the bucket's exposure counts it as another
account's. The organisations the scan trusts come from CheckContext.organizations; the scans that
fill it are in tests/scenarios/aws/org-*.json and their Terraform twins."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import aws_world
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudscan.checks import CheckContext, Organizations, derive
from cloudscan.checks.exposure import bucket_exposure
from cloudscan.checks.organizations import NOT_TOLD, organization_scope, pinned_organizations

HERE = Path(__file__).parent
BASE = json.loads((HERE / "policy_cases" / "_base" / "storage.bucket.json").read_text())
OWN, PARTNER, OTHER = "o-a1b2c3d4e5", "o-p4rtn3r0rg1", "o-f0re1gn0rg7"
OWNER = "123456789012"
KNOWN = Organizations(frozenset({OWN}), None)  # read with DescribeOrganization
GIVEN = Organizations.given([OWN, PARTNER])  # --organization-id, twice
NONE_AT_ALL = Organizations(frozenset(), None)  # an account in no organisation
REFUSED = Organizations.unread("organizations:DescribeOrganization", "AccessDenied", "not allowed")


@pytest.mark.parametrize(
    ("conditions", "admitted"),
    [
        ({"StringEquals": {"aws:PrincipalOrgID": OWN}}, [{OWN}]),
        ({"StringEquals": {"aws:PrincipalOrgID": [OWN, OTHER]}}, [{OWN, OTHER}]),
        ({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": f"{OWN}/r-ab12/ou-ab12-11111111/*"}}, [{OWN}]),
        ({"StringEquals": {"aws:SourceOrgID": OTHER}}, [{OTHER}]),
        ({"ForAnyValue:StringEquals": {"aws:SourceOrgPaths": f"{OTHER}/r-ab12/"}}, [{OTHER}]),
        # the organisation itself left open: no organisation is pinned
        ({"StringLike": {"aws:PrincipalOrgID": "o-*"}}, []),
        ({"StringLike": {"aws:PrincipalOrgPaths": "*/r-ab12/*"}}, []),
        ({"StringEquals": {"aws:PrincipalOrgID": "${aws:PrincipalTag/org}"}}, []),
        ({"StringEquals": {"aws:PrincipalOrgID": f"{OWN}\n"}}, []),
        # they admit every other organisation, or a request without the key
        ({"StringNotEquals": {"aws:PrincipalOrgID": OWN}}, []),
        ({"StringEqualsIfExists": {"aws:PrincipalOrgID": OWN}}, []),
        ({"ForAllValues:StringLike": {"aws:PrincipalOrgPaths": f"{OWN}/*"}}, []),
        # the bucket's own organisation, not the caller's
        ({"StringEquals": {"aws:ResourceOrgID": OTHER}}, []),
        (
            {"StringEquals": {"aws:PrincipalOrgID": OWN, "aws:SourceOrgID": OTHER}},
            [{OWN}, {OTHER}],
        ),
        (None, []),
        ("not a condition block", []),
    ],
)
def test_which_organisations_a_condition_admits(conditions, admitted):
    assert [set(orgs) for _, orgs in pinned_organizations(conditions)] == admitted


@pytest.mark.parametrize(
    ("conditions", "organizations", "trusted", "foreign", "unknown"),
    [
        ({"StringEquals": {"aws:PrincipalOrgID": OWN}}, KNOWN, True, (), False),
        ({"StringEquals": {"aws:PrincipalOrgID": OTHER}}, KNOWN, False, (OTHER,), False),
        ({"StringEquals": {"aws:PrincipalOrgID": [OWN, OTHER]}}, KNOWN, False, (OTHER,), False),
        ({"StringEquals": {"aws:PrincipalOrgID": PARTNER}}, GIVEN, True, (), False),
        ({"StringEquals": {"aws:PrincipalOrgID": OTHER}}, NONE_AT_ALL, False, (OTHER,), False),
        ({"StringEquals": {"aws:PrincipalOrgID": OTHER}}, REFUSED, False, (OTHER,), True),
        ({"StringEquals": {"aws:PrincipalOrgID": OWN}}, Organizations(), False, (OWN,), True),
        # every key must hold: one that admits only trusted organisations keeps the grant inside
        ({"StringEquals": {"aws:PrincipalOrgID": OWN, "aws:SourceOrgID": OTHER}}, KNOWN, True, (), False),
    ],
)
def test_how_a_pinned_organisation_stands(conditions, organizations, trusted, foreign, unknown):
    scope = organization_scope(conditions, organizations)
    assert scope is not None
    assert (scope.trusted, scope.foreign, scope.unknown is not None) == (trusted, foreign, unknown)


def bucket(*grants: dict) -> dict:
    doc = copy.deepcopy(BASE)
    doc["provider"], doc["account"] = "aws", OWNER
    off = dict.fromkeys(
        ("block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"), False
    )
    doc["access"] = {
        "guards": {
            "account_block_public_access": off,
            "bucket_block_public_access": dict(off),
            "object_ownership": "BucketOwnerEnforced",
        },
        "acl": {"owner": None, "grant_count": 0},
        "policy": {"present": True, "statement_count": len(grants)},
        "grants": list(grants),
    }
    return doc


def grant(conditions, who: str = "*", kind: str = "public", can: tuple[str, ...] = ("read",)) -> dict:
    account = who if kind == "aws" else None
    return {
        "effect": "allow",
        "principal": {"type": kind, "id": who, "account": account, "negated": False},
        "permissions": list(can),
        "actions": ["s3:GetObject"],
        "via": "policy",
        "conditions": conditions,
        "origin": "Policy.Statement[0]",
        "resources": ["arn:aws:s3:::b/*"],
    }


def org(value, key: str = "aws:PrincipalOrgID") -> dict:
    return {"StringEquals": {key: value}}


@pytest.mark.parametrize(
    ("name", "grants", "organizations", "cross_account", "principals"),
    [
        ("everyone of the own organisation", [grant(org(OWN))], KNOWN, False, []),
        ("everyone of another organisation", [grant(org(OTHER))], KNOWN, True, [OTHER]),
        ("a partner's organisation, given", [grant(org(PARTNER))], GIVEN, False, []),
        ("any organisation, the account in none", [grant(org(OWN))], NONE_AT_ALL, True, [OWN]),
        ("organisation not known", [grant(org(OTHER))], REFUSED, None, [OTHER]),
        ("organisation not told (Terraform)", [grant(org(OWN))], Organizations(), None, [OWN]),
        (
            "a service for another organisation's resources",
            [grant(org(OTHER, "aws:SourceOrgID"), "cloudtrail.amazonaws.com", "service", ("write",))],
            KNOWN,
            True,
            [OTHER],
        ),
        (
            "an account of the own organisation, pinned to it",
            [grant(org(OWN), "111122223333", "aws")],
            KNOWN,
            False,
            [],
        ),
        (
            "an account pinned to another organisation stays that account's grant",
            [grant(org(OTHER), "111122223333", "aws")],
            KNOWN,
            True,
            ["111122223333"],
        ),
        (
            "an account whose organisation is not known",
            [grant(org(OTHER), "111122223333", "aws")],
            REFUSED,
            None,
            ["111122223333"],
        ),
        (
            "everyone pinned to the owner's account is internal whatever the organisation",
            [grant({"StringEquals": {"aws:PrincipalOrgID": OTHER, "aws:PrincipalAccount": OWNER}})],
            REFUSED,
            False,
            [],
        ),
    ],
)
def test_cross_account_of_organisation_grants(name, grants, organizations, cross_account, principals):
    exposure = bucket_exposure(bucket(*grants), CheckContext(organizations=organizations)).block
    assert (exposure["cross_account"], exposure["cross_account_principals"]) == (cross_account, principals)
    assert exposure["public_read"] is False  # S3's definition: pinned to an organisation is not public


def test_grants_pinned_to_an_organisation_not_known_wait_for_it():
    grants = [grant(org(OTHER), "222233334444", "aws"), grant(org(OWN))]
    exposure = bucket_exposure(bucket(*grants), CheckContext(organizations=REFUSED)).block
    assert exposure["cross_account"] is None  # the account's organisation may be the trusted one
    told = bucket_exposure(bucket(*grants), CheckContext(organizations=Organizations.given([OWN]))).block
    assert (told["cross_account"], told["cross_account_principals"]) == (True, ["222233334444"])


def test_a_foreign_organisation_is_named_with_its_reason():
    exposure = bucket_exposure(bucket(grant(org(OTHER))), CheckContext(organizations=KNOWN)).block
    (reason,) = exposure["reasons"]["cross_account"]
    assert reason["effective"] is True and f"organization {OTHER}" in reason["detail"]
    assert "aws:PrincipalOrgID" in reason["detail"]


def test_a_trusted_organisation_is_said_to_be_why_the_grant_is_internal():
    exposure = bucket_exposure(bucket(grant(org(OWN))), CheckContext(organizations=KNOWN)).block
    (reason,) = exposure["reasons"]["cross_account"]
    assert reason["effective"] is False and "trusted organisation" in reason["neutralised_by"]


def test_an_unknown_organisation_is_an_error_that_says_how_to_make_it_known():
    doc = derive(bucket(grant(org(OTHER))), CheckContext(organizations=REFUSED))
    assert doc["exposure"]["cross_account"] is None
    assert "/exposure/cross_account" in doc["_meta"]["unknown"]
    (error,) = doc["_meta"]["errors"]
    assert (error["call"], error["code"]) == ("organizations:DescribeOrganization", "AccessDenied")
    assert (
        "--organization-id" in error["message"] and "organizations:DescribeOrganization" in error["message"]
    )
    assert error["pointers"] == ["/exposure/cross_account"]


def test_not_told_says_to_pass_the_organisation():
    doc = derive(bucket(grant(org(OWN))), CheckContext())
    (error,) = doc["_meta"]["errors"]
    assert (error["call"], error["code"]) == NOT_TOLD[:2] and "--organization-id" in error["message"]


def test_a_bucket_without_organisation_grants_needs_no_organisation():
    doc = derive(bucket(grant(None, "111122223333", "aws")), CheckContext())
    assert doc["exposure"]["cross_account"] is True and doc["_meta"]["errors"] == []


# -- properties -----------------------------------------------------------------------------

ORGS = st.sampled_from([OWN, PARTNER, OTHER, "o-*", "*", "O-A1B2C3D4E5", "o-x"])
KEYS = st.sampled_from(
    ["aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:SourceOrgID", "aws:ResourceOrgID", "aws:userid"]
)
OPERATORS = st.sampled_from(
    ["StringEquals", "StringLike", "ForAnyValue:StringLike", "ForAllValues:StringEquals", "StringNotEquals"]
)
CONDITIONS = st.dictionaries(
    OPERATORS,
    st.dictionaries(KEYS, st.one_of(ORGS, st.lists(ORGS, max_size=3), ORGS.map(lambda o: f"{o}/r-ab12/*"))),
    max_size=3,
)
TRUST = st.frozensets(st.sampled_from([OWN, PARTNER, OTHER]), max_size=3)
PRINCIPALS = st.sampled_from([("*", "public"), ("111122223333", "aws"), ("logs.amazonaws.com", "service")])


@settings(max_examples=200, deadline=None)
@given(conditions=CONDITIONS, trusted=TRUST, more=TRUST, principal=PRINCIPALS)
def test_trusting_more_organisations_never_adds_exposure(conditions, trusted, more, principal):
    doc = bucket(grant(conditions, *principal))
    fewer = bucket_exposure(doc, CheckContext(organizations=Organizations(trusted, None))).block
    wider = bucket_exposure(doc, CheckContext(organizations=Organizations(trusted | more, None))).block
    assert not (fewer["cross_account"] is False and wider["cross_account"] is True)
    assert set(wider["cross_account_principals"]) <= set(fewer["cross_account_principals"])


@settings(max_examples=200, deadline=None)
@given(conditions=CONDITIONS, principal=PRINCIPALS)
def test_an_organisation_not_known_never_passes_a_grant_that_could_fail(conditions, principal):
    doc = bucket(grant(conditions, *principal))
    unknown = bucket_exposure(doc, CheckContext(organizations=REFUSED)).block
    untold = bucket_exposure(doc, CheckContext()).block
    trusting_none = bucket_exposure(doc, CheckContext(organizations=NONE_AT_ALL)).block
    if trusting_none["cross_account"] is True:
        assert unknown["cross_account"] is not False and untold["cross_account"] is not False


@settings(max_examples=200, deadline=None)
@given(conditions=st.one_of(CONDITIONS, st.text(max_size=20), st.lists(st.text(max_size=5), max_size=3)))
def test_hostile_condition_blocks_never_crash_the_check(conditions):
    for organizations in (KNOWN, REFUSED, Organizations()):
        exposure = bucket_exposure(bucket(grant(conditions)), CheckContext(organizations=organizations)).block
        assert exposure["cross_account"] in (True, False, None)


# -- the scans that fill CheckContext.organizations -------------------------------------------

ROOT = HERE.parent


def test_an_account_in_no_organisation_shares_with_a_foreign_one(guard, builtin_policies):
    """AWSOrganizationsNotInUseException is an answer: the account has no organisation, so
    whichever one a grant names is someone else's."""
    import aws_world

    from cloudscan.scan import scan_aws

    aws_world.build({"buckets": {"pinned": {"policy": _pinned_policy(OWN)}}})
    result = scan_aws(guard.session(), builtin_policies, regions=(aws_world.REGION,))

    (doc,) = [r for r in result.resources if r["name"] == "pinned"]
    assert (doc["exposure"]["cross_account"], doc["exposure"]["cross_account_principals"]) == (True, [OWN])
    assert guard.count("organizations", "DescribeOrganization") == 1 and result.errors == []


def test_describe_organization_is_asked_only_when_a_policy_judges_bucket_access(guard, builtin_policies):
    import aws_world

    from cloudscan.scan import scan_aws

    versioning = [p for p in builtin_policies if p.id == "storage-versioning-enabled"]
    scan_aws(guard.session(), versioning, regions=(aws_world.REGION,))
    assert guard.count("organizations", "DescribeOrganization") == 0


def _pinned_policy(organization: str) -> dict:
    return aws_world.anyone_may_read({"StringEquals": {"aws:PrincipalOrgID": organization}})


@pytest.mark.parametrize(
    ("given", "status", "code"),
    [
        ((), "UNKNOWN", 0),
        (("--organization-id", OWN), "PASS", 0),
        (("--organization-id", PARTNER), "FAIL", 1),
    ],
    ids=["not-told", "own", "another"],
)
def test_scan_terraform_takes_the_organisation_on_the_command_line(given, status, code):
    from click.testing import CliRunner

    from cloudscan.cli import cli

    fixture = ROOT / "terraform-fixtures" / "org-unknown-grant"
    args = [
        "scan",
        "terraform",
        str(fixture),
        "--format",
        "json",
        "--only",
        "storage-no-untrusted-cross-account",
    ]
    outcome = CliRunner().invoke(cli, [*args, *given, "--quiet"])

    assert outcome.exit_code == code, outcome.output
    (finding,) = json.loads(outcome.stdout)["findings"]
    assert finding["status"] == status


@pytest.mark.parametrize("bad", ["123456789012", "o-short", "O-A1B2C3D4E5", "o-a1b2c3d4e5/r-ab12"])
def test_an_organisation_id_that_is_none_is_a_usage_error(bad):
    from click.testing import CliRunner

    from cloudscan.cli import cli

    fixture = ROOT / "terraform-fixtures" / "org-unknown-grant"
    outcome = CliRunner().invoke(cli, ["scan", "terraform", str(fixture), "--organization-id", bad])
    assert outcome.exit_code == 2 and "not an AWS Organizations id" in outcome.output


def test_aws_out_of_reach_stops_a_scan_at_its_first_call(monkeypatch):
    """DescribeOrganization comes before the scan's other calls: it must give up as quickly as
    sts:GetCallerIdentity would, and stop the scan the same way."""
    import time

    from click.testing import CliRunner

    from cloudscan.cli import cli

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # the discard port: nothing listens
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    started = time.monotonic()
    outcome = CliRunner().invoke(cli, ["scan", "aws", "--region", "us-east-1", "--quiet"])

    assert outcome.exit_code == 2, outcome.output
    assert "cannot reach AWS: organizations:DescribeOrganization EndpointConnectionError" in outcome.output
    assert time.monotonic() - started < 30
