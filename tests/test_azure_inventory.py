"""scan azure --source inventory: what Resource Manager lists (storage accounts, network security
groups and the NICs, public IPs, virtual networks and load balancers around them, DICOM services)
from Azure Resource Graph, through the real SDK pipeline against the ArmFake's Resource Graph
route, which answers from the same resources as its Resource Manager routes. Every Azure scenario
is judged alike, and described alike field by field, whichever source answered; the listings
Resource Graph answers are not made live."""

from __future__ import annotations

import json
import re
from pathlib import Path

import azure_world
import pytest
from arm_fake import ArmFake, FakeCredential
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from judged import statuses_by_name

from cloudscan.cli import cli
from cloudscan.model import load_schema, schema_registry
from cloudscan.providers.sampling import Sampling
from cloudscan.scan import scan_azure

SCENARIOS = sorted((Path(__file__).parent / "scenarios" / "azure").glob("*.json"))
GRAPH = "/providers/Microsoft.ResourceGraph/resources"
# The listings Resource Graph stands for: subscription-wide lists, and a workspace's DICOM services.
RECORDED_LISTINGS = re.compile(
    r"/subscriptions/[^/]+/providers/Microsoft\.(Storage/storageAccounts|Network/(networkSecurityGroups|"
    r"publicIPAddresses|virtualNetworks|networkInterfaces|loadBalancers)|HealthcareApis/workspaces)$"
    r"|/dicomservices$",
    re.IGNORECASE,
)
KINDS = {"storage.account", "storage.bucket", "network.ingress", "dicom.store"}


@pytest.fixture
def fake():
    with ArmFake() as server:
        yield server
    assert server.violations == [], "the scan sent something other than a read to Resource Manager"


def run(world: azure_world.World, policies, source: str, **kwargs):
    kwargs.setdefault("subscriptions", (world.subscription,))
    return scan_azure(world.clients(), policies, sampling=Sampling(size=0), source=source, **kwargs)


def described(result) -> dict[str, dict]:
    """Each document by id, without `source` (which says where it came from)."""
    return {d["id"]: {k: v for k, v in d.items() if k != "source"} for d in result.resources}


def graph_posts(fake: ArmFake) -> int:
    return sum(1 for method, path, _ in fake.requests if method == "POST" and path == GRAPH)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_each_scenario_is_judged_and_described_alike_from_resource_graph(path, fake, builtin_policies):
    scenario = json.loads(path.read_text())
    with azure_world.built(fake, scenario["spec"]) as world:
        fake.page_limit = 1  # Resource Manager's lists a page at a time
        fake.graph_page_limit = 2  # and Resource Graph's answers two rows a page

        from_api = run(world, builtin_policies, "api")
        api_requests = list(fake.requests)
        fake.requests.clear()
        from_graph = run(world, builtin_policies, "inventory")

    assert from_graph.errors == from_api.errors == []
    assert from_graph.warnings == []
    assert statuses_by_name(from_graph) == statuses_by_name(from_api)
    assert described(from_graph) == described(from_api)  # field by field
    assert any(RECORDED_LISTINGS.search(p) for _, p, _ in api_requests)
    assert not [p for _, p, _ in fake.requests if RECORDED_LISTINGS.search(p)]
    assert graph_posts(fake) >= 2  # the subscriptions it sees, then the resources
    for doc in from_graph.resources:
        if doc["kind"] in KINDS:
            assert doc["source"]["type"] == "inventory", doc["id"]
            assert doc["source"]["service"] == "azure-resource-graph"
            assert doc["source"]["recorded_at"] and doc["source"]["recorded"]
            schema = Draft202012Validator(load_schema(doc["kind"]), registry=schema_registry())
            assert not list(schema.iter_errors(doc)), doc["id"]  # the model takes what it says
    for doc in from_api.resources:
        assert doc["source"] == {"type": "live"}


def test_a_denied_resource_graph_falls_back_to_resource_manager_with_a_warning(fake, builtin_policies):
    world = azure_world.World(fake)
    world.build({"accounts": {"pacsexports": {"containers": {"studies": {"access": "Container"}}}}})
    fake.fail(GRAPH, 403, "AuthorizationFailed", "no Microsoft.ResourceGraph/resources/read")

    said = run(world, builtin_policies, "inventory")
    quiet = run(world, builtin_policies, "auto")
    live = run(world, builtin_policies, "api")

    assert said.errors == quiet.errors == []
    assert said.warnings == [
        "resourcegraph.resources: Azure Resource Graph cannot answer (AuthorizationFailed: no "
        "Microsoft.ResourceGraph/resources/read); every subscription is read through Resource Manager"
    ]
    assert quiet.warnings == []
    assert statuses_by_name(said) == statuses_by_name(quiet) == statuses_by_name(live)
    assert statuses_by_name(said)["pacsexports/studies"]["storage-no-public-read"] == "FAIL"
    assert {d["source"]["type"] for d in said.resources} == {"live"}


