"""The ArmFake's Resource Graph route, driven through a real azure-core pipeline over HTTP: it
answers from the stored resources with the rows and paging Resource Graph gives, and refuses
what it does not understand, so the adapter's tests are about the adapter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from arm_fake import ArmFake, FakeCredential, resource_id
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.resource.subscriptions import SubscriptionClient

SUB = "00000000-0000-0000-0000-0000000000a1"
OTHER = "00000000-0000-0000-0000-0000000000b2"
PATH = "/providers/Microsoft.ResourceGraph/resources"
ACCOUNT = resource_id(SUB, "imaging", "Microsoft.Storage", "storageAccounts", "pacs")
GROUP = resource_id(SUB, "imaging", "Microsoft.Network", "networkSecurityGroups", "pacs")
QUERY = (
    "resources | where type in~ ('microsoft.storage/storageaccounts', "
    "'microsoft.network/networksecuritygroups') | project id, name, type, properties, subscriptionId "
    "| order by id asc"
)


@pytest.fixture
def fake() -> Iterator[ArmFake]:
    with ArmFake() as server:
        server.put(f"/subscriptions/{SUB}")
        server.put(ACCOUNT, {"location": "westeurope", "properties": {"allowBlobPublicAccess": True}})
        server.put(f"{ACCOUNT}/blobServices/default", {"properties": {"isVersioningEnabled": True}})
        server.put(
            f"{ACCOUNT}/blobServices/default/containers/studies", {"properties": {"publicAccess": "Blob"}}
        )
        server.put(GROUP, {"location": "westeurope", "properties": {"securityRules": []}})
        server.put(
            resource_id(OTHER, "x", "Microsoft.Storage", "storageAccounts", "theirs"), {"properties": {}}
        )
        yield server


def post(fake: ArmFake, body: dict[str, Any]) -> Any:
    client = SubscriptionClient(FakeCredential(), **fake.client_kwargs())
    response = client.send_request(HttpRequest("POST", PATH, params={"api-version": "2021-03-01"}, json=body))
    if response.status_code != 200:
        raise HttpResponseError(response=response)
    return response.json()


def test_rows_are_the_stored_resources_of_the_types_resource_graph_carries(fake):
    answer = post(fake, {"subscriptions": [SUB], "query": QUERY, "options": {"$top": 1000}})

    assert answer["totalRecords"] == answer["count"] == 2 and answer["resultTruncated"] == "false"
    assert [(r["name"], r["type"]) for r in answer["data"]] == [
        ("pacs", "microsoft.network/networksecuritygroups"),
        ("pacs", "microsoft.storage/storageaccounts"),
    ]
    assert answer["data"][1] == {
        "id": ACCOUNT,
        "name": "pacs",
        "type": "microsoft.storage/storageaccounts",
        "properties": {"allowBlobPublicAccess": True},
        "subscriptionId": SUB,
    }
    assert fake.violations == []  # the query is a read


def test_blob_services_and_containers_are_not_in_resource_graph(fake):
    query = "resources | where type in~ ('microsoft.storage/storageaccounts/blobservices/containers')"
    assert post(fake, {"subscriptions": [SUB], "query": query})["data"] == []


def test_only_the_subscriptions_asked_and_readable_answer(fake):
    fake.fail(f"/subscriptions/{SUB}", 403, "AuthorizationFailed", "no read")
    query = "resources | where type in~ ('microsoft.storage/storageaccounts') | project name"

    assert post(fake, {"subscriptions": [SUB, OTHER], "query": query})["data"] == [{"name": "theirs"}]
    subscriptions = (
        "resourcecontainers | where type =~ 'microsoft.resources/subscriptions' | project subscriptionId"
    )
    assert (
        post(fake, {"subscriptions": [SUB, OTHER], "query": subscriptions})["data"] == []
    )  # OTHER: not stored


def test_pages_follow_top_and_a_token_serves_its_own_query_only(fake):
    first = post(fake, {"subscriptions": [SUB], "query": QUERY, "options": {"$top": 1}})
    token = first["$skipToken"]

    second = post(fake, {"subscriptions": [SUB], "query": QUERY, "options": {"$top": 1, "$skipToken": token}})

    assert [r["type"] for r in first["data"] + second["data"]] == [
        "microsoft.network/networksecuritygroups",
        "microsoft.storage/storageaccounts",
    ]
    assert "$skipToken" not in second
    with pytest.raises(HttpResponseError) as refused:
        post(fake, {"subscriptions": [OTHER], "query": QUERY, "options": {"$skipToken": token}})
    assert refused.value.status_code == 400


def test_a_query_it_does_not_understand_is_refused(fake):
    with pytest.raises(HttpResponseError) as refused:
        post(fake, {"subscriptions": [SUB], "query": "resources | summarize count() by type"})
    assert refused.value.status_code == 400


def test_any_other_post_is_still_a_violation(fake):
    client = SubscriptionClient(FakeCredential(), **fake.client_kwargs())
    response = client.send_request(
        HttpRequest("POST", f"{ACCOUNT}/listKeys", params={"api-version": "2023-05-01"})
    )

    assert response.status_code == 405
    assert [(m, p.rsplit("/", 1)[-1]) for m, p, _ in fake.violations] == [("POST", "listKeys")]
