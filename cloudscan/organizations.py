"""Which AWS Organizations an AWS scan trusts, for the checks (CheckContext.organizations).

A grant pinned to an organisation (aws:PrincipalOrgID...) is internal when the organisation is
the scanned account's own or one the user named with --organization-id, and reaches someone
else's accounts otherwise. The account's own is read with organizations:DescribeOrganization,
once a scan, when the enabled policies judge who can reach a bucket.

Decisions: an account in no organisation (AWSOrganizationsNotInUseException) has no
organisation of its own, so every organisation a grant names is foreign unless given. A read
that is refused (AccessDenied, a throttle that outlasted its retries) leaves the account's
organisation unknown: without --organization-id, grants pinned to an organisation are UNKNOWN
with that error, never PASS; with it, the organisations given are the list (the user said
which are trusted), and a grant to any other is reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cloudscan.checks import Organizations

CALL = "organizations:DescribeOrganization"


def trusted_organizations(session: Any, scope: Any, given: Iterable[str]) -> Organizations:
    """The organisations an AWS scan through `session` trusts: those `given`, and the account's
    own where `scope` (providers.aws.AwsScope) judges bucket access."""
    from cloudscan.providers.aws.organization import describe_organization
    from cloudscan.providers.aws.permissions import TABLE

    given = frozenset(given)
    if not scope.makes(TABLE, CALL):
        return Organizations.given(given)
    read = describe_organization(session, scope.pacing)
    if read.refused is None:
        return Organizations(given | ({read.id} if read.id else set()), None)
    if given:
        return Organizations.given(given)
    return Organizations.unread(CALL, *read.refused)
