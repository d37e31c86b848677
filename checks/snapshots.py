"""Who besides its owner can restore a snapshot: everyone (shared with all), or accounts that
are neither the owner nor trusted. A restored snapshot is the whole disk or database, so
sharing it is the same door as a bucket policy naming another account."""

from __future__ import annotations

from typing import Any

from .derived import Derived

FACTS = ("public", "cross_account")


def snapshot_exposure(doc: dict[str, Any], context: Any) -> Derived:
    sharing = doc.get("sharing")
    if sharing is None:
        return Derived(
            {**dict.fromkeys(FACTS), "cross_account_principals": None, "reasons": {f: [] for f in FACTS}},
            unknown={f"/exposure/{f}": ["/sharing"] for f in FACTS}
            | {"/exposure/cross_account_principals": ["/sharing"]},
        )
    trusted = frozenset(getattr(context, "trusted_accounts", ()))
    owner = doc.get("account")
    public = bool(sharing["public"])
    public_reason = _reason(
        public,
        "shared with all: any AWS account can restore it" if public else "not shared with all",
    )
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
        }
    )


def _reason(effective: bool, detail: str, neutralised_by: str | None = None) -> dict[str, Any]:
    return {"origin": "sharing", "effective": effective, "neutralised_by": neutralised_by, "detail": detail}
