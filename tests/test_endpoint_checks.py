"""checks/endpoint.py: what the probes' states mean together."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from cloudscan.checks import CheckContext, derive

BASE = json.loads((Path(__file__).parent / "policy_cases/_base/dicomweb.endpoint.json").read_text())


def _derived(access: dict, transport: dict) -> dict:
    doc = copy.deepcopy(BASE)
    doc["access"].update(access)
    doc["transport"].update(transport)
    doc["exposure"] = None
    return derive(doc, CheckContext())["exposure"]


HTTP = {"scheme": "http", "redirects_to_https": False, "tls_versions": None, "certificate": None}


@pytest.mark.parametrize(
    ("authentication", "transport", "expected"),
    [
        ("basic", HTTP, True),
        ("bearer", HTTP, True),  # a token in clear is as reusable as a password
        ("other", HTTP, True),
        ("none", HTTP, False),
        ("basic", {"scheme": "https"}, False),
        ("basic", {**HTTP, "redirects_to_https": True}, False),
        (None, HTTP, None),
    ],
)
def test_credentials_over_plain_http(authentication, transport, expected):
    assert _derived({"authentication": authentication}, transport)["password_in_clear"] is expected


def test_admin_is_open_when_either_the_api_or_the_ui_is():
    exposure = _derived({"rest_api": "protected", "admin_ui": "open"}, {})
    assert exposure["unauthenticated_admin"] is True
    assert _derived({"rest_api": "protected", "admin_ui": None}, {})["unauthenticated_admin"] is None


def test_default_login_not_checked_is_neither_true_nor_unknown():
    doc = copy.deepcopy(BASE)
    doc["access"]["default_credentials"] = "not-checked"
    doc["exposure"] = None
    derive(doc, CheckContext())
    assert doc["exposure"]["default_credentials"] is None
    assert "/exposure/default_credentials" not in doc["_meta"]["unknown"]
