"""Who reaches a bucket through a CDN that serves it (`access.cdn`): a CloudFront distribution
makes a private bucket public when the bucket lets the distribution read (its origin access
control or identity is granted) and some route to that origin asks viewers for nothing.

Two questions per distribution and origin, each three-valued:
- can the CDN fetch? A signing origin (OAC, OAI) reads what the bucket policy grants it; an
  anonymous one (no identity, or a website endpoint) reads only what is public anyway, which the
  bucket's own facts already count, so it adds nothing here.
- may anyone ask? A route that needs signed URLs or cookies does not serve strangers; one with
  code on viewer requests may authenticate them (unknown); any other route serves anyone.
Geo restriction and viewer protocol are recorded in the reason: they do not make content private.
"""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any

from cloudscan.model import unknown_inputs

from .aws_conditions import binding_pairs, values_of

Grant = dict[str, Any]
Tri = bool | None
CDN_FACTS = {"public_read": "read", "public_list": "list"}
SERVICE = "cloudfront.amazonaws.com"
OAI_USER = "CloudFront Origin Access Identity "
# Condition keys that tie a service's requests to one source (a placeholder a Terraform
# configuration holds for an ARN known after apply is such a value too).
SOURCE_KEYS = frozenset(("aws:sourcearn", "aws:sourceaccount", "aws:sourceowner", "aws:sourceorgid"))


def cdn_reasons(doc: dict[str, Any], allowed: list[tuple[Grant, set[str]]]) -> Iterator[tuple[str, dict]]:
    """(fact, reason) for each way a CDN serves the bucket. `allowed`: the bucket's allow grants
    with the permissions left after its Deny statements."""
    access = doc["access"]
    yield from _any_distribution(allowed)
    entries = access.get("cdn")
    if entries is None:
        if unknown_inputs(doc, ["/access/cdn"]):
            unread = "unknown: the distributions that serve it could not be read"
            for fact in CDN_FACTS:
                yield fact, _reason("CDN", None, unread, "")
        return
    for entry in entries:
        if not entry["enabled"] or entry["origin_identity"]["type"] is None:
            continue  # serves nothing, or fetches anonymously: no more than the bucket's own facts
        for fact, permission in CDN_FACTS.items():
            routes = [r for r in entry["routes"] if fact != "public_list" or r["path"] in ("*", "/")]
            if not routes:
                continue
            fetch, why_not = _can_fetch(entry, access, allowed, permission)
            yield fact, _judged(entry, routes, fetch, why_not)


def _any_distribution(allowed: list[tuple[Grant, set[str]]]) -> Iterator[tuple[str, dict]]:
    """A grant to the CloudFront service limited to no distribution and no account lets anyone's
    distribution read the bucket: anyone with an AWS account can create one pointing at it."""
    for grant, kept in allowed:
        who = grant["principal"]
        if (
            grant["via"] != "policy"
            or who["negated"]
            or who["type"] != "service"
            or who["id"].lower() != SERVICE
        ):
            continue
        pairs = [(key.lower(), values_of(raw)) for _, key, raw in binding_pairs(grant["conditions"])]
        if any(key in SOURCE_KEYS and values and all(_pins(key, v) for v in values) for key, values in pairs):
            continue  # limited to some accounts' distributions: cross-account access at most
        for fact, permission in CDN_FACTS.items():
            if permission in kept:
                detail = (
                    f"public through CloudFront: {grant['origin']} lets any distribution, in any account, "
                    f"{permission} (no aws:SourceArn or aws:SourceAccount names this account's own)"
                )
                yield fact, _reason(grant["origin"], True, None, detail)


def _pins(key: str, value: str) -> bool:
    """Whether a condition value holds requests to named accounts: a distribution ARN whose
    account is written out (any distribution of it, with a wildcard id), or a fixed account."""
    if "${" in value:
        return True  # a Terraform placeholder: one resource's ARN or id, known after apply
    if key == "aws:sourcearn":
        parts = _canonical(value).split(":")
        return len(parts) > 5 and parts[4] != "" and not any(ch in parts[4] for ch in "*?")
    return not any(ch in value for ch in "*?")


