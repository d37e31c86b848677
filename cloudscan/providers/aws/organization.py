"""An AWS Organization: which one the scanned account belongs to (organizations:
DescribeOrganization), and account by account: its active accounts (organizations:ListAccounts,
from the management account or a delegated administrator), a role assumed in each
(assume.py), and each account read by the one-account adapter (enumerate_aws), several accounts
at a time.

What fails for one account is that account's: a role it refuses to let the scanner assume is an
error naming the account, its account-wide settings are UNKNOWN for that reason, and the other
accounts are scanned. Only the scanner's own credentials being refused (expired, invalid) stops
the scan, since every account would fail the same way.

Concurrency: `parallel` accounts are read at once, each with its own pool of `scope.concurrency`
threads, so at most `parallel * concurrency` calls are in flight. AWS throttles API calls per
account (and per region), so the per-account number is what meets a rate limit; the accounts in
parallel only add load on this machine, not on any one account's budget."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cloudscan.model import CredentialsRefused, Document, ErrorSink, scan_error
from cloudscan.providers.aws import CREDENTIALS_REFUSED, UNREACHABLE, AwsScope, enumerate_aws, s3
from cloudscan.providers.aws.aggregator import Aggregator
from cloudscan.providers.aws.assume import Assumer, RoleAccess, member_session
from cloudscan.providers.aws.calls import error_of
from cloudscan.providers.aws.clients import AwsClients
from cloudscan.providers.fanout import stream_in_order
from cloudscan.providers.pacing import Pacing
from cloudscan.shard import Shard

# Account states that serve no data (organizations:ListAccounts `State`, or the older `Status`).
ACTIVE = "ACTIVE"


class OrganizationError(Exception):
    """The organization's accounts cannot be listed, or --accounts names none of them: nothing
    is scanned (exit 2). The message says what to do."""


@dataclass(frozen=True)
class Member:
    id: str
    name: str = ""
    organization: str = ""  # the organization's id, from the account's ARN


# arn:aws:organizations::MANAGEMENT:account/o-ORGANIZATION/ACCOUNT, as ListAccounts gives it
ORGANIZATION_IN_ARN = re.compile(r":account/(o-[a-z0-9]{10,32})/\d{12}$")


def _organization_of(account: dict[str, Any]) -> str:
    found = ORGANIZATION_IN_ARN.search(str(account.get("Arn") or ""))
    return found.group(1) if found else ""


def list_members(session: Any) -> list[Member]:
    """The active accounts of the organization the session's account manages, by account id."""
    clients = AwsClients(session)
    try:  # quickly, whether AWS answers and takes the credentials at all
        clients.first_call_client("sts").get_caller_identity()
    except Exception as exc:
        code, message = error_of(exc)
        raise OrganizationError(f"sts:GetCallerIdentity {code}: {message}") from None
    try:  # with the scan's retries: Organizations allows few requests a second
        pages = clients.client("organizations").get_paginator("list_accounts").paginate()
        accounts = [account for page in pages for account in page.get("Accounts", [])]
    except Exception as exc:
        code, message = error_of(exc)
        status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
        hint = ""
        if status == 403 or code in ("AWSOrganizationsNotInUseException", "AccessDeniedException"):
            hint = (
                " (run from the organization's management account, or from an account the "
                "organization has made a delegated administrator, with organizations:ListAccounts)"
            )
        raise OrganizationError(f"organizations:ListAccounts {code}: {message}{hint}") from None
    members = {
        a["Id"]: Member(a["Id"], str(a.get("Name") or ""), _organization_of(a))
        for a in accounts
        if (a.get("State") or a.get("Status")) == ACTIVE and a.get("Id")
    }
    if not members:  # AWS lists the management account at least
        raise OrganizationError("organizations:ListAccounts listed no active account")
    return [members[key] for key in sorted(members)]


# The organisation an account belongs to: its id (None for an account in no organisation), or
# the (code, message) of a DescribeOrganization that could not be answered.
@dataclass(frozen=True)
class OrganizationRead:
    id: str | None = None
    refused: tuple[str, str] | None = None


