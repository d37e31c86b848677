"""Derived facts: pure functions from a normalised resource to fields a schema cannot compute.

A check reads fields an adapter filled and returns a derived block (`exposure`, `tls`, ...)
with `reasons` for each field. It knows no severity and no wording of findings, and it never
names a policy. When an input is unknown, the derived field is None and `derive` links it to
the error that made the input unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cloudscan.model import derive_unknown, mark_unknown

from . import data, endpoint, exposure, network, snapshots, transport
from .copies import StorageSeen, fold_storage, waits_for_storage
from .derived import Derived
from .organizations import Organizations

__all__ = [
    "CHECKS",
    "DERIVED_FROM",
    "READS_OTHERS",
    "CheckContext",
    "Derived",
    "Organizations",
    "StorageSeen",
    "derive",
    "fold_storage",
    "waits_for_storage",
]

Document = dict[str, Any]


@dataclass(frozen=True)
class CheckContext:
    """What the user told the scan that a resource cannot say about itself."""

    trusted_accounts: frozenset[str] = field(default_factory=frozenset)
    # AWS Organizations whose accounts are trusted, and whether that list is complete.
    organizations: Organizations = field(default_factory=Organizations)


Check = Callable[[Document, CheckContext], Derived]

# kind -> derived block -> (check, the top-level blocks it reads)
CHECKS: dict[str, dict[str, tuple[Check, list[str]]]] = {
    "storage.bucket": {
        "exposure": (exposure.bucket_exposure, ["access"]),
        "tls": (transport.bucket_tls, ["access"]),
        "data": (data.bucket_data, ["objects", "labels"]),
    },
    "storage.account": {
        "exposure": (network.account_exposure, ["network"]),
    },
    "storage.snapshot": {
        "exposure": (snapshots.snapshot_exposure, ["sharing", "guards"]),
    },
    "network.ingress": {
        "exposure": (network.ingress_exposure, ["rule"]),
    },
    "dicom.store": {
        # copies: the storage a store's studies sit in or came from (checks/copies.py)
        "exposure": (exposure.store_exposure, ["access", "copies"]),
    },
    "dicomweb.endpoint": {
        "exposure": (endpoint.dicomweb_exposure, ["access", "transport"]),
    },
    "dimse.endpoint": {
        "exposure": (endpoint.dimse_exposure, ["unknown_ae"]),
    },
}

# kind -> derived block -> other kinds it folds in (checks/copies.py) -> the blocks it reads of
# them: a policy on a store's exposure has the storage read too.
READS_OTHERS: dict[str, dict[str, dict[str, list[str]]]] = {
    "dicom.store": {
        "exposure": {"storage.bucket": ["access"], "storage.account": ["allow_public_containers"]}
    },
}

# kind -> derived block -> inputs; the scan reads only what enabled policies need.
DERIVED_FROM: dict[str, dict[str, list[str]]] = {
    kind: {block: inputs for block, (_, inputs) in checks.items()} for kind, checks in CHECKS.items()
}


def derive(doc: Document, context: CheckContext) -> Document:
    meta = doc["_meta"]
    for block, (check, inputs) in CHECKS.get(doc["kind"], {}).items():
        if all(f"/{name}" in meta["not_collected"] for name in inputs):
            doc[block] = None
            meta["not_collected"].append(f"/{block}")
            continue
        try:
            result = check(doc, context)
        except Exception as exc:  # a check's bug: its own block is unknown, the others stand
            mark_unknown(
                doc, [f"/{block}"], call="cloudscan:derive", code=type(exc).__name__, message=str(exc)
            )
            continue
        doc[block] = result.block
        for pointer, from_inputs in result.unknown.items():
            derive_unknown(doc, pointer, from_inputs)
        for pointer, (call, code, message) in result.untold.items():
            mark_unknown(doc, [pointer], call=call, code=code, message=message)
    return doc
