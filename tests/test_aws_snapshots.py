"""EBS and RDS snapshots read live: what a refused call leaves unknown, what one failing service
leaves standing, and how many calls a snapshot costs (moto, every call recorded)."""

from __future__ import annotations

from collections import Counter

import aws_world
import pytest
from judged import statuses_by_name

from cloudscan.policyset import select
from cloudscan.scan import scan_aws

SNAPSHOT_POLICIES = ("snapshot-no-public-sharing", "snapshot-no-untrusted-sharing", "snapshot-encrypted")
ESTATE = {
    "snapshots": {
        "pacs-disk-public": {"type": "disk", "public": True},
        "pacs-disk-vendor": {"type": "disk", "encrypted": True, "accounts": ["111122223333"]},
        "pacs-disk-private": {"type": "disk", "encrypted": True},
        "pacs-db-public": {"type": "database", "public": True},
        "pacs-index-private": {"type": "database-cluster", "encrypted": True},
    }
}
ATTRIBUTE_CALLS = (
    ("ec2", "DescribeSnapshotAttribute"),
    ("rds", "DescribeDBSnapshotAttributes"),
    ("rds", "DescribeDBClusterSnapshotAttributes"),
)


def scan(guard, policies, only=SNAPSHOT_POLICIES):
    return scan_aws(guard.session(), select(policies, list(only)), regions=(aws_world.REGION,))


def test_an_unreadable_sharing_attribute_is_unknown_never_a_pass(guard, builtin_policies):
    aws_world.build(ESTATE)
    guard.fail[("ec2", "DescribeSnapshotAttribute")] = "UnauthorizedOperation"

    result = scan(guard, builtin_policies)

    found = statuses_by_name(result)
    for disk in ("pacs-disk-public", "pacs-disk-vendor", "pacs-disk-private"):
        assert found[disk]["snapshot-no-public-sharing"] == "UNKNOWN", disk
        assert found[disk]["snapshot-no-untrusted-sharing"] == "UNKNOWN", disk
    # Encryption comes with the listing: still judged.
    assert found["pacs-disk-public"]["snapshot-encrypted"] == "FAIL"
    assert found["pacs-disk-private"]["snapshot-encrypted"] == "PASS"
    # RDS answered: its snapshots are judged.
    assert found["pacs-db-public"]["snapshot-no-public-sharing"] == "FAIL"
    finding = next(
        f
        for f in result.findings
        if f["resource"]["name"] == "pacs-disk-public" and f["policy_id"] == "snapshot-no-public-sharing"
    )
    assert any("ec2:DescribeSnapshotAttribute" in e["message"] for e in finding["evidence"])


def test_a_service_that_refuses_its_listing_is_an_error_and_the_others_are_scanned(guard, builtin_policies):
    aws_world.build(ESTATE)
    guard.fail[("rds", "DescribeDBSnapshots")] = "AccessDenied"

    result = scan(guard, builtin_policies)

    found = statuses_by_name(result)
    assert found["pacs-disk-public"]["snapshot-no-public-sharing"] == "FAIL"
    assert found["pacs-index-private"]["snapshot-no-public-sharing"] == "PASS"
    assert "pacs-db-public" not in found
    (error,) = result.errors
    assert (error["call"], error["code"], error["resource"]) == (
        "rds:DescribeDBSnapshots",
        "AccessDenied",
        f"region {aws_world.REGION}",
    )


def test_one_listing_per_service_and_one_attribute_read_per_shareable_snapshot(guard, builtin_policies):
    aws_world.build(ESTATE)

    result = scan(guard, builtin_policies)

    calls = Counter(c for c in guard.calls if c[0] in ("ec2", "rds"))
    assert calls[("ec2", "DescribeSnapshots")] == 1
    assert calls[("rds", "DescribeDBSnapshots")] == 1
    assert calls[("rds", "DescribeDBClusterSnapshots")] == 1
    assert calls[("ec2", "DescribeSnapshotAttribute")] == 3  # three disks
    # moto makes an automated snapshot of each new instance and cluster: AWS shares none, so
    # only the manual ones are asked about.
    automated = [r for r in result.resources if (r["snapshot"] or {}).get("creation") == "automated"]
    assert len(automated) == 2
    assert calls[("rds", "DescribeDBSnapshotAttributes")] == 1
    assert calls[("rds", "DescribeDBClusterSnapshotAttributes")] == 1
    assert result.errors == []


def test_without_a_sharing_policy_no_attribute_is_read(guard, builtin_policies):
    aws_world.build(ESTATE)

    result = scan(guard, builtin_policies, only=["snapshot-encrypted"])

    assert not [c for c in guard.calls if c in ATTRIBUTE_CALLS]
    snapshot = next(r for r in result.resources if r["name"] == "pacs-disk-public")
    assert snapshot["sharing"] is None and "/sharing" in snapshot["_meta"]["not_collected"]
    assert statuses_by_name(result)["pacs-disk-public"] == {"snapshot-encrypted": "FAIL"}


@pytest.mark.parametrize("only", [["storage-no-public-read"], ["network-no-internet-dicom-ports"]])
def test_without_a_snapshot_policy_no_snapshot_is_listed(guard, builtin_policies, only):
    aws_world.build(ESTATE)

    scan(guard, builtin_policies, only=only)

    assert not [c for c in guard.calls if "Snapshot" in c[1]]