def describe_organization(session: Any, pacing: Pacing | None = None) -> OrganizationRead:
    """The organisation the session's account belongs to (organizations:DescribeOrganization,
    which any account of an organisation may call, not only its management account)."""
    try:  # asked before the scan's first call: it gives up as quickly when AWS cannot be reached
        clients = AwsClients(session, pacing=pacing)
        answer = clients.first_call_client("organizations").describe_organization()
    except Exception as exc:
        code, message = error_of(exc)
        if code in UNREACHABLE:  # no call of the scan would get through: stop now, not later
            raise CredentialsRefused(
                f"cannot reach AWS: organizations:DescribeOrganization {code}: {message}"
            ) from None
        if code == "AWSOrganizationsNotInUseException":  # an account in no organisation
            return OrganizationRead()
        if code.isdigit():  # a body that is no AWS error (a proxy's page; moto's XML): no echo
            code, message = ("AccessDenied" if code == "403" else f"HTTP{code}"), f"HTTP {code}"
        return OrganizationRead(refused=(code, message))
    found = str((answer.get("Organization") or {}).get("Id") or "")
    if not found:
        return OrganizationRead(refused=("NoOrganizationId", "the answer named no organisation"))
    return OrganizationRead(id=found)


def choose(members: list[Member], wanted: tuple[str, ...] = (), shard: Shard | None = None) -> list[Member]:
    """The members to scan: those of `wanted` (every one when empty), then this shard's."""
    if wanted:
        known = {m.id for m in members}
        missing = sorted(set(wanted) - known)
        if missing:
            raise OrganizationError(
                f"--accounts: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not an active "
                f"account of the organization ({len(members)} active accounts listed)"
            )
        members = [m for m in members if m.id in wanted]
    if shard is not None:
        members = [m for m in members if shard.holds(m.id)]
    return members


def enumerate_organization(
    session: Any,
    scope: AwsScope,
    members: list[Member],
    access: RoleAccess,
    errors: ErrorSink,
    *,
    parallel: int = 4,
    watch: Callable[[Any], None] | None = None,
) -> Iterator[Document]:
    """Documents of every member account, in account order; `watch` is shown every session made
    for a member (the progress count, a test's read-only guard)."""
    from botocore.loaders import create_loader

    assumer = Assumer(session, access, max_pool=parallel)
    models = create_loader()  # shared by every account's session
    aggregator = None
    if scope.aggregator and scope.source != "api":  # asked as the scanner, not as each member
        own = AwsClients(session, max_pool=parallel, pacing=scope.pacing)
        aggregator = Aggregator(own, scope.aggregator, scope.aggregator_region)

    def read(member: Member) -> Iterator[Document]:
        return _read_member(session, scope, member, assumer, errors, watch, models, aggregator)

    yield from stream_in_order(members, read, parallel, "cloudscan-aws-account")


def _read_member(
    session: Any,
    scope: AwsScope,
    member: Member,
    assumer: Assumer,
    errors: ErrorSink,
    watch: Callable[[Any], None] | None,
    models: Any,
    aggregator: Aggregator | None,
) -> Iterator[Document]:
    try:
        credentials = assumer.credentials(member.id)
    except Exception as exc:
        code, message = error_of(exc)
        if code in CREDENTIALS_REFUSED or code in UNREACHABLE:
            # The scanner's own credentials: every other account would be refused the same way.
            raise CredentialsRefused(f"sts:AssumeRole {code}: {message}") from None
        said = f"{_named(member)} not scanned: {assumer.role_arn(member.id)} not assumed: {message}"
        errors.append(scan_error("sts:AssumeRole", code, said, _where(member)))
        if scope.wants("storage.account"):
            yield s3.describe_account(member.id, {"error": (code, said), "call": "sts:AssumeRole"})
        return
    found: ErrorSink = []
    try:
        acting = member_session(session, credentials, models)
        if watch is not None:
            watch(acting)
        yield from enumerate_aws(acting, scope, found, account=member.id, aggregator=aggregator)
    except CredentialsRefused as exc:  # the assumed role's credentials, in this account only
        found.append(scan_error("cloudscan:account", "CredentialsRefused", f"{_named(member)}: {exc}"))
    except Exception as exc:  # a bug or an unexpected answer: this account's, not the scan's
        code, message = error_of(exc)
        found.append(scan_error("cloudscan:read", code, f"could not read {_named(member)}: {message}"))
    finally:
        errors.extend(_in_account(error, member) for error in found)


def _named(member: Member) -> str:
    return f"account {member.id}" + (f" ({member.name})" if member.name else "")


def _where(member: Member) -> str:
    return f"aws-account/{member.id}"


def _in_account(error: dict[str, Any], member: Member) -> dict[str, Any]:
    """An account-wide error of one member names that member: 20 accounts' `s3:ListBuckets
    AccessDenied` must say whose."""
    where = _where(member)
    resource = error.get("resource")
    return {**error, "resource": where if not resource else f"{where}: {resource}"}
