"""--shard I/N: which shard holds an id depends on the id alone, every id is in exactly one shard,
and the shards of a live scan partition what the unsharded scan reads."""

from __future__ import annotations

import hashlib

import gcp_world
import pytest
from google_fake import GoogleFake
from hypothesis import given
from hypothesis import strategies as st

from cloudscan.scan import scan_gcp
from cloudscan.shard import Shard, ShardError, shard_of

ACCOUNT_IDS = [f"{n:012d}" for n in range(111111111111, 111111111111 + 7 * 997, 997)]


@pytest.mark.parametrize(
    ("text", "shard"), [("1/4", Shard(1, 4)), ("4/4", Shard(4, 4)), (" 2 / 3 ", Shard(2, 3))]
)
def test_a_shard_is_written_i_of_n_counting_from_one(text, shard):
    assert Shard.parse(text) == shard
    assert str(shard) == f"{shard.index}/{shard.count}"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("0/4", "numbered from 1"),
        ("5/4", "shard 5/4 does not exist"),
        ("1/0", "between 1 and"),
        ("2", "expected I/N"),
        ("a/b", "expected I/N"),
        ("-1/4", "expected I/N"),
        ("1/4/2", "expected I/N"),
    ],
)
def test_a_shard_that_does_not_exist_is_refused_saying_why(text, said):
    with pytest.raises(ShardError, match=said):
        Shard.parse(text)


@given(ids=st.lists(st.text(min_size=1, max_size=40), max_size=60, unique=True), count=st.integers(1, 12))
def test_every_id_is_in_exactly_one_shard(ids, count):
    shards = [Shard(i, count) for i in range(1, count + 1)]
    for unit in ids:
        assert sum(shard.holds(unit) for shard in shards) == 1
    assert sorted(u for shard in shards for u in shard.take(ids)) == sorted(ids)


def test_the_shard_of_an_id_is_a_hash_of_it_alone_not_of_a_listing():
    # The same id lands in the same shard whatever else is listed and in whatever order, so two
    # machines listing an organization a minute apart still agree.
    everyone = Shard(2, 4).take(ACCOUNT_IDS)
    reversed_with_newcomer = Shard(2, 4).take(["999999999999", *reversed(ACCOUNT_IDS)])
    assert sorted(everyone) == sorted(set(reversed_with_newcomer) - {"999999999999"})
    # Pinned: SHA-256 of the id (lower case), its first 8 bytes big-endian, modulo N, plus 1. A
    # change here moves ids between shards of a scan that runs across versions: make it on purpose.
    assert shard_of("123456789012", 4) == int.from_bytes(hashlib.sha256(b"123456789012").digest()[:8]) % 4 + 1
    assert [shard_of(a, 4) for a in ACCOUNT_IDS] == [shard_of(a, 4) for a in ACCOUNT_IDS]


def test_azure_subscription_ids_are_sharded_whatever_their_case():
    sub = "0000AAAA-1111-2222-3333-44445555FFFF"
    assert shard_of(sub, 7) == shard_of(sub.lower(), 7)


def test_the_shards_of_a_gcp_organization_scan_read_each_project_once(builtin_policies):
    firewall = {
        "name": "dicom",
        "allowed": [{"IPProtocol": "tcp", "ports": ["104"]}],
        "sourceRanges": ["0.0.0.0/0"],
    }
    projects = [f"pacs-{n:02d}" for n in range(10)]
    with GoogleFake() as google:
        live = gcp_world.World(google, google.url, "unused")
        for project in projects:
            live.build({"project": project, "firewalls": [firewall]})
            google.put(f"/v3/projects/{project}", {"projectId": project, "parent": "organizations/42"})

        whole = scan_gcp(live.clients(), builtin_policies, organization="42", shard=None)
        shards = [
            scan_gcp(live.clients(), builtin_policies, organization="42", shard=Shard(i, 3))
            for i in (1, 2, 3)
        ]

    read = [{r["account"] for r in shard.resources} for shard in shards]
    assert (
        sorted(p for projects_ in read for p in projects_)
        == projects
        == sorted({r["account"] for r in whole.resources})
    )
    assert [shard.shard for shard in shards] == ["1/3", "2/3", "3/3"] and whole.shard is None
    assert sorted(f["fingerprint"] for s in shards for f in s.findings) == sorted(
        f["fingerprint"] for f in whole.findings
    )