def test_a_subscription_resource_graph_does_not_show_is_read_through_resource_manager(fake, builtin_policies):
    """Resource Graph leaves out, without an error, what the identity may not read: the
    subscription is then read live, so its refusal is an error as without Resource Graph."""
    world = azure_world.World(fake)
    world.build({"accounts": {"ours": {"allow_public": False}}})
    other = "00000000-0000-0000-0000-0000000000b2"
    fake.put(f"/subscriptions/{other}")
    fake.fail(f"/subscriptions/{other}/", 403, "AuthorizationFailed", "no read access to the subscription")

    result = run(world, builtin_policies, "inventory", subscriptions=(world.subscription, other))

    assert result.warnings == [
        f"resourcegraph.resources: Azure Resource Graph does not answer for subscriptions {other}; "
        "they are read through Resource Manager"
    ]
    assert {(e["resource"], e["code"]) for e in result.errors} == {
        (f"subscriptions/{other}", "AuthorizationFailed")
    }
    assert [(r["name"], r["source"]["type"]) for r in result.resources] == [("ours", "inventory")]


def test_answers_come_a_page_at_a_time_with_skip_tokens(fake, builtin_policies):
    world = azure_world.World(fake)
    world.build({"accounts": {f"study{i:02d}": {"allow_public": i % 2 == 0} for i in range(25)}})
    fake.graph_page_limit = 10

    result = run(
        world, [p for p in builtin_policies if p.id == "azure-storage-account-no-public-access"], "inventory"
    )

    found = statuses_by_name(result)
    assert len(found) == 25 and found["study00"]["azure-storage-account-no-public-access"] == "FAIL"
    queries = [q for q in fake.graph_queries if q["query"].startswith("resources")]
    assert [q["options"].get("$skipToken") is not None for q in queries] == [False, True, True]
    # Each page asks the same query of the same subscriptions, as Resource Graph requires.
    assert len({json.dumps([q["query"], q["subscriptions"], q["options"]["$top"]]) for q in queries}) == 1


def test_every_subscription_is_in_the_same_two_queries(fake, builtin_policies):
    subscriptions = [f"00000000-0000-0000-0000-0000000000c{i}" for i in range(3)]
    for subscription in subscriptions:
        azure_world.World(fake, subscription).build({"accounts": {f"pacs{subscription[-1]}": {}}})
    clients = azure_world.World(fake, subscriptions[0]).clients()

    result = scan_azure(
        clients,
        builtin_policies,
        subscriptions=tuple(subscriptions),
        sampling=Sampling(size=0),
        source="inventory",
    )

    assert sorted(r["account"] for r in result.resources if r["kind"] == "storage.account") == subscriptions
    assert graph_posts(fake) == 2
    assert all(q["subscriptions"] == subscriptions for q in fake.graph_queries)


def test_cli_reads_resource_graph_and_says_so(fake, monkeypatch, tmp_path):
    world = azure_world.World(fake)
    world.build({"accounts": {"pacsexports": {"containers": {"studies": {"access": "Container"}}}}})
    monkeypatch.setattr(
        "cloudscan.providers.azure.clients.load_credential", lambda tenant=None: FakeCredential()
    )
    report = tmp_path / "report.json"
    args = [
        "scan",
        "azure",
        "--subscription",
        world.subscription,
        "--arm-endpoint",
        fake.url,
        "--sample",
        "0",
    ]

    outcome = CliRunner().invoke(cli, [*args, "--source", "inventory", "--format", "json", "-o", str(report)])

    assert outcome.exit_code == 1, outcome.output
    resources = {r["name"]: r for r in json.loads(report.read_text())["resources"]}
    account, container = resources["pacsexports"], resources["pacsexports/studies"]
    assert account["source"]["service"] == "azure-resource-graph" and account["source"]["recorded_at"]
    assert "/allow_public_containers" in account["source"]["recorded"]
    assert (
        "/access/guards" in container["source"]["recorded"]
        and "/versioning" not in container["source"]["recorded"]
    )
    assert graph_posts(fake) == 2


def test_least_privilege_adds_resource_graph_only_for_the_inventory_source():
    def actions(*args: str) -> set[str]:
        outcome = CliRunner().invoke(cli, ["permissions", "azure", *args])
        assert outcome.exit_code == 0, outcome.output
        return set(json.loads(outcome.output)["Actions"])

    with_graph = actions("--source", "inventory")
    assert "Microsoft.ResourceGraph/resources/read" in with_graph
    assert "Microsoft.ResourceGraph/resources/read" not in actions()
    # Resource Graph shows only what the identity may read: the listings' permissions stay.
    assert "Microsoft.Storage/storageAccounts/read" in with_graph


