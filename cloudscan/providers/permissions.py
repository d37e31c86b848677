"""What a live adapter calls and what each call needs, as one table per cloud
(`providers/<cloud>/permissions.py`). The adapters consult their table to decide which calls a
scan makes; `cloudscan permissions` writes the cloud's least-privilege policy from the same
table, and the README's permission lists are that command's output (a test keeps them equal).

A table has two parts. `calls` names every call as the adapter names it in errors
("s3:GetBucketAcl", "storage.buckets.getIamPolicy") with the permissions it needs. `reads` maps
what a scan reads, a kind and one of its top-level fields, to the calls that read it:

    ("storage.bucket", "access"): ("s3:GetBucketAcl", ...)    when an enabled policy reads it
    ("storage.bucket", "*"): ("s3:ListBuckets",)               whenever the kind is read at all
    ("storage.bucket", "objects+access"): (...)                only when both fields are read
    ("*", "*"): ("sts:GetCallerIdentity",)                     in every scan
    ("storage.bucket", "labels"): ()                           the field comes with a listing

`scan.needed_fields(policies)` says which fields the enabled policies read; a call is needed
when any of its entries is read. Some needed calls are still not always made: those of a scan
option (`option`: the content sample, an organization's listing), which the generator leaves
out when the option is off, and those made only where an account holds what they read
(`when`: a prefix list, a bucket with fine-grained access), whose permissions stay in.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

CLOUDS = ("aws", "gcp", "azure")
EVERY = "*"
ALWAYS = (EVERY, EVERY)
# Scan options a call can depend on, as `cloudscan permissions` takes them.
OPTIONS = {
    "sample": "only with --sample > 0",
    "organization": "only with --organization",
    "inventory": "only with --source inventory or auto",
    "aggregator": "only with --config-aggregator",
}

Fields = dict[str, frozenset[str]] | None


@dataclass(frozen=True)
class Call:
    """One API call of an adapter and the permissions it needs."""

    permissions: tuple[str, ...]
    option: str | None = None  # made only when this scan option is on (a key of OPTIONS)
    when: str | None = None  # made only where the account holds what needs it
    data: bool = False  # Azure: the permissions are data actions


@dataclass(frozen=True)
class Needed:
    """One permission a scan needs, with the calls that need it and what they read."""

    permission: str
    calls: tuple[str, ...]
    reads: tuple[tuple[str, str], ...]
    only: tuple[str, ...]  # the conditions it is needed under; empty: in every such scan
    data: bool


@dataclass(frozen=True)
class Table:
    cloud: str
    calls: dict[str, Call]
    reads: dict[tuple[str, str], tuple[str, ...]]

    def __post_init__(self) -> None:
        named = {name for names in self.reads.values() for name in names}
        if named != set(self.calls):
            raise ValueError(
                f"{self.cloud} permissions: calls read but not described: {sorted(named - set(self.calls))}, "
                f"described but never read: {sorted(set(self.calls) - named)}"
            )
        if any(call.option not in (None, *OPTIONS) for call in self.calls.values()):
            raise ValueError(f"{self.cloud} permissions: an option not among {sorted(OPTIONS)}")

    def fields(self, kind: str) -> tuple[str, ...]:
        """The top-level fields of `kind` the adapter fills, in the table's order."""
        return tuple(f for k, f in self.reads if k == kind and f != EVERY and "+" not in f)

    def calls_for(self, fields: Fields) -> list[str]:
        """The calls a scan that reads `fields` (kind -> fields; None: everything) makes, in
        the table's order."""
        out: dict[str, None] = {}
        for (kind, field), names in self.reads.items():
            if _is_read(kind, field, fields):
                out.update(dict.fromkeys(names))
        return list(out)

    def needed(self, fields: Fields, options: frozenset[str] = frozenset(OPTIONS)) -> list[Needed]:
        """Every permission a scan that reads `fields` with these scan options needs."""
        found: dict[str, list[str]] = {}
        for name in self.calls_for(fields):
            call = self.calls[name]
            if call.option is None or call.option in options:
                for permission in call.permissions:
                    found.setdefault(permission, []).append(name)
        return [self._explained(permission, names, fields) for permission, names in found.items()]

    def _explained(self, permission: str, names: list[str], fields: Fields) -> Needed:
        reads = [
            key
            for key, listed in self.reads.items()
            if _is_read(*key, fields) and any(name in listed for name in names)
        ]
        calls = [self.calls[name] for name in names]
        return Needed(
            permission,
            tuple(names),
            tuple(dict.fromkeys(reads)),
            _conditions(calls),
            all(c.data for c in calls),
        )


def _is_read(kind: str, field: str, fields: Fields) -> bool:
    if kind == EVERY or fields is None:
        return True
    if kind not in fields:
        return False
    return field == EVERY or all(part in fields[kind] for part in field.split("+"))


def _conditions(calls: list[Call]) -> tuple[str, ...]:
    """When a permission is needed at all: when the option of any of its calls is on, and where
    the account holds what one of them reads. A call without either makes it always needed."""
    options = [c.option for c in calls]
    whens = [c.when for c in calls]
    out = [OPTIONS[o] for o in dict.fromkeys(o for o in options if o)] if all(options) else []
    if all(whens):
        out.append(f"only {' or '.join(dict.fromkeys(w for w in whens if w))}")
    return tuple(out)


def least_privilege(
    cloud: str, fields: Fields, options: frozenset[str] = frozenset(OPTIONS)
) -> tuple[list[Needed], dict[str, Any]]:
    """What a scan of `cloud` that reads `fields` with these scan options needs, and the same as
    the document the cloud's own tools take (an IAM policy, a custom role)."""
    module = importlib.import_module(f"cloudscan.providers.{cloud}.permissions")
    needed = module.TABLE.needed(fields, options)
    return needed, module.document(needed)
