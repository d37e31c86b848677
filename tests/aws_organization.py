"""An AWS Organization built in moto, with IAM enforced the way moto can enforce it.

moto keeps every account's state apart, keyed by the account id its access keys belong to:
credentials that sts:AssumeRole issues for `arn:aws:iam::ACCOUNT:role/...` act in ACCOUNT. What it
refuses was found by reading moto 5.2 and trying it (tests/test_aws_organization.py keeps each
of these true):

- with IAM authentication on (moto.core.enable_iam_authentication), every request must be signed
  with a key moto issued, and the caller's identity policies are evaluated;
- sts:AssumeRole of a role in the caller's own account is refused unless the role's trust policy
  lets the caller in: its principal, and its sts:ExternalId condition when the request carries one;
- the trust policy of a role in another account is not evaluated, and a role that does not
  exist is not refused at AssumeRole: its credentials are issued, and each call made with them
  fails (NoSuchEntity), since moto looks up the role's policies to authorise it.

So the refusal of AssumeRole is built in the management account (the scanner's own account, an
active member of its organization like any other), and a member account without the role shows
what an account whose role grants nothing does.

A spec names accounts; their ids are moto's:

    {"accounts": {"radiology": {"role": "trusts-scanner" | "trusts-someone-else" | "missing",
                                "buckets": {...as in aws_world...}}},
     "management": {"role": ..., "buckets": {...}},
     "scanner_reads_organization": true}

ORG_ID in a bucket policy stands for the organization's id (moto makes it up). The scanner may
call organizations:DescribeOrganization unless "scanner_reads_organization" is false.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import aws_world
import boto3

MANAGEMENT = aws_world.ACCOUNT  # moto's default account creates the organization
ROLE = "cloudscan-audit"
EXTERNAL_ID = "pacs-audit-7f3c"
SCANNER = "scanner"
# What the audit role may do in each account: read, as SecurityAudit would.
READ_ONLY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "s3:Get*",
                "s3:List*",
                "ec2:Describe*",
                "ec2:Get*",
                "rds:Describe*",
                "cloudfront:List*",
                "cloudfront:Get*",
            ],
            "Resource": "*",
        }
    ],
}


@dataclass
class Organization:
    ids: dict[str, str] = field(default_factory=dict)  # account name -> id
    id: str = ""  # the organization's
    scanner_key: dict[str, str] = field(default_factory=dict)

    def scanner(self) -> Any:
        """A session of the scanner's IAM user in the management account."""
        return boto3.Session(
            aws_access_key_id=self.scanner_key["AccessKeyId"],
            aws_secret_access_key=self.scanner_key["SecretAccessKey"],
            region_name=aws_world.REGION,
        )

    def name_of(self, account: str) -> str:
        return {v: k for k, v in self.ids.items()}[account]


def build(spec: dict[str, Any]) -> Organization:
    """The organization of `spec`, built before IAM authentication is turned on."""
    setup = aws_world.session()
    org = setup.client("organizations")
    made = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    built = Organization(ids={"management": MANAGEMENT}, id=made)
    for name in spec.get("accounts", {}):
        status = org.create_account(Email=f"{name}@hospital.example", AccountName=name)
        built.ids[name] = status["CreateAccountStatus"]["AccountId"]
    iam = setup.client("iam")
    iam.create_user(UserName=SCANNER)
    built.scanner_key = iam.create_access_key(UserName=SCANNER)["AccessKey"]
    scanner_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["organizations:ListAccounts", "sts:AssumeRole"]
                + (
                    ["organizations:DescribeOrganization"]
                    if spec.get("scanner_reads_organization", True)
                    else []
                ),
                "Resource": "*",
            }
        ],
    }
    iam.put_user_policy(UserName=SCANNER, PolicyName="scan", PolicyDocument=json.dumps(scanner_policy))
    accounts = {"management": spec.get("management", {}), **spec.get("accounts", {})}
    for name, account in accounts.items():
        acting = in_account(setup, built.ids[name])
        _role(acting, account.get("role", "trusts-scanner"))
        buckets = {"buckets": account.get("buckets", {})}
        aws_world.build(buckets, setup=acting, account=built.ids[name], organization=made)
    return built


def in_account(setup: Any, account: str) -> Any:
    """A session acting in `account` (moto needs no role to exist for this)."""
    issued = setup.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="setup"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=issued["AccessKeyId"],
        aws_secret_access_key=issued["SecretAccessKey"],
        aws_session_token=issued["SessionToken"],
        region_name=aws_world.REGION,
    )


def _role(acting: Any, kind: str) -> None:
    if kind == "missing":
        return
    trusted = f"arn:aws:iam::{MANAGEMENT}:user/" + (SCANNER if kind == "trusts-scanner" else "break-glass")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": trusted},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
            }
        ],
    }
    iam = acting.client("iam")
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=ROLE, PolicyName="read", PolicyDocument=json.dumps(READ_ONLY_POLICY))


# -- scanning it as the scanner, with IAM enforced ---------------------------------------------

PUBLIC_READ = {"acl": "public-read"}
PRIVATE = {"block_public_access": True, "encryption": "aws:kms", "versioning": True}
PUBLIC_POLICY = {"policy": aws_world.anyone_may_read()}


NO_DISTRIBUTIONS = {"DistributionList": {"Marker": "", "MaxItems": 100, "IsTruncated": False, "Quantity": 0}}


def scan(organization: Organization, guard: Any, policies: Any, **kwargs: Any) -> Any:
    """scan_aws_organization as the scanner, every session watched by `guard` (aws_world.CallGuard);
    `members` (organization.Member) instead of those the scanner lists, when given."""
    from moto.core import enable_iam_authentication

    from cloudscan.providers.aws.assume import RoleAccess
    from cloudscan.providers.aws.organization import choose, list_members
    from cloudscan.providers.sampling import Sampling
    from cloudscan.scan import scan_aws_organization

    scanner = organization.scanner()
    guard.install(scanner)
    # With IAM authentication on, moto 5.2 refuses every CloudFront request as
    # SignatureDoesNotMatch (it checks the global service's signature wrongly): the accounts
    # have no distribution, so they are answered as such an account answers.
    guard.gaps[("cloudfront", "ListDistributions")] = NO_DISTRIBUTIONS
    with enable_iam_authentication():
        members = kwargs.pop("members", None) or choose(
            list_members(scanner), kwargs.pop("accounts", ()), kwargs.get("shard")
        )
        return scan_aws_organization(
            scanner,
            policies,
            members=members,
            access=RoleAccess(ROLE, external_id=kwargs.pop("external_id", EXTERNAL_ID)),
            regions=(aws_world.REGION,),
            sampling=Sampling(size=0),
            watch=kwargs.pop("watch", guard.install),
            **kwargs,
        )
