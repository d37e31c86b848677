"""The README's custom policy example works as printed."""

import json
import re
from pathlib import Path

import aws_world

from cloudscan.policyset import load_policies
from cloudscan.scan import scan_aws

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_custom_policy_example(tmp_path, guard):
    (example,) = [b for b in re.findall(r"```json\n(.*?)```", README, re.S) if "x-cloudscan" in b]
    (tmp_path / "phi-kms.json").write_text(example)
    policies = load_policies([tmp_path], builtin=False)
    aws_world.build(
        {
            "buckets": {
                "phi-sse-s3": {"tags": {"DataClassification": "PHI"}, "encryption": "AES256"},
                "phi-kms": {"tags": {"DataClassification": "PHI"}, "encryption": "aws:kms"},
                "public-website": {"tags": {"DataClassification": "public"}, "encryption": "AES256"},
                "untagged": {"encryption": "AES256"},
            }
        }
    )
    result = scan_aws(guard.session(), policies, regions=(aws_world.REGION,))
    names = {r["id"]: r["name"] for r in result.resources}
    status = {names[f["resource"]["id"]]: f["status"] for f in result.findings}
    assert status == {
        "phi-sse-s3": "FAIL",
        "phi-kms": "PASS",
        "public-website": "NOT_APPLICABLE",
        "untagged": "NOT_APPLICABLE",
    }
    assert json.loads(example)["x-cloudscan"]["id"] == "org-phi-buckets-use-kms"
