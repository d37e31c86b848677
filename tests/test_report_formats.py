"""Every report can be written whatever the names under scan hold."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cloudscan.cli import cli
from cloudscan.report import Format

ROOT = Path(__file__).resolve().parent.parent

# Names a bucket can be given in Terraform: each would start a formula in a spreadsheet, forge a
# line, break XML or recolour a terminal if it were shown as it is.
HOSTILE_NAMES = {
    "formula": '=HYPERLINK("http://x","click")',
    "plus": "+cmd|' /C calc'!A0",
    "minus": "-2+3",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
    "markup": "<script>alert(1)</script>]]>&amp;\x00\x1b[31mred\ud800\nFORGED LINE: all checks passed",
}
# A Terraform address itself can carry them (the resource's label in .tf.json).
HOSTILE_LABEL = "=cmd\x00<b>]]>\nFORGED"
HOSTILE_SID = "-1+1\x00]]><x/>\ud800\x1b[0m"


# -- the results the reports are written from ------------------------------------------------


@pytest.fixture(scope="module")
def hostile_terraform(tmp_path_factory) -> Path:
    """Buckets named to attack every format, one under a hostile address, one with a public
    policy whose Sid is hostile (it shows as the origin of the evidence)."""
    directory = tmp_path_factory.mktemp("hostile")
    buckets = {key: {"bucket": name} for key, name in HOSTILE_NAMES.items()}
    buckets[HOSTILE_LABEL] = {"bucket": "labelled"}
    statement = {
        "Sid": HOSTILE_SID,
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "*",
    }
    document = {
        "resource": {
            "aws_s3_bucket": buckets,
            "aws_s3_bucket_policy": {
                "markup": {
                    "bucket": "${aws_s3_bucket.markup.id}",
                    "policy": json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
                }
            },
        }
    }
    (directory / "main.tf.json").write_text(json.dumps(document))
    return directory


# -- every format --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [f.value for f in Format])
def test_hostile_names_never_stop_a_report_from_being_written(fmt, hostile_terraform, tmp_path):
    """A lone surrogate in a bucket name once made the text report an internal error (exit 4):
    no encoder can write one."""
    output = tmp_path / "report"
    args = ["scan", "terraform", str(hostile_terraform), "--fail-on", "none", "-o", str(output)]
    result = CliRunner().invoke(cli, [*args, "--format", fmt])
    assert result.exit_code == 0, (result.output, result.exception)
    assert output.read_text(encoding="utf-8")
