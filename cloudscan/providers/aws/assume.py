"""A role assumed in another account (sts:AssumeRole), and a session that acts in that account.

The credentials are refreshable: AssumeRole gives them for an hour (the longest every role
allows, and the limit when the scanner's own credentials come from a role), and botocore asks for
new ones in the last quarter of an hour before they expire, as often as the scan needs. A scan of
a large account is never cut off by its credentials, as long as the scanner's own credentials
(the ones that assume) stay valid.

AssumeRole is the one call of a scan that is no read: it issues credentials, and changes
nothing in either account. CloudTrail records it in both, with the session name `cloudscan-<time>`,
so an administrator can tell the scanner's sessions from anyone else's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cloudscan.providers.aws.clients import AwsClients

DURATION_SECONDS = 3600


@dataclass(frozen=True)
class RoleAccess:
    """The role to assume in every account: `arn:<partition>:iam::<account>:role/<role_name>`."""

    role_name: str
    external_id: str | None = field(default=None, repr=False)  # a shared secret: never printed
    session_name: str = field(default_factory=lambda: f"cloudscan-{int(time.time())}")


class Assumer:
    """Assumes the role in one account after another, through the scanner's own session."""

    def __init__(self, session: Any, access: RoleAccess, *, max_pool: int = 8) -> None:
        self.session = session
        self.access = access
        self._clients = AwsClients(session, max_pool=max_pool)
        self._partition = session.get_partition_for_region(self._clients.default_region)

    def role_arn(self, account: str) -> str:
        return f"arn:{self._partition}:iam::{account}:role/{self.access.role_name}"

    def credentials(self, account: str) -> Any:
        """Refreshable credentials of the role in `account`; the first AssumeRole is made now, so
        a refusal (botocore's ClientError) is raised here, before anything of the account is read."""
        from botocore.credentials import RefreshableCredentials

        fetch = self._fetcher(account)
        return RefreshableCredentials.create_from_metadata(
            metadata=fetch(), refresh_using=fetch, method="sts-assume-role"
        )

    def _fetcher(self, account: str) -> Callable[[], dict[str, str]]:
        sts = self._clients.client("sts")
        request: dict[str, Any] = {
            "RoleArn": self.role_arn(account),
            "RoleSessionName": self.access.session_name,
            "DurationSeconds": DURATION_SECONDS,
        }
        if self.access.external_id:
            request["ExternalId"] = self.access.external_id

        def fetch() -> dict[str, str]:
            issued = sts.assume_role(**request)["Credentials"]
            return {
                "access_key": issued["AccessKeyId"],
                "secret_key": issued["SecretAccessKey"],
                "token": issued["SessionToken"],
                "expiry_time": issued["Expiration"].isoformat(),
            }

        return fetch


def member_session(base: Any, credentials: Any, loader: Any = None) -> Any:
    """A boto3 session acting with `credentials`, configured as `base` is (its profile's region,
    endpoint and CA bundle; AWS_ENDPOINT_URL), whose credential chain is those credentials alone.
    Sessions given one `loader` (botocore.loaders.Loader) read each API's model once, not once
    per account: EC2's alone takes half a second to parse."""
    import boto3
    import botocore.session
    from botocore.credentials import CredentialProvider, CredentialResolver

    class Assumed(CredentialProvider):
        METHOD = "sts-assume-role"

        def load(self) -> Any:
            return credentials

    profile = base.profile_name if base.profile_name in base.available_profiles else None
    core = botocore.session.Session(profile=profile)
    core.register_component("credential_provider", CredentialResolver([Assumed()]))
    if loader is not None:
        core.register_component("data_loader", loader)
    return boto3.Session(botocore_session=core, region_name=base.region_name)
