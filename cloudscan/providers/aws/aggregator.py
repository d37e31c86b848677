"""An AWS Config aggregator as the source of S3 bucket items (--config-aggregator NAME with
--source inventory|auto): the organisation's recordings, asked with the scanner's own
credentials (the management account or Config's delegated administrator), in place of each
member account's own Config.

BatchGetAggregateResourceConfig, not SelectAggregateResourceConfig: advanced queries can select
only the properties of AWS Config's resource schema, and for AWS::S3::Bucket that schema has
Block Public Access, encryption, versioning and logging but neither the ACL nor the bucket
policy, the two settings that make a bucket public. The batch call returns whole configuration
items, with every supplementary part, for up to a hundred buckets of any accounts and regions a
call, so one call answers a hundred buckets of an account whatever their regions. An item is the
same BaseConfigurationItem as an account's own Config gives, read by inventory.RecordedS3.

One Aggregator serves every account of a scan. Until it has answered once, one account at a
time asks it: an aggregator that does not exist or is denied is asked once, said once, and the
other accounts go straight to their own Config."""

from __future__ import annotations

import threading
from typing import Any

from cloudscan.providers.aws.calls import error_of, persist
from cloudscan.providers.aws.clients import AwsClients
from cloudscan.providers.aws.inventory import BATCH, BUCKET, Unusable


class AggregatorUnusable(Unusable):
    """The aggregator cannot answer; `first` says whether this call found it out (and so is the
    one to say it), not whether others will fail too."""

    def __init__(self, message: str, *, first: bool) -> None:
        super().__init__(message)
        self.first = first


class Aggregator:
    def __init__(self, clients: AwsClients, name: str, region: str | None = None) -> None:
        self.clients, self.name = clients, name
        self.region = region or clients.default_region
        self._failure: str | None = None
        self._answered = False
        self._probe = threading.Lock()

    def recorded(self, account: str, names_by_region: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
        """The latest item of each of `account`'s buckets the aggregator holds, by name; buckets
        it does not hold are absent. AggregatorUnusable when it cannot answer."""
        keys = [
            {"SourceAccountId": account, "SourceRegion": region, "ResourceId": name, "ResourceType": BUCKET}
            for region, names in sorted(names_by_region.items())
            for name in names
        ]
        if not self._answered:
            with self._probe:
                if self._failure is not None:
                    raise AggregatorUnusable(self._failure, first=False)
                if not self._answered:
                    try:
                        out = self._ask(account, keys)
                    except Unusable as exc:
                        self._failure = str(exc)
                        raise AggregatorUnusable(self._failure, first=True) from None
                    self._answered = True
                    return out
        try:
            return self._ask(account, keys)
        except Unusable as exc:  # after it has answered once: this account's failure, said for it
            raise AggregatorUnusable(str(exc), first=True) from None

    def _ask(self, account: str, keys: list[dict[str, str]]) -> dict[str, dict[str, Any]]:
        config = self.clients.client("config", self.region)
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), BATCH):
            batch = keys[start : start + BATCH]
            while batch:
                try:
                    answer = persist(
                        config.batch_get_aggregate_resource_config,
                        ConfigurationAggregatorName=self.name,
                        ResourceIdentifiers=batch,
                    )
                except Exception as exc:
                    code, message = error_of(exc)
                    raise Unusable(f"{code}: {message}"[:300]) from None
                for item in answer.get("BaseConfigurationItems", []):
                    if (
                        item.get("resourceType") == BUCKET
                        and str(item.get("accountId")) == account
                        and item.get("configurationItemStatus") != "ResourceDeleted"
                    ):
                        out[str(item.get("resourceId"))] = item
                # Identifiers Config did not get to this time: asked again, as long as each call
                # gets through some of them.
                unprocessed = answer.get("UnprocessedResourceIdentifiers") or []
                batch = unprocessed if len(unprocessed) < len(batch) else []
        return out
