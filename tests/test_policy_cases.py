"""Each policy against normalised documents: policy_cases/<policy-id>.json.

A case starts from a compliant base document, sets fields by JSON pointer (`set`), marks
fields unreadable with the call that failed (`unknown`), and says what the policy must answer.
NOT_EVALUATED means the policy does not apply to the document at all.
"""

import copy
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from cloudscan.engine import evaluate_one
from cloudscan.model import load_schema, mark_unknown, schema_registry, set_pointer

HERE = Path(__file__).parent / "policy_cases"
FILES = sorted(HERE.glob("*.json"))
CASES = [(f.stem, c) for f in FILES for c in json.loads(f.read_text())["cases"]]


def build_document(policy_file: str, case: dict) -> dict:
    spec = json.loads((HERE / f"{policy_file}.json").read_text())
    doc = copy.deepcopy(json.loads((HERE / spec["base"]).read_text()))
    for pointer, value in case.get("set", {}).items():
        set_pointer(doc, pointer, value)
    for pointer, failure in case.get("unknown", {}).items():
        call, code = failure.split(" ", 1)
        mark_unknown(doc, [pointer], call=call, code=code, message="injected by the policy case")
    return doc


@pytest.mark.parametrize(("policy_id", "case"), CASES, ids=[f"{p}: {c['name']}" for p, c in CASES])
def test_policy_case(policy_id, case, builtin_policies):
    (policy,) = [p for p in builtin_policies if p.id == policy_id]
    doc = build_document(policy_id, case)
    kind_schema = Draft202012Validator(load_schema(doc["kind"]), registry=schema_registry())
    assert not list(kind_schema.iter_errors(doc)), "the case document must be a valid resource"

    if case["expect"] == "NOT_EVALUATED":
        assert not policy.applies_to(doc)
        return
    finding = evaluate_one(policy, doc)
    assert finding["status"] == case["expect"]
    if finding["status"] == "FAIL":
        assert finding["evidence"] and all(e["message"] for e in finding["evidence"])
    if finding["status"] == "UNKNOWN":
        assert any("could not evaluate" in e["message"] for e in finding["evidence"])


def test_every_policy_has_pass_fail_and_unknown_cases(builtin_policies):
    expected = {p.id for p in builtin_policies}
    assert {f.stem for f in FILES} == expected
    for policy_id in expected:
        statuses = {c["expect"] for p, c in CASES if p == policy_id}
        assert {"PASS", "FAIL", "UNKNOWN"} <= statuses, policy_id


NETWORK_POLICIES = ("network-no-internet-dicom-ports", "network-no-internet-pacs-web-ports")


def test_network_policies_judge_exactly_the_ports_the_inventory_and_help_name(builtin_policies):
    """cloudscan/ports.py is the one list of imaging ports; the policies are data and must not
    drift from it (they once named 9990 where the code did not)."""
    from cloudscan.ports import DIMSE_PORTS, WEB_PORTS

    policies = [p for p in builtin_policies if p.id in NETWORK_POLICIES]
    doc = build_document("network-no-internet-dicom-ports", {})
    doc["exposure"]["internet"] = True
    doc["rule"]["source"] = "0.0.0.0/0"
    failing = set()
    for port in sorted({*DIMSE_PORTS, *WEB_PORTS, 1, 22, 103, 105, 3389, 8000, 8043, 9989, 9991, 65535}):
        doc["rule"]["from_port"] = doc["rule"]["to_port"] = port
        if any(evaluate_one(p, doc)["status"] == "FAIL" for p in policies):
            failing.add(port)
    assert failing == {*DIMSE_PORTS, *WEB_PORTS}
