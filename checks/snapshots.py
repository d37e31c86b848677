"""Who besides its owner can restore a snapshot: everyone (shared with all, unless the account
blocks all public sharing), or accounts that are neither the owner nor trusted. A restored
snapshot is the whole disk or database, so sharing it is the same door as a bucket policy
naming another account."""

from __future__ import annotations

from typing import Any

from cloudscan.model import unknown_inputs

from .derived import Derived

FACTS = ("public", "cross_account")
GUARD = "/guards/block_public_access"
BLOCKS_ALL = "block-all-sharing"


def snapshot_exposure(doc: dict[str, Any], context: Any) -> Derived:
    sharing = doc.get("sharing")
    if sharing is None:
        return Derived(
            {**dict.fromkeys(FACTS), "cross_account_principals": None, "reasons": {f: [] for f in FACTS}},
            unknown={f"/exposure/{f}": ["/sharing"] for f in (*FACTS, "cross_account_principals")},
        )
    public, public_reason, unknown = _public(doc, sharing)
    trusted = frozenset(getattr(context, "trusted_accounts", ()))
    owner = doc.get("account")
    named = sorted(set(sharing["accounts"]))
    foreign = [a for a in named if a != owner and a not in trusted]
    reasons = [
        _reason(
            a in foreign,
            f"shared with account {a}"
            + ("" if a in foreign else " (trusted)" if a in trusted else " (the owner)"),
            neutralised_by=None if a in foreign else ("--trusted-account" if a in trusted else "owner"),
        )
        for a in named
    ] or [_reason(False, "shared with no other account")]
    return Derived(
        {
            "public": public,
            "cross_account": bool(foreign),
            "cross_account_principals": foreign,
            "reasons": {"public": [public_reason], "cross_account": reasons},
        },
        unknown=unknown,
    )


def _public(
    doc: dict[str, Any], sharing: dict[str, Any]
) -> tuple[bool | None, dict[str, Any], dict[str, list[str]]]:
    if not sharing["public"]:
        return False, _reason(False, "not shared with all"), {}
    if unknown_inputs(doc, [GUARD]):
        detail = "shared with all; whether the account blocks public sharing of snapshots is unknown"
        return None, _reason(None, detail), {"/exposure/public": [GUARD]}
    guard = (doc.get("guards") or {}).get("block_public_access")
    if guard == BLOCKS_ALL:
        detail = "shared with all, but the account's block public access for snapshots blocks all sharing"
        return False, _reason(False, detail, neutralised_by=f"block public access: {BLOCKS_ALL}"), {}
    suffix = f" (block public access: {guard})" if guard else ""
    return True, _reason(True, f"shared with all: any AWS account can restore it{suffix}"), {}


def _reason(effective: bool | None, detail: str, neutralised_by: str | None = None) -> dict[str, Any]:
    return {"origin": "sharing", "effective": effective, "neutralised_by": neutralised_by, "detail": detail}