def test_trusted_accounts_and_the_owner_are_not_foreign(guard, builtin_policies):
    aws_world.build({"snapshots": {"shared": {"type": "disk", "accounts": ["111122223333", "444455556666"]}}})

    result = scan_aws(
        guard.session(),
        select(builtin_policies, ["snapshot-no-untrusted-sharing"]),
        regions=(aws_world.REGION,),
        trusted_accounts=("111122223333",),
    )

    (snapshot,) = [r for r in result.resources if r["name"] == "shared"]
    assert snapshot["exposure"]["cross_account_principals"] == ["444455556666"]
    reasons = {r["detail"]: r["effective"] for r in snapshot["exposure"]["reasons"]["cross_account"]}
    assert reasons == {
        "shared with account 111122223333 (trusted)": False,
        "shared with account 444455556666": True,
    }


def test_a_snapshot_labelled_phi_is_an_archive_in_the_html_report(guard, builtin_policies):
    from cloudscan.report.html_archives import archives, section

    aws_world.build({"snapshots": {"pacs-disk-public": {"type": "disk", "public": True}}})
    aws_world.session().client("ec2").create_tags(
        Resources=[
            s["SnapshotId"]
            for s in aws_world.session()
            .client("ec2")
            .describe_snapshots(Filters=[{"Name": "tag:Name", "Values": ["pacs-disk-public"]}])["Snapshots"]
        ],
        Tags=[{"Key": "DataClassification", "Value": "PHI"}],
    )

    result = scan(guard, builtin_policies)

    (archive,) = archives(result.resources)
    assert archive["name"] == "pacs-disk-public"
    html = section(result.resources)
    assert "Any AWS account can restore it, whole." in html
    assert "Snapshot" in html and 'class="archive exposed"' in html


def test_every_page_of_the_ebs_listing_is_read(guard, builtin_policies):
    """moto answers DescribeSnapshots in one page whatever MaxResults says: two pages are
    answered here instead, as EC2 gives them."""

    def snapshot(n: int) -> dict:
        return {
            "SnapshotId": f"snap-0000000000000000{n}",
            "VolumeId": "vol-1",
            "Encrypted": False,
            "OwnerId": aws_world.ACCOUNT,
            "Tags": [{"Key": "Name", "Value": f"page-{n}"}],
        }

    guard.answers[("ec2", "DescribeSnapshots")] = [
        {"Snapshots": [snapshot(1)], "NextToken": "page-2"},
        {"Snapshots": [snapshot(2)]},
    ]
    guard.answers[("ec2", "DescribeSnapshotAttribute")] = [
        {"CreateVolumePermissions": [{"Group": "all"}]},
        {"CreateVolumePermissions": [{"Group": "all"}]},
    ]

    result = scan(guard, builtin_policies, only=["snapshot-no-public-sharing"])

    assert guard.count("ec2", "DescribeSnapshots") == 2
    found = statuses_by_name(result)
    assert found["page-1"] == found["page-2"] == {"snapshot-no-public-sharing": "FAIL"}


@pytest.mark.parametrize(
    ("state", "expected"),
    [("block-all-sharing", "PASS"), ("block-new-sharing", "FAIL"), ("unblocked", "FAIL")],
)
def test_the_accounts_block_public_access_for_snapshots_neutralises_only_when_it_blocks_all(
    guard, builtin_policies, state, expected
):
    """moto does not implement the call: the test answers for the account."""
    aws_world.build(ESTATE)
    guard.answers[("ec2", "GetSnapshotBlockPublicAccessState")] = [{"State": state}]

    result = scan(guard, builtin_policies)

    found = statuses_by_name(result)
    assert found["pacs-disk-public"]["snapshot-no-public-sharing"] == expected
    assert found["pacs-db-public"]["snapshot-no-public-sharing"] == "FAIL"  # no such guard for RDS
    assert guard.count("ec2", "GetSnapshotBlockPublicAccessState") == 1  # once for the region
    disk = next(r for r in result.resources if r["name"] == "pacs-disk-public")
    (reason,) = disk["exposure"]["reasons"]["public"]
    assert reason["neutralised_by"] == (
        "block public access: block-all-sharing" if expected == "PASS" else None
    )


def test_an_unreadable_block_public_access_leaves_only_public_shares_unknown(guard, builtin_policies):
    aws_world.build(ESTATE)
    guard.fail[("ec2", "GetSnapshotBlockPublicAccessState")] = "UnauthorizedOperation"

    result = scan(guard, builtin_policies)

    found = statuses_by_name(result)
    assert found["pacs-disk-public"]["snapshot-no-public-sharing"] == "UNKNOWN"
    assert found["pacs-disk-private"]["snapshot-no-public-sharing"] == "PASS"
    assert found["pacs-disk-vendor"]["snapshot-no-untrusted-sharing"] == "FAIL"


def test_no_block_public_access_read_where_a_region_holds_no_ebs_snapshot(guard, builtin_policies):
    aws_world.build({"snapshots": {"pacs-db-public": {"type": "database", "public": True}}})

    scan(guard, builtin_policies)

    assert guard.count("ec2", "GetSnapshotBlockPublicAccessState") == 0
