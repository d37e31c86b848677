"""Judge normalised resources against compiled policies.

Results: PASS, FAIL, UNKNOWN, NOT_APPLICABLE. A failure that touches a field listed in
`_meta.unknown` is UNKNOWN, and so is a pass that depended on one: a value that could not be
read never passes and never fails.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import sys
from typing import Any

from jsonschema.exceptions import ValidationError

from cloudscan.model import Document, boolean_fields, get_pointer, join_pointer, overlaps, set_pointer
from cloudscan.policyset import Policy

STATUSES = ("FAIL", "UNKNOWN", "PASS", "NOT_APPLICABLE", "MUTED")
MAX_ACTUAL_CHARS = 300
MAX_SUBSTITUTED = 4  # unknown true/false fields tried both ways: at most 16 evaluations


def fingerprint(policy_id: str, provider: str, resource_id: str) -> str:
    """Stable across scans: the same problem on the same resource always has the same id."""
    # surrogatepass: a lone surrogate from a .tf.json label is part of the id, not a crash.
    text = f"{policy_id}\x1f{provider}\x1f{resource_id}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class Judgements:
    """Results already worked out, by policy and by the part of a document the policy reads.
    Resources made from one template (for_each over a map, a module called a hundred times)
    differ in names and ids, which no policy reads: each is judged once. Bounded."""

    LIMIT = 50_000

    def __init__(self) -> None:
        self.known: dict[tuple[str, bytes], Judgement] = {}

    def judge(self, policy: Policy, doc: Document) -> Judgement:
        # A digest of what the policy reads, not the text (about 450 bytes a key on a bucket):
        # in an estate of buckets that all differ, the cache holds LIMIT of them.
        read = json.dumps(_what_policy_reads(policy, doc), sort_keys=True, default=str)
        key = (policy.id, hashlib.blake2b(read.encode("utf-8", "surrogatepass"), digest_size=16).digest())
        if key not in self.known:
            if len(self.known) >= self.LIMIT:
                self.known.clear()
            self.known[key] = _judge_or_settle(policy, doc)
        return self.known[key]


def _what_policy_reads(policy: Policy, doc: Document) -> dict[str, Any]:
    """Every value the policy's schema (and its evidence) can look at: the fields at the paths
    it names, the keys of the objects on the way (for `required`), the reasons beside each
    field, and `_meta`. A schema that names array items (`*`) gets whole top-level fields."""
    read: dict[str, Any] = {"kind": doc["kind"], "provider": doc["provider"], "_meta": doc["_meta"]}
    plan = policy.read_plan
    if plan is None:
        read.update({name: doc.get(name) for name in policy.fields_read})
        return read
    for path, parts, leaf in plan:
        parent: Any = doc
        for part in parts[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        value = parent.get(parts[-1]) if isinstance(parent, dict) else None
        if leaf:
            read[path] = value
            reasons = parent.get("reasons") if isinstance(parent, dict) else None
            if isinstance(reasons, dict):
                read[path + "#reasons"] = reasons.get(parts[-1])
        else:
            read[path] = sorted(value) if isinstance(value, dict) else type(value).__name__
    return read


def _value_at(doc: Document, pointer: str) -> Any:
    try:
        return get_pointer(doc, pointer)
    except (ValueError, IndexError):
        return None


def evaluate(
    policies: list[Policy], doc: Document, judgements: Judgements | None = None
) -> list[dict[str, Any]]:
    # One `resource` block for all the findings of a document, shared, not copied: with a
    # dozen policies a bucket, the copies were a fifth of a large scan's memory.
    resource = finding_resource(doc)
    return [evaluate_one(p, doc, judgements, resource) for p in policies if p.applies_to(doc)]


def finding_resource(doc: Document) -> dict[str, Any]:
    """What a finding says of its resource (read-only: the findings of a document share it)."""
    return {k: doc[k] for k in ("kind", "provider", "id", "name", "account", "region", "source")}


def evaluate_one(
    policy: Policy,
    doc: Document,
    judgements: Judgements | None = None,
    resource: dict[str, Any] | None = None,
) -> dict[str, Any]:
    resource = resource if resource is not None else finding_resource(doc)
    try:
        judgement = judgements.judge(policy, doc) if judgements else _judge_or_settle(policy, doc)
    except Exception as exc:  # a policy this engine cannot evaluate judges nothing, and ends nothing
        return _finding(
            policy,
            doc,
            "UNKNOWN",
            [
                {
                    "path": "$",
                    "schema_path": None,
                    "expected": None,
                    "actual": None,
                    "origin": None,
                    "reasons": [],
                    "message": f"could not evaluate: policy {policy.id} fails on this resource "
                    f"({type(exc).__name__}: {str(exc)[:200]})",
                }
            ],
            resource,
        )
    status, failures, unknown_paths = judgement
    # Evidence is read from this document: a judgement may have been made on a twin of it.
    if status == "FAIL":
        evidence = [_evidence(policy, e, doc) for e in failures]
    elif status == "UNKNOWN":
        evidence = _unknown_evidence(unknown_paths, doc)
    else:
        evidence = []
    return _finding(policy, doc, status, evidence, resource)


# A status, the schema errors behind a FAIL, and the paths an UNKNOWN depends on.
Judgement = tuple[str, list[ValidationError], frozenset[str]]


def _judge_or_settle(policy: Policy, doc: Document) -> Judgement:
    judgement = _judge(policy, doc)
    if judgement[0] == "UNKNOWN":
        settled = _settled_either_way(policy, doc)
        if settled:
            return settled, [], frozenset()
    return judgement


def _judge(policy: Policy, doc: Document) -> Judgement:
    unknown = doc["_meta"]["unknown"]
    if policy.when is not None and not policy.when.is_valid(doc):
        if _touches_unknown(policy.when_leaf_paths, unknown):
            return "UNKNOWN", [], policy.when_leaf_paths
        return "NOT_APPLICABLE", [], frozenset()
    errors = list(policy.validator.iter_errors(doc))
    known = [e for e in errors if not _error_touches_unknown(e, unknown)]
    if known:
        return "FAIL", known, frozenset()
    if errors or _touches_unknown(policy.leaf_paths, unknown):
        return "UNKNOWN", [], policy.leaf_paths
    return "PASS", [], frozenset()


def _settled_either_way(policy: Policy, doc: Document) -> str | None:
    """PASS (or NOT_APPLICABLE) when the unknown fields the policy reads are all true/false
    fields and no combination of their values would fail: e.g. an SSH rule whose source is
    unknown cannot open a DICOM port. Never turns UNKNOWN into FAIL."""
    suspects = [u for u in doc["_meta"]["unknown"] if any(overlaps(u, p) for p in policy.leaf_paths)]
    booleans = boolean_fields(doc["kind"])
    if (
        not suspects
        or len(suspects) > MAX_SUBSTITUTED
        or not all(any(overlaps(s, b) and s.count("/") == b.count("/") for b in booleans) for s in suspects)
    ):
        return None
    outcomes = set()
    for values in itertools.product((True, False), repeat=len(suspects)):
        trial = copy.deepcopy(doc)
        for pointer, value in zip(suspects, values, strict=True):
            set_pointer(trial, pointer, value)
        trial["_meta"]["unknown"] = []
        outcomes.add(_judge(policy, trial)[0])
    if outcomes <= {"PASS", "NOT_APPLICABLE"}:
        return "PASS" if "PASS" in outcomes else "NOT_APPLICABLE"
    return None


def _error_touches_unknown(error: ValidationError, unknown: list[str]) -> bool:
    pointer = join_pointer(list(error.absolute_path))
    return any(overlaps(pointer, u) for u in unknown)


def _touches_unknown(paths: frozenset[str], unknown: list[str]) -> bool:
    return any(overlaps(p, u) for p in paths for u in unknown)


def _finding(
    policy: Policy, doc: Document, status: str, evidence: list[dict[str, Any]], resource: dict[str, Any]
) -> dict[str, Any]:
    meta = policy.meta
    return {
        "fingerprint": fingerprint(policy.id, doc["provider"], doc["id"]),
        "policy_id": policy.id,
        "status": status,
        "severity": meta["severity"],
        "category": meta["category"],
        "title": meta["title"],
        "resource": resource,
        "evidence": evidence,
        "remediation": meta["remediation"],
        "compliance": meta["compliance"],
        "references": meta["references"],
        "suppression": None,
    }


def _evidence(policy: Policy, error: ValidationError, doc: Document) -> dict[str, Any]:
    path = list(error.absolute_path)
    reasons = _reasons_for(doc, path)
    # The same paths fail on many resources: one string each, not one per finding.
    return {
        "path": sys.intern("$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)),
        "schema_path": sys.intern(join_pointer(list(error.absolute_schema_path))),
        "expected": {str(error.validator): error.validator_value},
        "actual": _compact(_value_at(doc, join_pointer(path))),
        "message": _message(policy, error),
        "origin": reasons[0]["origin"] if reasons else None,
        "reasons": reasons,
    }


def _unknown_evidence(paths: frozenset[str], doc: Document) -> list[dict[str, Any]]:
    """One item per failing call that left a field this policy needs unknown."""
    out = []
    for error in doc["_meta"]["errors"]:
        touched = [p for p in error["pointers"] if any(overlaps(p, q) for q in paths)]
        if touched:
            out.append(
                {
                    "path": "$" + touched[0].replace("/", "."),
                    "schema_path": None,
                    "expected": None,
                    "actual": None,
                    "message": f"could not evaluate: {error['call']} {error['code']}: {error['message']}",
                    "origin": error["call"],
                    "reasons": [],
                }
            )
    if not out:
        unknown = [u for u in doc["_meta"]["unknown"] if any(overlaps(u, q) for q in paths)]
        out.append(
            {
                "path": "$" + ".".join(unknown[:1]).replace("/", "."),
                "schema_path": None,
                "expected": None,
                "actual": None,
                "origin": None,
                "reasons": [],
                "message": f"could not evaluate: {', '.join(unknown) or 'an input'} is unknown",
            }
        )
    return out


def _reasons_for(doc: Document, path: list[Any]) -> list[dict[str, Any]]:
    """Derived blocks keep `reasons[field]` beside the field; show them with its failure."""
    if not path:
        return []
    parent = get_pointer(doc, join_pointer(path[:-1]))
    if isinstance(parent, dict) and isinstance(parent.get("reasons"), dict):
        return [r for r in parent["reasons"].get(str(path[-1]), []) if r.get("effective") is not False]
    return []


def _message(policy: Policy, error: ValidationError) -> str:
    """The nearest x-cloudscan-message on the failing subschema or its ancestors."""
    schema_path = list(error.absolute_schema_path)
    body = policy.validator.schema
    for cut in range(len(schema_path), -1, -1):
        node: Any = body
        for part in schema_path[:cut]:
            # A schema path indexes a list with an int only: mypy cannot pair the two.
            node = node[part] if isinstance(node, dict | list) else None  # type: ignore[index]
        if isinstance(node, dict) and "x-cloudscan-message" in node:
            return node["x-cloudscan-message"]
    return f"{policy.meta['title']}: {error.message}"


def _compact(value: Any) -> Any:
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k != "reasons"}
    text = json.dumps(value, default=str)
    if len(text) > MAX_ACTUAL_CHARS:
        return text[:MAX_ACTUAL_CHARS] + "…"
    return value