def test_the_role_generated_for_the_inventory_source_covers_every_request_of_such_a_scan(
    fake, builtin_policies
):
    world = azure_world.World(fake)
    world.build(
        {
            "accounts": {
                "pacsfenced": {"allow_public": False, "containers": {"exports": {"access": "Blob"}}}
            },
            "nsgs": {"pacs": {"rules": [{"name": "dicom", "priority": 100, "source": "*", "port": "104"}]}},
            "network": {
                "vnets": {"pacs": {"scale": {"nsg": "pacs"}}},
                "scale_sets": {"viewers": {"subnet": "pacs/scale", "instances": ["203.0.113.20"]}},
            },
            "dicom": {"imaging/workspace": {"archive": {"origins": ["*"]}}},
        }
    )

    assert run(world, builtin_policies, "inventory").errors == []

    def operation(method: str, path: str) -> str:
        if method == "POST":
            assert path == GRAPH
            return "microsoft.resourcegraph/resources/read"
        lower = path.strip("/").lower().split("/")
        if "providers" not in lower:
            return "/".join(["microsoft.resources", *lower[0::2], "read"])
        at = len(lower) - 1 - lower[::-1].index("providers")
        return "/".join([lower[at + 1], *lower[at + 2 :][0::2], "read"])

    outcome = CliRunner().invoke(cli, ["permissions", "azure", "--source", "inventory", "--sample", "0"])
    role = {a.lower() for a in json.loads(outcome.output)["Actions"]}
    made = {operation(method, path) for method, path, _ in fake.requests}
    assert made <= role, sorted(made - role)
    assert "microsoft.resourcegraph/resources/read" in made


def test_an_answer_cut_short_is_not_taken_for_the_whole(fake, builtin_policies):
    """Resource Graph says resultTruncated with no $skipToken when it cannot page: what is
    missing cannot be told from what does not exist, so Resource Manager is read instead."""
    world = azure_world.World(fake)
    world.build({"accounts": {f"study{i}": {"allow_public": True} for i in range(3)}})
    fake.graph_page_limit, fake.graph_cut_short = 2, True

    result = run(world, builtin_policies, "inventory")

    assert [w.split(" (")[0] for w in result.warnings] == [
        "resourcegraph.resources: Azure Resource Graph cannot answer"
    ]
    assert "cut its answer short" in result.warnings[0]
    assert sorted(r["name"] for r in result.resources) == ["study0", "study1", "study2"]
    assert {r["source"]["type"] for r in result.resources} == {"live"}


def test_scale_sets_are_read_live_beside_the_recorded_network(fake, builtin_policies):
    """Resource Graph's `resources` table has no scale set NICs: they are listed live, and the
    addresses that reach each group are the same as from Resource Manager alone."""
    rule = {"name": "dicom", "priority": 100, "source": "*", "port": "104"}
    world = azure_world.World(fake)
    world.build(
        {
            "nsgs": {"vm": {"rules": [rule]}, "viewers": {"rules": [rule]}, "tier": {"rules": [rule]}},
            "network": {
                "vnets": {"pacs": {"dmz": {"nsg": "tier"}}},
                "nics": {"pacs-vm": {"subnet": "pacs/dmz", "nsg": "vm", "public_ip": "20.50.1.2"}},
                "scale_sets": {
                    "viewer": {"subnet": "pacs/dmz", "nsg": "viewers", "instances": ["20.50.3.1", None]}
                },
                "load_balancers": {
                    "front": {"public_ip": "20.50.2.2", "backends": ["viewer/0", "viewer/1"]},
                    "dimse": {"public_ip": "20.50.4.4", "nat": {"pacs-vm": 11112}},
                },
            },
        }
    )

    from_api = run(world, builtin_policies, "api")
    fake.requests.clear()
    from_graph = run(world, builtin_policies, "inventory")

    assert from_graph.errors == [] and described(from_graph) == described(from_api)
    addresses = {d["group"]["name"]: d["addresses"] for d in from_graph.resources}
    assert addresses["tier"] == ["20.50.1.2", "20.50.2.2", "20.50.3.1", "20.50.4.4"]
    live = [p.lower() for _, p, _ in fake.requests]
    assert any(p.endswith("/virtualmachinescalesets/viewer/networkinterfaces") for p in live)
    assert not any(
        p.endswith(("/networkinterfaces", "/loadbalancers")) and "scalesets" not in p for p in live
    )
