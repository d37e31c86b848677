"""scan gcp --source inventory: buckets' IAM policies from Cloud Asset Inventory (its REST API
through the real discovery client, against the local server), everything else as the API gives
it. Every GCP scenario is judged alike whichever source answered."""

from __future__ import annotations

import json
import re

import gcp_world
import pytest
from google_fake import GoogleFake
from judged import statuses_by_name
from test_gcp_scan import SCENARIOS, world

from cloudscan.scan import scan_gcp

BUCKET_IAM = re.compile(r"/storage/v1/b/[^/]+/iam$")


@pytest.fixture(scope="module")
def emulator():
    with gcp_world.storage_emulator() as url:
        yield url


@pytest.fixture
def fake():
    with GoogleFake() as server:
        yield server
    assert server.violations == [], "the scan sent a write to the Google APIs"


def run(world_: gcp_world.World, policies, source: str):
    return scan_gcp(world_.clients(), policies, projects=(world_.project,), source=source)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_each_scenario_is_judged_alike_from_the_inventory(path, fake, emulator, builtin_policies):
    scenario = json.loads(path.read_text())
    live = world(fake, emulator, scenario["storage"], scenario["spec"]["project"])
    live.build(scenario["spec"])
    live.record_assets()

    from_api = run(live, builtin_policies, "api")
    asked = len(fake.requests)
    from_inventory = run(live, builtin_policies, "inventory")

    assert from_inventory.errors == [] and from_inventory.warnings == []
    assert statuses_by_name(from_inventory) == statuses_by_name(from_api)
    buckets = [d for d in from_inventory.resources if d["kind"] == "storage.bucket"]
    for doc in buckets:
        assert doc["source"]["service"] == "cloud-asset-inventory"
        assert doc["source"]["recorded_at"] == gcp_world.RECORDED_AT
    if buckets and not live.emulated:  # the fake serves storage too: its requests tell
        assert not any(BUCKET_IAM.search(p) for _, p, _ in fake.requests[asked:])


def test_an_inventory_that_cannot_answer_is_replaced_by_the_api(fake, emulator, builtin_policies):
    live = world(fake, emulator, "fake", "pacs-prod")
    live.build(
        {
            "project": "pacs-prod",
            "buckets": {
                "exports": {"iam": [{"role": "roles/storage.objectViewer", "members": ["allUsers"]}]}
            },
        }
    )
    fake.disable_api("/v1/projects/pacs-prod/assets", service="cloudasset.googleapis.com")

    said = run(live, builtin_policies, "inventory")
    quiet = run(live, builtin_policies, "auto")

    assert said.errors == [] and quiet.warnings == []
    [warning] = said.warnings
    assert warning.startswith(
        "cloudasset.assets.list: Cloud Asset Inventory cannot answer for projects/pacs-prod"
    )
    assert statuses_by_name(said)["exports"]["storage-no-public-read"] == "FAIL"


def test_a_recorded_policy_that_cannot_be_read_is_unknown(fake, emulator, builtin_policies):
    live = world(fake, emulator, "fake", "pacs-prod")
    live.build({"project": "pacs-prod", "buckets": {"exports": {}}})
    live.record_assets()
    asset = fake.resources["/v1/projects/pacs-prod/assets/exports"]
    asset["iamPolicy"]["bindings"] = "allUsers"

    found = statuses_by_name(run(live, builtin_policies, "inventory"))

    assert found["exports"]["storage-no-public-read"] == "UNKNOWN"
