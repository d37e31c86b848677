"""Who can reach a bucket, for AWS, GCP and Azure alike (cases/exposure_neutral.json): the
specification every live adapter and Terraform mapper meets, judged on normalised blocks."""

import copy
import json
from pathlib import Path

import pytest

from cloudscan.checks import CheckContext
from cloudscan.checks.exposure import bucket_exposure

HERE = Path(__file__).parent
TABLE = json.loads((HERE / "cases" / "exposure_neutral.json").read_text())
BASE = json.loads((HERE / "policy_cases" / "_base" / "storage.bucket.json").read_text())
FLAGS = ("block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets")


def grant(short: dict) -> dict:
    kind, _, rest = short["who"].partition(":")
    account, _, member = rest.partition(":") if kind == "member" else (rest or None, "", rest)
    principal = {
        "type": "aws" if kind == "aws" else kind,
        "id": member or rest or short["who"],
        "account": account or None,
        "negated": False,
    }
    return {
        "effect": "allow",
        "principal": principal,
        "permissions": short["can"],
        "actions": short["can"],
        "via": short["via"],
        "conditions": short.get("conditions"),
        "origin": f"case {short['who']}",
        "resources": None,
    }


def document(case: dict) -> dict:
    doc = copy.deepcopy(BASE)
    doc["provider"] = case["provider"]
    doc["account"] = TABLE["owner_account"] if case["provider"] == "aws" else "radiology-prod"
    guards = dict(case["guards"])
    for key in ("account_block_public_access", "bucket_block_public_access"):
        if key in guards:
            guards[key] = dict.fromkeys(FLAGS, guards[key] == "on")
    doc["access"] = {
        "guards": guards,
        "acl": {"owner": None, "grant_count": 0},
        "policy": {"present": True, "statement_count": 1},
        "grants": [grant(g) for g in case["grants"]],
    }
    for pointer in case.get("unknown", []):
        doc["_meta"]["unknown"].append(pointer)
        if pointer == "/access/policy":
            doc["access"]["policy"] = None
    return doc


def test_table_covers_the_three_clouds():
    assert {c["provider"] for c in TABLE["cases"]} == {"aws", "gcp", "azure"}
    assert len(TABLE["cases"]) >= 20


@pytest.mark.parametrize("case", TABLE["cases"], ids=[c["name"] for c in TABLE["cases"]])
def test_exposure(case):
    derived = bucket_exposure(
        document(case), CheckContext(trusted_accounts=frozenset(case.get("trusted", ())))
    )
    exposure = derived.block
    assert {fact: exposure[fact] for fact in case["expect"]} == case["expect"], case["name"]
    for fact, value in case["expect"].items():
        if value:  # a True fact says which grant made it so
            assert any(r["effective"] for r in exposure["reasons"][fact]), fact
