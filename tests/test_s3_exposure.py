"""The exposure fact for S3, case by case (cases/s3_exposure.json), through moto."""

import json
from pathlib import Path

import aws_world
import pytest
from moto import mock_aws

from cloudscan.scan import scan_aws

TABLE = json.loads((Path(__file__).parent / "cases" / "s3_exposure.json").read_text())["cases"]


def test_table_is_big_enough():
    assert len(TABLE) >= 25


@pytest.mark.parametrize("case", TABLE, ids=[c["name"] for c in TABLE])
def test_exposure(case, builtin_policies):
    with mock_aws():
        aws_world.build(
            {
                "account_block_public_access": case.get("account_block_public_access"),
                "buckets": {"case-bucket": case["bucket"]},
                "distributions": case.get("distributions", {}),
            }
        )
        session = aws_world.session()
        if case.get("unknown_owner"):
            guard = aws_world.CallGuard()
            guard.fail[("sts", "GetCallerIdentity")] = "AccessDenied"
            guard.install(session)
        result = scan_aws(session, builtin_policies, regions=(aws_world.REGION,))
    (bucket,) = [r for r in result.resources if r["name"] == "case-bucket"]
    exposure = bucket["exposure"]
    assert {fact: exposure[fact] for fact in case["expect"]} == case["expect"], case["why"]
    for fact, value in case["expect"].items():
        if value:  # a True fact must say which grant made it so
            assert any(r["effective"] for r in exposure["reasons"][fact]), fact
