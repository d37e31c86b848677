"""How the engine decides between PASS, FAIL, UNKNOWN and NOT_APPLICABLE around unknown fields."""

import copy
import json
from pathlib import Path

from cloudscan.engine import evaluate_one
from cloudscan.model import mark_unknown
from cloudscan.policyset import compile_policy

BASE = json.loads((Path(__file__).parent / "policy_cases" / "_base" / "storage.bucket.json").read_text())
META = {
    "title": "PHI buckets are not publicly readable",
    "severity": "high",
    "category": "public-exposure",
    "description": "A custom rule that only applies to buckets tagged as PHI.",
    "remediation": {"text": "Make it private."},
    "compliance": {},
    "references": [],
}


def policy(body, when=None, kind="storage.bucket"):
    applies = {"kind": kind, **({"when": when} if when else {})}
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "x-cloudscan": {"id": "test-policy", **META, "applies_to": applies},
        **body,
    }
    return compile_policy(schema, "test-policy.json")


PHI_ONLY = {
    "properties": {
        "labels": {"properties": {"DataClassification": {"const": "PHI"}}, "required": ["DataClassification"]}
    }
}
NOT_PUBLIC = {"properties": {"exposure": {"properties": {"public_read": {"const": False}}}}}


def bucket(labels, unknown=()):
    doc = copy.deepcopy(BASE)
    doc["labels"] = labels
    for pointer in unknown:
        mark_unknown(doc, [pointer], call="s3:GetBucketAcl", code="AccessDenied", message="denied")
    return doc


def test_a_policy_that_does_not_apply_is_not_applicable_even_if_other_fields_are_unknown():
    doc = bucket({"DataClassification": "public-website"}, unknown=["/exposure/public_read"])
    assert evaluate_one(policy(NOT_PUBLIC, when=PHI_ONLY), doc)["status"] == "NOT_APPLICABLE"


def test_unknown_applicability_is_unknown():
    doc = bucket(None, unknown=["/labels"])
    result = evaluate_one(policy(NOT_PUBLIC, when=PHI_ONLY), doc)
    assert result["status"] == "UNKNOWN"
    assert "s3:GetBucketAcl AccessDenied" in result["evidence"][0]["message"]


def test_unknown_field_the_result_depends_on_is_unknown():
    doc = bucket({"DataClassification": "PHI"}, unknown=["/exposure/public_read"])
    assert evaluate_one(policy(NOT_PUBLIC, when=PHI_ONLY), doc)["status"] == "UNKNOWN"


def test_unknown_number_is_never_guessed():
    # Only true/false fields are tried both ways; a number could be anything.
    doc = bucket({}, unknown=["/object_lock/retention_days"])
    doc["object_lock"] = {"enabled": True, "mode": "COMPLIANCE", "retention_days": None}
    body = {"properties": {"object_lock": {"properties": {"retention_days": {"maximum": 3650}}}}}
    assert evaluate_one(policy(body), doc)["status"] == "UNKNOWN"


def test_known_failure_wins_over_unknown_elsewhere():
    doc = bucket({}, unknown=["/versioning"])
    doc["exposure"]["public_read"] = True
    body = {
        "properties": {
            "exposure": NOT_PUBLIC["properties"]["exposure"],
            "versioning": {"properties": {"enabled": {"const": True}}},
        }
    }
    result = evaluate_one(policy(body), doc)
    assert result["status"] == "FAIL"
    assert [e["path"] for e in result["evidence"]] == ["$.exposure.public_read"]


def test_resources_judged_once_per_configuration_never_share_a_result_they_should_not():
    """The engine judges each distinct configuration once; a schema that reads more than the
    paths it names (patternProperties here) makes it compare whole fields instead."""
    from cloudscan.engine import Judgements, evaluate

    sneaky = policy(
        {
            "properties": {
                "encryption": {
                    "properties": {"enabled": {"const": True}},
                    "patternProperties": {"^kms_key$": {"type": "string"}},
                }
            }
        }
    )
    with_key, without_key = bucket({}), bucket({})
    with_key["encryption"] = {
        "enabled": True,
        "algorithm": "aws:kms",
        "kms_key": "arn:key-a",
        "bucket_key": None,
    }
    without_key["encryption"] = {"enabled": True, "algorithm": "aws:kms", "kms_key": None, "bucket_key": None}
    for order in ((with_key, without_key), (without_key, with_key)):
        judgements = Judgements()
        statuses = [evaluate([sneaky], doc, judgements)[0]["status"] for doc in order]
        expected = ["PASS", "FAIL"] if order[0] is with_key else ["FAIL", "PASS"]
        assert statuses == expected
        failed = evaluate([sneaky], without_key, judgements)[0]
        assert "arn:key-a" not in json.dumps(failed["evidence"])


def test_the_findings_of_a_resource_share_one_resource_block():
    # A dozen findings a bucket: one copy of what they say of it, not a dozen (memory of a large scan).
    from cloudscan.engine import evaluate

    doc = copy.deepcopy(BASE)
    findings = evaluate([policy(NOT_PUBLIC), policy(PHI_ONLY)], doc)
    assert len(findings) == 2
    assert findings[0]["resource"] is findings[1]["resource"]
    assert findings[0]["resource"] == {
        k: doc[k] for k in ("kind", "provider", "id", "name", "account", "region", "source")
    }