def _judged(entry: dict[str, Any], routes: list[dict[str, Any]], fetch: Tri, why_not: str) -> dict:
    name = f"{entry['service']} {entry['id']}"
    if fetch is False:
        return _reason(name, False, why_not, _served(entry, routes[0]))
    opened = [r for r in routes if not r["signed_requests"] and not r["viewer_request_code"]]
    coded = [r for r in routes if not r["signed_requests"] and r["viewer_request_code"]]
    if opened:
        by = None if fetch else why_not
        detail = _served(entry, opened[0], public=bool(fetch)) + " without signed URLs or cookies"
        return _reason(name, fetch, by, detail)
    if coded:
        code = ", ".join(coded[0]["viewer_request_code"])
        by = f"unknown: code on viewer requests ({code}) may authenticate viewers"
        return _reason(name, None, by, _served(entry, coded[0]))
    signers = ", ".join(dict.fromkeys(s for r in routes for s in r["signed_requests"]))
    return _reason(name, False, f"signed URLs or cookies ({signers})", _served(entry, routes[0]))


def _served(entry: dict[str, Any], route: dict[str, Any], *, public: bool = False) -> str:
    named = f"{entry['id']} ({entry['domain']})" if entry["domain"] else entry["id"]
    geo = entry["geo_restriction"] or {"type": "none", "locations": []}
    where = "no geo restriction"
    if geo["type"] != "none":
        where = f"geo {geo['type']} {','.join(geo['locations'])}"
    notes = [f"viewer protocol {route['viewer_protocol']}", where]
    if entry.get("firewall"):
        notes.append("a web ACL whose rules were not read")
    how = "public through" if public else "served by"
    return (
        f"{how} CloudFront distribution {named}: route {route['path']} to origin "
        f"{entry['origin']['domain']} ({'; '.join(notes)})"
    )


def _reason(origin: str, effective: Tri, by: str | None, detail: str) -> dict[str, Any]:
    return {"origin": origin, "effective": effective, "neutralised_by": by, "detail": detail}


def _can_fetch(
    entry: dict[str, Any], access: dict[str, Any], allowed: list[tuple[Grant, set[str]]], permission: str
) -> tuple[Tri, str]:
    """Whether the bucket lets this distribution's signing identity `permission`, and if not why."""
    identity = entry["origin_identity"]
    granted = [g for g, kept in allowed if permission in kept and _names(g, entry)]
    if granted:
        return True, ""
    what = f"origin access {'control' if identity['type'] == 'oac' else 'identity'} {identity['id']}"
    if access.get("policy") is None:
        return None, f"unknown: the bucket policy, which would let {what} read, could not be read"
    return False, f"the bucket policy does not let {what} of this distribution {permission}"


def _names(grant: Grant, entry: dict[str, Any]) -> bool:
    """Whether a grant is for this distribution's OAC (the CloudFront service principal, limited to
    this distribution or not limited at all) or its OAI (the identity's IAM user)."""
    who = grant["principal"]
    if who["negated"] or grant["via"] != "policy":
        return False
    if entry["origin_identity"]["type"] == "oai":
        return who["type"] == "aws" and who["id"].endswith(OAI_USER + str(entry["origin_identity"]["id"]))
    if who["type"] != "service" or who["id"].lower() != SERVICE:
        return False
    for _, key, raw in binding_pairs(grant["conditions"]):
        if key.lower() == "aws:sourcearn" and not any(
            _same_arn(v, entry["resource"]) for v in values_of(raw)
        ):
            return False
        account = _account(entry["resource"])
        if key.lower() == "aws:sourceaccount" and account and account not in values_of(raw):
            return False
    return True


def _same_arn(pattern: str, arn: str | None) -> bool:
    """A SourceArn value names the distribution: equal, or a wildcard that matches it. Emulators
    leave out the empty region of a CloudFront ARN, so both are compared in the real form."""
    if arn is None:
        return False
    return pattern == arn or fnmatchcase(_canonical(arn), _canonical(pattern))


def _canonical(arn: str) -> str:
    parts = arn.split(":")
    if len(parts) == 5 and parts[2] == "cloudfront":  # arn:aws:cloudfront:ACCOUNT:distribution/ID
        parts.insert(3, "")
    return ":".join(parts)


def _account(arn: str | None) -> str | None:
    parts = _canonical(arn or "").split(":")
    return parts[4] if len(parts) > 5 else None
