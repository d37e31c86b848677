"""Derived facts: pure functions from a normalised resource to fields a schema cannot compute.

A check reads fields an adapter filled and writes a derived block (`exposure`, `tls`, ...)
with `reasons` for each field. It knows no severity and no wording of findings, and it
never names a policy. When an input is unknown, the derived field is None and is linked to
the error that made the input unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cloudscan.checks import exposure, network, transport

Document = dict[str, Any]


@dataclass(frozen=True)
class CheckContext:
    """What the user told the scan that a resource cannot say about itself."""

    trusted_accounts: frozenset[str] = field(default_factory=frozenset)


# kind -> derivations, in order (later ones may read what earlier ones wrote).
DERIVATIONS: dict[str, list[Callable[[Document, CheckContext], None]]] = {
    "storage.bucket": [exposure.derive_bucket_exposure, transport.derive_bucket_tls],
    "network.ingress": [network.derive_ingress_exposure],
}

# The fields each derived block is computed from; used to fetch only what enabled policies need.
DERIVED_FROM: dict[str, dict[str, list[str]]] = {
    "storage.bucket": {"exposure": ["access"], "tls": ["access"]},
    "network.ingress": {"exposure": ["rule"]},
}


def derive(doc: Document, context: CheckContext) -> Document:
    for derivation in DERIVATIONS.get(doc["kind"], []):
        derivation(doc, context)
    return doc
