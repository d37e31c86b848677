"""Shards of a large scan: `--shard I/N` scans the I-th of N slices of the accounts (an AWS
organization), projects (Google Cloud) or subscriptions (Azure) the scan would otherwise read, so
that N machines share it and `cloudscan merge` puts their reports back together.

Shards are numbered from 1, as people count them and as a GitHub Actions matrix of [1, 2, 3, 4]
gives them; a Kubernetes Indexed Job's JOB_COMPLETION_INDEX counts from 0, so it is given as
`$((JOB_COMPLETION_INDEX + 1))/N`.

Which shard holds an id depends on the id alone (a SHA-256 of it, modulo N), never on the order
or the length of a listing: two machines that list the organization a minute apart, one of them
after an account was added, still agree on every id they both see, and each id is in exactly one
shard. The price is that shards are only about equal: 20 accounts over 4 shards may be 7, 5, 4, 4.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

MAX_SHARDS = 10_000  # a bound against a typo, far beyond any machine count
_SHARD = re.compile(r"\s*(\d{1,6})\s*/\s*(\d{1,6})\s*")


class ShardError(ValueError):
    """A --shard value that names no shard: the message says why and what would."""


@dataclass(frozen=True)
class Shard:
    index: int  # 1..count
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_SHARDS:
            raise ShardError(f"the shard count must be between 1 and {MAX_SHARDS}, not {self.count}")
        if not 1 <= self.index <= self.count:
            hint = ""
            if self.index == 0:
                hint = (
                    ": shards are numbered from 1 (with a Kubernetes Indexed Job, give "
                    "$((JOB_COMPLETION_INDEX + 1))/N)"
                )
            raise ShardError(f"shard {self.index}/{self.count} does not exist{hint}")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """`I/N`, with 1 <= I <= N."""
        match = _SHARD.fullmatch(text)
        if match is None:
            raise ShardError(f"expected I/N (for example 2/4), not {text!r}")
        return cls(int(match[1]), int(match[2]))

    def holds(self, unit: str) -> bool:
        """Whether this shard scans the account, project or subscription `unit`."""
        return shard_of(unit, self.count) == self.index

    def take(self, units: list[str]) -> list[str]:
        return [unit for unit in units if self.holds(unit)]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_of(unit: str, count: int) -> int:
    """The shard (1..count) that holds `unit`. Ids are compared as the clouds spell them, except
    for case: Azure subscription ids are case-insensitive, and account and project ids have one
    case only."""
    digest = hashlib.sha256(unit.strip().lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1
