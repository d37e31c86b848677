"""A managed DICOM store whose studies sit in the customer's own storage (an Azure DICOM service
on a Data Lake file system, the buckets AWS HealthImaging imports from) is as exposed as that
storage: the container's exposure folds into the store's. The one check that reads other
resources, so the scan holds such stores until every resource has been read (scan.run); it
compares ids only and knows no cloud."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cloudscan.model import mark_unknown

# a store's fact -> the container's facts that make it
FACTS = {"public_read": ("public_read", "public_list"), "public_write": ("public_write",)}
WORDS = {"public_read": "readable by anyone", "public_write": "writable by anyone"}
CALL = "cloudscan:copies"


def waits_for_storage(doc: dict[str, Any]) -> bool:
    """A store with a copy of type storage: judged once the storage has been read."""
    return doc["kind"] == "dicom.store" and any(c["type"] == "storage" for c in doc.get("copies") or [])


@dataclass
class StorageSeen:
    """What the scan read of storage, by lower-cased id: each container's exposure (None when
    it was not derived), and whether each account lets any container be public."""

    buckets: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    accounts: dict[str, bool | None] = field(default_factory=dict)

    def note(self, doc: dict[str, Any]) -> None:
        if doc["kind"] == "storage.bucket":
            self.buckets[doc["id"].lower()] = doc.get("exposure")
        elif doc["kind"] == "storage.account":
            self.accounts[doc["id"].lower()] = doc.get("allow_public_containers")


def fold_storage(store: dict[str, Any], seen: StorageSeen) -> None:
    """Add to the store's exposure what the storage holding its studies lets anyone do."""
    exposure = store.get("exposure")
    if exposure is None:
        return  # its own access was not read: unknown already
    for copy in store.get("copies") or []:
        if copy["type"] != "storage":
            continue
        for fact in FACTS:
            value, detail = _storage_fact(copy, fact, seen)
            reason = {"origin": f"copies: {copy['target']}", "effective": value, "neutralised_by": None}
            exposure["reasons"][fact].append({**reason, "detail": detail})
            if value is None and exposure[fact] is not True:
                mark_unknown(store, [f"/exposure/{fact}"], call=CALL, code="StorageNotRead", message=detail)
            elif value:
                exposure[fact] = True


def _storage_fact(copy: dict[str, Any], fact: str, seen: StorageSeen) -> tuple[bool | None, str]:
    target, account = copy["target"], copy.get("account")
    if target.lower() in seen.buckets:
        bucket = seen.buckets[target.lower()]
        values = [None] if bucket is None else [bucket.get(f) for f in FACTS[fact]]
        value = True if True in values else None if None in values else False
        what = copy.get("role") or "the container holding its studies"
        if value is None or bucket is None:
            return None, f"whether {what} is {WORDS[fact]} is unknown"
        reasons = [r for f in FACTS[fact] for r in bucket["reasons"].get(f, [])]
        because = [f"{r['origin']}: {r['detail']}" for r in reasons if r.get("effective")]
        said = f"{what} is {'' if value else 'not '}{WORDS[fact]}"
        return value, f"{said} ({'; '.join(because)})" if because else said
    if account and seen.accounts.get(account.lower()) is False:
        return False, f"its storage account {account} lets no container be public"
    return (
        None,
        f"{copy.get('role') or 'the storage holding its studies'} ({target}) was not read in this scan",
    )
